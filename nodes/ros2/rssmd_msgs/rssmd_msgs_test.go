package rssmd_msgs

import (
	"encoding/xml"
	"io/fs"
	"os"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/rssmd/rssmd/nodes/ros2/msg"
)

// goTypes maps each ROS type of this package to its Go type in nodes/ros2/msg.
var goTypes = map[string]msg.Message{
	"rssmd_msgs/msg/LatentState":      &msg.LatentState{},
	"rssmd_msgs/msg/Quality":          &msg.Quality{},
	"rssmd_msgs/msg/Reward":           &msg.Reward{},
	"rssmd_msgs/srv/Imagine_Request":  &msg.ImagineRequest{},
	"rssmd_msgs/srv/Imagine_Response": &msg.ImagineResponse{},
}

// parsed reads every .msg and .srv file into descriptions, by full type name.
func parsed(t *testing.T) map[string]msg.TypeDescription {
	t.Helper()
	out := map[string]msg.TypeDescription{}
	err := fs.WalkDir(Definitions, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Definitions, p)
		if err != nil {
			return err
		}
		base := strings.TrimSuffix(path.Base(p), path.Ext(p))
		switch path.Ext(p) {
		case ".msg":
			td, err := msg.ParseMessage("rssmd_msgs/msg/"+base, string(b))
			if err != nil {
				return err
			}
			out[td.Name] = td
		case ".srv":
			tds, err := msg.ParseService("rssmd_msgs/srv/"+base, string(b))
			if err != nil {
				return err
			}
			for _, td := range tds {
				out[td.Name] = td
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFilesMatchRegistry: the descriptions msg hashes (msg.Registry) are the files', so the
// hashes rssmd announces are the ones colcon-built clients compute.
func TestFilesMatchRegistry(t *testing.T) {
	files := parsed(t)
	if len(files) != 3+4 {
		t.Fatalf("parsed %d types, want 3 messages + Imagine's 4", len(files))
	}
	for name, td := range files {
		if got, ok := msg.Registry[name]; !ok || !reflect.DeepEqual(got, td) {
			t.Errorf("%s:\n file     %+v\n registry %+v", name, td.Fields, got.Fields)
		}
	}
	for name := range msg.Registry {
		if strings.HasPrefix(name, "rssmd_msgs/") && files[name].Name == "" {
			t.Errorf("%s is in the registry but has no file", name)
		}
	}
}

// TestGoTypesMatchFiles: each Go struct has the file's fields, in order, with Go types that
// carry the ROS types (and Marshal follows struct order: msg's reflect encoder test).
func TestGoTypesMatchFiles(t *testing.T) {
	files := parsed(t)
	for name, m := range goTypes {
		td := files[name]
		if m.Type().ROSName != name {
			t.Errorf("%T names itself %s, want %s", m, m.Type().ROSName, name)
		}
		rt := reflect.TypeOf(m).Elem()
		var goFields []reflect.StructField
		for i := range rt.NumField() {
			goFields = append(goFields, rt.Field(i))
		}
		if len(goFields) != len(td.Fields) {
			t.Errorf("%s: Go has %d fields, the file %d", name, len(goFields), len(td.Fields))
			continue
		}
		for i, f := range td.Fields {
			gf := goFields[i]
			if snake(gf.Name) != f.Name {
				t.Errorf("%s field %d: Go %s (%s), file %s", name, i, gf.Name, snake(gf.Name), f.Name)
			}
			if want := goKind(f.Type); want != gf.Type.String() {
				t.Errorf("%s.%s: Go type %s, the file's %+v wants %s", name, f.Name, gf.Type, f.Type, want)
			}
		}
	}
}

// snake turns a Go field name into the ROS one: FrameID → frame_id, ZscoreKl → zscore_kl.
func snake(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		if unicode.IsUpper(c) {
			prevLower := i > 0 && !unicode.IsUpper(r[i-1])
			nextLower := i > 0 && i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

func goKind(ft msg.FieldType) string {
	elem := map[uint8]string{
		msg.TypeUint8: "uint8", msg.TypeByte: "uint8", msg.TypeUint32: "uint32", msg.TypeUint64: "uint64",
		msg.TypeInt32: "int32", msg.TypeFloat: "float32", msg.TypeDouble: "float64", msg.TypeBoolean: "bool",
		msg.TypeString: "string",
	}
	goNested := map[string]string{"std_msgs/msg/Header": "msg.Header", "sensor_msgs/msg/Image": "msg.Image"}
	id := ft.TypeID
	prefix := ""
	if id > msg.SeqOffset {
		id -= msg.SeqOffset
		prefix = "[]"
	}
	if id == msg.TypeNested {
		return prefix + goNested[ft.NestedTypeName]
	}
	return prefix + elem[id]
}

// TestPackageFiles: the colcon package lists every interface file and the dependencies the
// files use.
func TestPackageFiles(t *testing.T) {
	cm, err := os.ReadFile("CMakeLists.txt")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, dir := range []string{"msg", "srv"} {
		entries, _ := fs.ReadDir(Definitions, dir)
		for _, e := range entries {
			listed = append(listed, dir+"/"+e.Name())
			if !strings.Contains(string(cm), `"`+dir+"/"+e.Name()+`"`) {
				t.Errorf("CMakeLists.txt does not list %s/%s", dir, e.Name())
			}
		}
	}
	if !slices.Contains(listed, "msg/Reward.msg") || !strings.Contains(string(cm), "DEPENDENCIES std_msgs sensor_msgs") {
		t.Errorf("CMakeLists.txt: %s", cm)
	}
	px, err := os.ReadFile("package.xml")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Format    string   `xml:"format,attr"`
		Name      string   `xml:"name"`
		Depend    []string `xml:"depend"`
		Buildtool []string `xml:"buildtool_depend"`
		Group     []string `xml:"member_of_group"`
	}
	if err := xml.Unmarshal(px, &pkg); err != nil {
		t.Fatal(err)
	}
	if pkg.Format != "3" || pkg.Name != "rssmd_msgs" || !slices.Contains(pkg.Depend, "std_msgs") ||
		!slices.Contains(pkg.Depend, "sensor_msgs") || !slices.Contains(pkg.Buildtool, "rosidl_default_generators") ||
		!slices.Contains(pkg.Group, "rosidl_interface_packages") {
		t.Errorf("package.xml: %+v", pkg)
	}
}
