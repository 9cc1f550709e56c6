package cli

// Tests for what a new user meets in the first hour (issue 14): help, version, missing and
// mistyped arguments, and errors reported before the work rather than after it.

import (
	"bytes"
	"flag"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/armkernels"
)

var (
	edgeModel = reportModel
	edgeSeq   = filepath.Join(reportModel, "seq.npz")
)

// Several files after --data (a shell glob) or as arguments all calibrate; --eval keeps its
// own files.
func TestCalibrateSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"after --data", []string{"--data", edgeSeq, edgeSeq, "--out", filepath.Join(dir, "a.rssm")}, "calibrating on 2 sequences (24 steps)"},
		{"positional", []string{"--out", filepath.Join(dir, "b.rssm"), edgeSeq, edgeSeq, edgeSeq}, "calibrating on 3 sequences (36 steps)"},
		{"--data then --eval list", []string{"--data", edgeSeq, "--eval", edgeSeq, edgeSeq, "--out", filepath.Join(dir, "c.rssm")}, "calibrating on 1 sequences (12 steps)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runCLI(t, append([]string{"calibrate", "--model", edgeModel}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("stdout lacks %q:\n%s", tc.want, out)
			}
			// The written path is named once, in the closing line.
			outPath := tc.args[slicesIndex(tc.args, "--out")+1]
			if n := strings.Count(out, outPath); n != 1 {
				t.Errorf("stdout names %s %d times:\n%s", outPath, n, out)
			}
		})
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestSpreadLists(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var data, eval stringList
	fs.Var(&data, "data", "")
	fs.Var(&eval, "eval", "")
	fs.String("out", "", "")
	fs.Bool("v", false, "")
	for _, tc := range []struct{ in, want []string }{
		{[]string{"--data", "a", "b", "--out", "o"}, []string{"--data", "a", "--data", "b", "--out", "o"}},
		{[]string{"-data=a", "b", "-v", "c"}, []string{"-data=a", "--data", "b", "-v", "c"}},
		{[]string{"--out", "o", "a", "--eval", "e1", "e2", "--", "-x"}, []string{"--out", "o", "a", "--eval", "e1", "--eval", "e2", "--", "-x"}},
		{[]string{"--data"}, []string{"--data"}},
	} {
		if got := spreadLists(fs, tc.in, "data", "eval"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("spreadLists(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, errs, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		for _, want := range []string{"rssmd " + version, runtime.Version(), armkernels.Implementations()[0].Name} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, out)
			}
		}
	}
	var b bytes.Buffer
	bi := &debug.BuildInfo{GoVersion: "go1.99", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}}}
	impls := armkernels.Implementations()
	writeVersion(&b, bi, impls)
	for _, want := range []string{"commit  0123abcd (with uncommitted changes), 2026-01-02T03:04:05Z", "go      go1.99 ",
		"default " + impls[len(impls)-1].Name} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("writeVersion lacks %q:\n%s", want, b.String())
		}
	}
}

// Every subcommand's -h exits 0 and starts with its synopsis; `rssmd help CMD` prints the
// same on stdout.
func TestHelp(t *testing.T) {
	for _, c := range commands {
		_, errs, code := runCLI(t, c.name, "-h")
		if code != 0 {
			t.Errorf("%s -h: exit %d", c.name, code)
		}
		if first, _, _ := strings.Cut(errs, "\n"); first != strings.TrimSpace("usage: rssmd "+c.name+" "+c.synopsis) {
			t.Errorf("%s -h does not start with its synopsis:\n%s", c.name, errs)
		}
		out, _, code := runCLI(t, "help", c.name)
		if code != 0 || out != errs {
			t.Errorf("help %s: exit %d, output differs from -h:\n%s", c.name, code, out)
		}
	}
	_, errs, _ := runCLI(t, "inspect", "-h")
	if !strings.Contains(errs, "PATH") {
		t.Errorf("inspect -h does not mention PATH:\n%s", errs)
	}
	_, errs, _ = runCLI(t, "sim", "-h")
	if !strings.Contains(errs, "-disturb-every int") {
		t.Errorf("sim -h names --disturb-every's value oddly:\n%s", errs)
	}
	_, errs, _ = runCLI(t, "demo", "-h")
	if strings.Contains(errs, "try to open a browser") {
		t.Errorf("demo -h claims rssmd would open a browser:\n%s", errs)
	}
	_, errs, _ = runCLI(t, "run", "-h")
	if !strings.Contains(errs, "replay:FILE.npz, or ros") {
		t.Errorf("run -h does not list the ros source:\n%s", errs)
	}
}

// A command without a required flag says which one.
func TestMissingFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"filter", "--model", edgeModel}, "rssmd filter: missing --in, --out"},
		{[]string{"convert", "--out", "x.rssm"}, "rssmd convert: missing --model"},
		{[]string{"sim"}, "rssmd sim: missing --record"},
		{[]string{"calibrate", "--model", edgeModel, "--out", "x.rssm"}, "rssmd calibrate: missing --data"},
		{[]string{"report", "--in", "x.npz"}, "rssmd report: missing --out"},
		{[]string{"bench"}, "rssmd bench: missing --model"},
		{[]string{"inspect"}, "rssmd inspect: missing PATH"},
	} {
		_, errs, code := runCLI(t, tc.args...)
		if code != 2 || !strings.HasPrefix(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant it to start with %q", tc.args, code, errs, tc.want)
		}
	}
}

