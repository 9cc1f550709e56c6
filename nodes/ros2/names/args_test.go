package names

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	a, err := ParseArgs(strings.Fields(
		"--model m.pt --ros-args -r __node:=estimator -r __ns:=/robot -r image:=/camera/image_raw " +
			"-r rssmd:~/latent:=/state --remap=other:x:=y -p rate:=20.0 -p int8:=true --param frame_id:=cam " +
			"-p sizes:=[1,2,3] --params-file p.yaml --log-level debug --log-level rssmd.rtps:=WARN " +
			"-e /secure --enable-rosout-logs --disable-stdout-logs -- --verbose"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Args{
		Remaps: []Remap{
			{From: "__node", To: "estimator"}, {From: "__ns", To: "/robot"},
			{From: "image", To: "/camera/image_raw"}, {Node: "rssmd", From: "~/latent", To: "/state"},
			{Node: "other", From: "x", To: "y"},
		},
		Params: []Param{
			{Name: "rate", Value: 20.0}, {Name: "int8", Value: true}, {Name: "frame_id", Value: "cam"},
			{Name: "sizes", Value: []int64{1, 2, 3}},
		},
		ParamsFiles: []string{"p.yaml"},
		LogLevels:   map[string]string{"": "debug", "rssmd.rtps": "warn"},
		Enclave:     "/secure",
		Switches:    map[string]bool{"rosout-logs": true, "stdout-logs": false},
		Rest:        []string{"--model", "m.pt", "--verbose"},
	}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("got  %+v\nwant %+v", a, want)
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct{ args, quote string }{
		{"--ros-args --bogus", `unknown option "--bogus"`},
		{"--ros-args -x", `unknown option "-x"`},
		{"--ros-args --enable-bogus-logs", `unknown option "--enable-bogus-logs"`},
		{"--ros-args -r", "-r needs a value"},
		{"--ros-args -p --", "-p needs a value"},
		{"--ros-args -r foo", `remap rule "foo" has no :=`},
		{"--ros-args -r :=x", "empty name"},
		{"--ros-args -r a:=b/", "ends with /"},
		{"--ros-args -r __node:=9x", "starts with a digit"},
		{"--ros-args -r __ns:=robot", "not absolute"},
		{"--ros-args -r bad-node:a:=b", "node name"},
		{"--ros-args -p x:=[1,a]", "mixes types"},
		{"--ros-args -p x:={a:1}", "mapping"},
		{"--ros-args -p x:=[[1]]", "nested sequence"},
		{"--ros-args --log-level loud", `level "loud"`},
		{"--ros-args -e relative", "not absolute"},
	}
	for _, tc := range tests {
		_, err := ParseArgs(strings.Fields(tc.args))
		if !errors.Is(err, ErrArgs) || !strings.Contains(err.Error(), tc.quote) {
			t.Errorf("%q: err = %v, want one saying %q", tc.args, err, tc.quote)
		}
	}
	// Outside --ros-args nothing is an error: it is the program's.
	a, err := ParseArgs([]string{"--bogus", "-r", "x"})
	if err != nil || len(a.Rest) != 3 {
		t.Fatalf("%v %v", a, err)
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"true", true}, {"False", false}, {"yes", true}, {"OFF", false},
		{"42", int64(42)}, {"-7", int64(-7)}, {"0x10", int64(16)},
		{"2.5", 2.5}, {"1e3", 1000.0}, {"-.inf", math.Inf(-1)},
		{"hello", "hello"}, {`"42"`, "42"}, {"'true'", "true"}, {"", ""}, {"a b", "a b"},
		{"[true, false]", []bool{true, false}}, {"[1, 2]", []int64{1, 2}},
		{"[1.5, 2.0]", []float64{1.5, 2}}, {"[a, 'b']", []string{"a", "b"}},
		{"[]", []string{}},
	}
	for _, tc := range tests {
		got, err := ParseValue(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseValue(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
	if v, err := ParseValue(".nan"); err != nil || !math.IsNaN(v.(float64)) {
		t.Errorf(".nan = %v %v", v, err)
	}
	if _, err := ParseValue("[1, 2.5]"); err == nil {
		t.Error("[1, 2.5] mixes int and double: rcl rejects it")
	}
}

const paramsYAML = `
/**:
  ros__parameters:
    rate: 10.0
    frame_id: base
/robot/estimator:
  ros__parameters:
    rate: 50.0
    camera:
      width: 640
      formats: [YUYV, MJPEG]
robot:
  other:
    ros__parameters:
      rate: 1.0
/*/estimator:
  ros__parameters:
    int8: true
`

func TestParamsFile(t *testing.T) {
	pf, err := ParseParamsFile([]byte(paramsYAML))
	if err != nil {
		t.Fatal(err)
	}
	got := pf.For("/robot/estimator")
	want := map[string]any{"rate": 50.0, "frame_id": "base", "camera.width": int64(640),
		"camera.formats": []string{"YUYV", "MJPEG"}, "int8": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if got := pf.For("/robot/other"); got["rate"] != 1.0 || got["int8"] != nil {
		t.Fatalf("nested namespace section: %v", got)
	}
	if got := pf.For("/estimator"); got["rate"] != 10.0 || got["int8"] != nil {
		t.Fatalf("/** only: %v", got)
	}
	for _, bad := range []struct{ yaml, quote string }{
		{"- a\n- b\n", "top level"},
		{"node:\n  ros__parameters:\n    x: [1, a]\n", "parameter x"},
		{"node: 3\n", `"node" must hold ros__parameters`},
		{"ros__parameters:\n  x: 1\n", "outside a node"},
		{"a: [\n", "yaml"},
	} {
		if _, err := ParseParamsFile([]byte(bad.yaml)); err == nil || !strings.Contains(err.Error(), bad.quote) {
			t.Errorf("%q: err = %v, want %q", bad.yaml, err, bad.quote)
		}
	}
}

func TestMatchNode(t *testing.T) {
	tests := []struct {
		pattern, fqn string
		want         bool
	}{
		{"/**", "/a", true}, {"/**", "/a/b/c", true}, {"/**/c", "/a/b/c", true}, {"/**/c", "/c", true},
		{"/*/c", "/a/c", true}, {"/*/c", "/c", false}, {"/*/c", "/a/b/c", false},
		{"/a/b", "/a/b", true}, {"/a/b", "/a/bb", false}, {"/a/**", "/a", true},
	}
	for _, tc := range tests {
		if got := matchNode(tc.pattern, tc.fqn); got != tc.want {
			t.Errorf("matchNode(%q, %q) = %v", tc.pattern, tc.fqn, got)
		}
	}
}

func TestNode(t *testing.T) {
	dir := t.TempDir()
	pfile := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(pfile, []byte(paramsYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := ParseArgs(strings.Fields("--ros-args -r rssmd:__node:=estimator -r __ns:=/robot " +
		"-r image:=/camera/image_raw -r estimator:~/latent:=state -r rssmd:quality:=/never " +
		"-r other:action:=/x --params-file " + pfile + " -p rate:=20.0 -p other:rate:=3.0"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNode("rssmd", "", a)
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "estimator" || n.Namespace != "/robot" || n.FQN() != "/robot/estimator" {
		t.Fatalf("node %q in %q", n.Name, n.Namespace)
	}
	for in, want := range map[string]string{
		"image":                   "/camera/image_raw", // relative rule, relative name
		"/robot/image":            "/camera/image_raw", // the rule matches the expanded name
		"~/latent":                "/robot/state",      // node-specific rule for the new name
		"/robot/estimator/latent": "/robot/state",
		"quality":                 "/robot/quality", // rule for the old name does not apply
		"action":                  "/robot/action",  // rule for another node
		"~/predicted_image":       "/robot/estimator/predicted_image",
	} {
		got, err := n.Resolve(in)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := n.Resolve("bad name"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Resolve of an invalid name: %v", err)
	}
	params, err := n.Params(a)
	if err != nil {
		t.Fatal(err)
	}
	if params["rate"] != 20.0 || params["int8"] != true || params["camera.width"] != int64(640) {
		t.Fatalf("params %v", params)
	}
	if _, err := NewNode("rssmd", "/", &Args{ParamsFiles: []string{filepath.Join(dir, "missing.yaml")}}); err != nil {
		t.Fatal(err)
	}
	n2, _ := NewNode("rssmd", "robot", nil)
	if n2.Namespace != "/robot" {
		t.Fatalf("relative namespace %q", n2.Namespace)
	}
	if _, err := n2.Params(&Args{ParamsFiles: []string{filepath.Join(dir, "missing.yaml")}}); err == nil {
		t.Fatal("missing params file read")
	}
	if _, err := NewNode("9", "/", nil); err == nil {
		t.Fatal("invalid node name accepted")
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("--ros-args\x00-r\x00a:=b\x00-p\x00x:=[1,2]\x00--log-level\x00info")
	f.Add("--ros-args\x00-p\x00n:x:={a: [1, {b: 2}]}")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseArgs(strings.Split(s, "\x00"))
		if err == nil {
			n, err := NewNode("fuzz", "/", a)
			if err == nil {
				_, _ = n.Resolve("x")
			}
		}
	})
}

func FuzzParamsFile(f *testing.F) {
	f.Add([]byte(paramsYAML))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pf, err := ParseParamsFile(b); err == nil {
			pf.For("/a/b")
		}
	})
}

func FuzzExpand(f *testing.F) {
	f.Add("~/x/{node}", "n", "/a")
	f.Fuzz(func(t *testing.T, name, node, ns string) {
		fqn, err := Expand(name, node, ns)
		if err == nil && ValidateFullName(fqn) != nil {
			t.Fatalf("Expand(%q, %q, %q) = %q, not a valid full name", name, node, ns, fqn)
		}
	})
}
