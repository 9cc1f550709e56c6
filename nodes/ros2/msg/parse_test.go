package msg

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/nodes/ros2/cdr"
)

// TestRegistryMatchesUpstream parses the upstream definitions in testdata/interfaces and
// compares them with Registry (rssmd_msgs is checked in nodes/ros2/rssmd_msgs).
func TestRegistryMatchesUpstream(t *testing.T) {
	root := "testdata/interfaces"
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) == ".md" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		name := strings.TrimSuffix(filepath.ToSlash(rel), filepath.Ext(p))
		var tds []TypeDescription
		if filepath.Ext(p) == ".srv" {
			tds, err = ParseService(name, string(b))
		} else {
			var td TypeDescription
			td, err = ParseMessage(name, string(b))
			tds = []TypeDescription{td}
		}
		if err != nil {
			return err
		}
		for _, td := range tds {
			n++
			if got := Registry[td.Name]; !reflect.DeepEqual(got, td) {
				t.Errorf("%s:\n upstream %+v\n registry %+v", td.Name, td.Fields, got.Fields)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 18 {
		t.Fatalf("checked %d types, want 18", n)
	}
}

func TestParseMessage(t *testing.T) {
	td, err := ParseMessage("p/msg/T", `
# comment
uint8 A=1   # a constant
string S="x#y"
int32[] a
string<=5 b      # bounded
string<=5[<=3] c
float64[4] d
Other e
q/Thing[] f
char g
byte h
wstring<=7 i
bool[<=2] j
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{
		{"a", FieldType{TypeID: TypeInt32 + SeqOffset}},
		{"b", FieldType{TypeID: TypeBoundedString, StringCapacity: 5}},
		{"c", FieldType{TypeID: TypeBoundedString + BoundedSeqOffset, Capacity: 3, StringCapacity: 5}},
		{"d", FieldType{TypeID: TypeDouble + ArrayOffset, Capacity: 4}},
		{"e", FieldType{TypeID: TypeNested, NestedTypeName: "p/msg/Other"}},
		{"f", FieldType{TypeID: TypeNested + SeqOffset, NestedTypeName: "q/msg/Thing"}},
		{"g", FieldType{TypeID: TypeUint8}},
		{"h", FieldType{TypeID: TypeByte}},
		{"i", FieldType{TypeID: TypeBoundedWString, StringCapacity: 7}},
		{"j", FieldType{TypeID: TypeBoolean + BoundedSeqOffset, Capacity: 2}},
	}
	if !reflect.DeepEqual(td.Fields, want) {
		t.Fatalf("got  %+v\nwant %+v", td.Fields, want)
	}
	empty, err := ParseMessage("p/msg/E", "# nothing\n")
	if err != nil || !reflect.DeepEqual(empty.Fields, []Field{emptyStructField}) {
		t.Fatalf("empty message: %+v %v", empty, err)
	}
	for _, bad := range []struct{ text, quote string }{
		{"int32", "want TYPE NAME"},
		{"int32 Bad", "lowercase letter"},
		{"int32 a__b", "double or trailing underscore"},
		{"int32 a_", "double or trailing underscore"},
		{"int32[ a", "unclosed ["},
		{"int32[x] a", "bad array size"},
		{"int32[<=0] a", "bad sequence bound"},
		{"int32<=3 a", "bad string bound"},
		{"lower/case a", "neither a primitive"},
		{"int32 a\nint32 a", `field "a" repeated`},
	} {
		if _, err := ParseMessage("p/msg/T", bad.text); err == nil || !strings.Contains(err.Error(), bad.quote) {
			t.Errorf("%q: err = %v, want %q", bad.text, err, bad.quote)
		}
	}
	if _, err := ParseService("p/srv/S", "int32 a\n"); err == nil {
		t.Error("service without --- accepted")
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add("std_msgs/Header header\nfloat32[<=3] a\nstring<=4[2] b\n")
	f.Fuzz(func(t *testing.T, text string) {
		if td, err := ParseMessage("p/msg/T", text); err == nil && len(td.Fields) == 0 {
			t.Fatal("a parsed message has no fields")
		}
		_, _ = ParseService("p/srv/S", text)
	})
}

// fill sets every field of v to a distinct value (slices get two elements), so a Marshal
// that skips, repeats or reorders a field writes different bytes than reflectEncode.
func fill(v reflect.Value, next *byte) {
	*next++
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Name != "GidSize" {
				fill(v.Field(i), next)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), next)
		}
	case reflect.Array:
		for i := range min(v.Len(), GidSizeIron) { // the only array is Gid's, sent with 16 bytes
			fill(v.Index(i), next)
		}
	case reflect.String:
		v.SetString(strings.Repeat("s", int(*next%7)))
	case reflect.Bool:
		v.SetBool(*next%2 == 1)
	case reflect.Int32:
		v.SetInt(-int64(*next))
	case reflect.Uint8, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*next))
	case reflect.Float32:
		v.SetFloat(float64(*next) + 0.5)
	}
}

// reflectEncode writes v's fields in struct order with the CDR rules: the reference that
// ties each hand-written Marshal to its struct (whose order the .msg tests check).
func reflectEncode(e *cdr.Encoder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(Gid{}) {
			e.OctetArray(v.Field(0).Slice(0, GidSizeIron).Bytes())
			return
		}
		if v.NumField() == 0 {
			e.Uint8(0) // structure_needs_at_least_one_member
		}
		for i := range v.NumField() {
			if v.Type().Field(i).Name != "GidSize" {
				reflectEncode(e, v.Field(i))
			}
		}
	case reflect.Slice:
		e.SeqLen(v.Len())
		for i := range v.Len() {
			reflectEncode(e, v.Index(i))
		}
	case reflect.String:
		e.String(v.String())
	case reflect.Bool:
		e.Bool(v.Bool())
	case reflect.Int32:
		e.Int32(int32(v.Int()))
	case reflect.Uint8:
		e.Uint8(uint8(v.Uint()))
	case reflect.Uint32:
		e.Uint32(uint32(v.Uint()))
	case reflect.Uint64:
		e.Uint64(v.Uint())
	case reflect.Float32:
		e.Float32(float32(v.Float()))
	default:
		panic("reflectEncode: unhandled " + v.Type().String())
	}
}

func TestMarshalFollowsStructOrder(t *testing.T) {
	for _, m := range []Message{
		&Time{}, &Header{}, &MultiArrayDimension{}, &MultiArrayLayout{}, &Float32MultiArray{},
		&Image{}, &CompressedImage{}, &KeyValue{}, &DiagnosticStatus{}, &DiagnosticArray{},
		&TriggerRequest{}, &TriggerResponse{}, &NodeEntitiesInfo{}, &ParticipantEntitiesInfo{},
		&LatentState{}, &Quality{}, &Reward{}, &ImagineRequest{}, &ImagineResponse{},
	} {
		var next byte
		fill(reflect.ValueOf(m).Elem(), &next)
		var want cdr.Encoder
		want.Reset(nil)
		reflectEncode(&want, reflect.ValueOf(m).Elem())
		var got cdr.Encoder
		got.Reset(nil)
		m.Marshal(&got)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: Marshal does not follow the struct's field order\ngot  % x\nwant % x", m.Type().ROSName, got.Bytes(), want.Bytes())
		}
		back := newLike(m)
		if err := Decode(Encode(nil, m), back); err != nil {
			t.Errorf("%s: %v", m.Type().ROSName, err)
			continue
		}
		normalize(back)
		normalize(m)
		if !reflect.DeepEqual(back, m) {
			t.Errorf("%s: filled round trip differs:\n%+v\n%+v", m.Type().ROSName, back, m)
		}
	}
}