// An unwritable --out is reported before the model is even opened: the bogus model is
// never reached.
func TestOutCheckedFirst(t *testing.T) {
	ro := t.TempDir()
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(ro, 0o755) })
	readOnly := os.Getuid() != 0 // root writes anywhere
	for _, out := range []string{"/nonexistent-rssmd/out.npz", filepath.Join(ro, "out.npz"), ro} {
		if out == filepath.Join(ro, "out.npz") && !readOnly {
			continue
		}
		for _, args := range [][]string{
			{"filter", "--model", "/nonexistent-model", "--in", edgeSeq, "--out", out},
			{"calibrate", "--model", "/nonexistent-model", "--data", edgeSeq, "--out", out},
			{"convert", "--model", "/nonexistent-model", "--out", out},
			{"report", "--in", edgeSeq, "--model", "/nonexistent-model", "--out", out},
		} {
			_, errs, code := runCLI(t, args...)
			if code != 1 || !strings.Contains(errs, "--out "+out) {
				t.Errorf("%v: exit %d, stderr:\n%s\nwant the --out error", args, code, errs)
			}
		}
	}
}

// A wrong --source is reported before the model loads, and `ros` outside a ROS node names
// the flags that make one.
func TestSourceCheckedFirst(t *testing.T) {
	for _, tc := range []struct{ source, want string }{
		{"ros", "add --ros (ROS 1) or --ros2 (ROS 2)"},
		{"replay:/nonexistent-rssmd.npz", "source replay:/nonexistent-rssmd.npz: stat"},
		{"v4l2:/nonexistent-rssmd-video", "no such file"},
		{"v4l2:" + edgeSeq, "is not a device node"},
		{"v4l2:/dev/null", "/dev/null is not a V4L2 device"},
		{"camera", `"camera", want v4l2:/dev/videoN, replay:FILE.npz or ros`},
	} {
		_, errs, code := runCLI(t, "run", "--model", edgeModel, "--source", tc.source, "--metrics-addr", "off")
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("--source %s: exit %d, stderr:\n%s\nwant %q", tc.source, code, errs, tc.want)
		}
		if strings.Contains(errs, "model loaded") {
			t.Errorf("--source %s: the model was loaded before the source was checked:\n%s", tc.source, errs)
		}
	}
	_, errs, code := runCLI(t, "run", "--model", edgeModel, "--source", "replay:"+edgeSeq, "--record", "/nonexistent-rssmd/run.rec", "--metrics-addr", "off")
	if code != 1 || !strings.Contains(errs, "record /nonexistent-rssmd/run.rec: folder /nonexistent-rssmd does not exist") || strings.Contains(errs, "model loaded") {
		t.Errorf("--record in a missing folder: exit %d, stderr:\n%s", code, errs)
	}
}

// A file that is not a model says so and what it is, instead of a stat error about a
// config.yaml the user never named.
func TestNotAModel(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "notes.md")
	if err := os.WriteFile(txt, []byte("# my robot\nnotes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{txt, `notes.md is a text file of 17 bytes starting "# my robot": not a model file (want a model folder`},
		{edgeSeq, "seq.npz is a zip archive of"},
	} {
		for _, args := range [][]string{
			{"filter", "--model", tc.path, "--in", edgeSeq, "--out", filepath.Join(dir, "o.npz")},
			{"inspect", tc.path},
		} {
			_, errs, code := runCLI(t, args...)
			if code != 1 || !strings.Contains(errs, tc.want) || strings.Contains(errs, "stat ") {
				t.Errorf("%v: exit %d, stderr:\n%s\nwant %q", args, code, errs, tc.want)
			}
		}
	}
	// An int8 bundle where float32 is needed: the kind in words.
	q := filepath.Join(dir, "m.int8.rssm")
	if _, errs, code := runCLI(t, "calibrate", "--model", edgeModel, "--data", edgeSeq, "--out", q); code != 0 {
		t.Fatal(errs)
	}
	_, errs, _ := runCLI(t, "calibrate", "--model", q, "--data", edgeSeq, "--out", filepath.Join(dir, "again.rssm"))
	if !strings.Contains(errs, "the bundle holds an int8 model; this needs the float32 model") {
		t.Errorf("calibrating an int8 bundle: %s", errs)
	}
}

// One log format: the log package and slog.Default go through Main's handler.
func TestOneLogFormat(t *testing.T) {
	var b bytes.Buffer
	Main([]string{"version"}, &bytes.Buffer{}, &b)
	log.Printf("from the log package")
	if !strings.Contains(b.String(), `level=INFO msg="from the log package"`) {
		t.Errorf("the log package bypasses slog: stderr %q", b.String())
	}
}

// A --seq that is not the filter output's sequence (another length) is refused.
func TestReportSeqLength(t *testing.T) {
	dir := t.TempDir()
	filtered := filepath.Join(dir, "out.npz")
	if _, errs, code := runCLI(t, "filter", "--model", edgeModel, "--in", edgeSeq, "--out", filtered); code != 0 {
		t.Fatal(errs)
	}
	other := filepath.Join("..", "..", "models", "demo", "episodes", "heldout-0.npz") // 100 frames
	_, errs, code := runCLI(t, "report", "--in", filtered, "--seq", other, "--out", filepath.Join(dir, "r.png"))
	if code != 1 || !strings.Contains(errs, "the sequence has 100 frames, the filter output covers 12") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if _, errs, code := runCLI(t, "report", "--in", filtered, "--seq", edgeSeq, "--out", filepath.Join(dir, "r.png")); code != 0 {
		t.Errorf("the right sequence: exit %d: %s", code, errs)
	}
}
