package rssmd_msgs

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"

	"github.com/bluenviron/goroslib/v2/pkg/msgproc"
	"github.com/bluenviron/goroslib/v2/pkg/serviceproc"
)

// Definitions of the standard messages ours depend on, as published in ROS's std_msgs and
// sensor_msgs packages (comments dropped).
var stdDefs = map[string]string{
	"std_msgs/Header": "uint32 seq\ntime stamp\nstring frame_id\n",
	"sensor_msgs/Image": "Header header\nuint32 height\nuint32 width\nstring encoding\n" +
		"uint8 is_bigendian\nuint32 step\nuint8[] data\n",
}

var builtin = map[string]bool{
	"bool": true, "byte": true, "char": true, "int8": true, "uint8": true, "int16": true,
	"uint16": true, "int32": true, "uint32": true, "int64": true, "uint64": true,
	"float32": true, "float64": true, "string": true, "time": true, "duration": true,
}

// md5Text computes the MD5 text of a message definition the way genmsg does
// (gentools.compute_md5_text), written from the ROS documentation and independent of
// goroslib: comments and blank lines go, constants come first, builtin fields stay as
// written, and a field of a message type is replaced by that type's MD5.
func md5Text(t *testing.T, pkg, text string) string {
	t.Helper()
	var consts, fields []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 && !strings.Contains(line[:i], "=") {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		typ, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		if name, val, ok := strings.Cut(rest, "="); ok {
			consts = append(consts, fmt.Sprintf("%s %s=%s", typ, strings.TrimSpace(name), strings.TrimSpace(val)))
			continue
		}
		base := typ
		if i := strings.IndexByte(base, '['); i >= 0 {
			base = base[:i]
		}
		if builtin[base] {
			fields = append(fields, typ+" "+rest)
			continue
		}
		full := base
		switch {
		case base == "Header":
			full = "std_msgs/Header"
		case !strings.Contains(base, "/"):
			full = pkg + "/" + base
		}
		def, ok := stdDefs[full]
		if !ok {
			t.Fatalf("no definition for %s", full)
		}
		dpkg, _, _ := strings.Cut(full, "/")
		fields = append(fields, md5Hex(md5Text(t, dpkg, def))+" "+rest)
	}
	return strings.Join(append(consts, fields...), "\n")
}

func md5Hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func readDef(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(Definitions, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMessageMD5MatchesDefinition(t *testing.T) {
	tests := []struct {
		file string
		msg  any
	}{
		{"msg/LatentState.msg", LatentState{}},
		{"msg/Quality.msg", Quality{}},
		{"msg/Reward.msg", Reward{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			want := md5Hex(md5Text(t, "rssmd_msgs", readDef(t, tt.file)))
			got, err := msgproc.MD5(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				gt, _ := msgproc.Text(tt.msg)
				t.Errorf("goroslib MD5 %s, .msg MD5 %s\ngoroslib text:\n%s\n.msg text:\n%s", got, want, gt,
					md5Text(t, "rssmd_msgs", readDef(t, tt.file)))
			}
			typ, _ := msgproc.Type(tt.msg)
			if wantType := "rssmd_msgs/" + strings.TrimSuffix(path.Base(tt.file), ".msg"); typ != wantType {
				t.Errorf("type %s, want %s", typ, wantType)
			}
		})
	}
}

func TestServiceMD5MatchesDefinition(t *testing.T) {
	req, res, ok := strings.Cut(readDef(t, "srv/Imagine.srv"), "\n---\n")
	if !ok {
		t.Fatal("no --- separator in Imagine.srv")
	}
	want := md5Hex(md5Text(t, "rssmd_msgs", req) + md5Text(t, "rssmd_msgs", res))
	got, err := serviceproc.MD5(Imagine{})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("goroslib MD5 %s, .srv MD5 %s", got, want)
	}
}

// TestMD5AgainstGenmsg asks ROS's own genmsg (python3-genmsg, part of ros-core) for the sums,
// when it is installed.
func TestMD5AgainstGenmsg(t *testing.T) {
	// ROS's Python modules are in the system interpreter's path, which a python3 earlier on
	// PATH (pyenv, venv) may not see.
	py := "/usr/bin/python3"
	err := exec.Command(py, "-c", "import genmsg").Run()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3 with genmsg needed in CI: %v", err)
		}
		t.Skipf("python3 genmsg not available: %v", err)
	}
	dir, _ := os.Getwd()
	script := `
import sys, genmsg, genmsg.msg_loader as ml, genmsg.gentools as gt
ctx = genmsg.MsgContext.create_default()
ml.load_msg_from_string(ctx, sys.argv[2], "std_msgs/Header")
ml.load_msg_from_string(ctx, sys.argv[3], "sensor_msgs/Image")
d = sys.argv[1]
for n in ("LatentState", "Quality", "Reward"):
    s = ml.load_msg_from_file(ctx, d + "/msg/" + n + ".msg", "rssmd_msgs/" + n)
    ml.load_depends(ctx, s, {})
    print(gt.compute_md5(ctx, s))
s = ml.load_srv_from_file(ctx, d + "/srv/Imagine.srv", "rssmd_msgs/Imagine")
ml.load_depends(ctx, s, {})
print(gt.compute_md5(ctx, s))
`
	out, err := exec.Command(py, "-c", script, dir, stdDefs["std_msgs/Header"], stdDefs["sensor_msgs/Image"]).CombinedOutput()
	if err != nil {
		t.Fatalf("genmsg: %v\n%s", err, out)
	}
	sums := strings.Fields(string(out))
	if len(sums) != 4 {
		t.Fatalf("genmsg printed %q", out)
	}
	for i, m := range []any{LatentState{}, Quality{}, Reward{}} {
		if got, _ := msgproc.MD5(m); got != sums[i] {
			t.Errorf("%T: goroslib %s, genmsg %s", m, got, sums[i])
		}
	}
	if got, _ := serviceproc.MD5(Imagine{}); got != sums[3] {
		t.Errorf("Imagine: goroslib %s, genmsg %s", got, sums[3])
	}
}
