package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/goldentest"
	"github.com/rssmd/rssmd/model/seqio"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	// These tests run without ROS even where CI exports ROS_MASTER_URI (with it, `rssmd run`
	// would be a ROS node and --source ros valid).
	os.Unsetenv("ROS_MASTER_URI")
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return o.String(), e.String(), code
}

func readOutput(t *testing.T, path string) []namedFromFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	arrs, err := seqio.ReadArrays(data)
	if err != nil {
		t.Fatal(err)
	}
	var out []namedFromFile
	for k, a := range arrs {
		out = append(out, namedFromFile{k, a})
	}
	return out
}

type namedFromFile struct {
	name string
	arr  *seqio.Array
}

// TestFilterMatchesOriginalCode runs `rssmd filter` on the shared golden input — from the
// original folder and from a converted bundle — and compares every key of the written file
// with the original AIME-NoB code's outputs.
func TestFilterMatchesOriginalCode(t *testing.T) {
	if testing.Short() {
		t.Skip("-short (the race run): the walker float32 filter is slow under -race; make test-unit runs this test")
	}
	td := goldentest.SharedTestdata(t)
	dir := t.TempDir()
	modelDir := filepath.Join(td, "models", "walker-wm-synthetic")
	bundlePath := filepath.Join(dir, "walker.rssm")
	if _, e, code := runCLI(t, "convert", "--model", modelDir, "--out", bundlePath); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, e)
	}
	want := goldentest.ReadGolden(t, filepath.Join(td, "golden", "shared-walker", "golden.npz"))
	for _, m := range []string{modelDir, bundlePath} {
		out := filepath.Join(dir, "out.npz")
		o, e, code := runCLI(t, "filter", "--model", m, "--in", filepath.Join(td, "golden", "shared-walker", "seq.npz"),
			"--out", out, "--rollout-start", "30", "--rollout-horizon", "10")
		if code != 0 {
			t.Fatalf("filter %s: exit %d: %s", m, code, e)
		}
		if !strings.Contains(o, "filtered 30 frames") {
			t.Errorf("unexpected summary %q", o)
		}
		goldentest.Compare(t, toNamed(readOutput(t, out)), want, goldentest.Float32Tolerances)
	}
}

// TestFilterVariantGoldens runs the command on every committed variant (no shared data needed).
func TestFilterVariantGoldens(t *testing.T) {
	root := goldentest.RepoRoot(t)
	for name, r := range map[string][2]string{
		"cnnha-actions":    {"8", "4"},
		"cnnha-actionfree": {"5", "2"},
		"discrete":         {"5", "3"},
		"resnet":           {"5", "3"},
		"min-std-null":     {"0", "0"},
	} {
		t.Run(name, func(t *testing.T) {
			d := filepath.Join(root, "model", "testdata", "golden", name)
			out := filepath.Join(t.TempDir(), "out.npz")
			if _, e, code := runCLI(t, "filter", "--model", d, "--in", filepath.Join(d, "seq.npz"), "--out", out,
				"--rollout-start", r[0], "--rollout-horizon", r[1]); code != 0 {
				t.Fatalf("exit %d: %s", code, e)
			}
			goldentest.Compare(t, toNamed(readOutput(t, out)), goldentest.ReadGolden(t, filepath.Join(d, "golden.npz")), goldentest.Float32Tolerances)
		})
	}
}

// TestFilterErrors: bad invocations and inputs exit non-zero with a message, never panic.
func TestFilterErrors(t *testing.T) {
	root := goldentest.RepoRoot(t)
	d := filepath.Join(root, "model", "testdata", "golden", "cnnha-actions")
	other := filepath.Join(root, "model", "testdata", "golden", "resnet", "seq.npz") // 4 action columns
	out := filepath.Join(t.TempDir(), "out.npz")
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no args", []string{"filter"}, 2, ""},
		{"missing model", []string{"filter", "--model", "/nonexistent", "--in", filepath.Join(d, "seq.npz"), "--out", out}, 1, "no such file"},
		{"wrong action dim", []string{"filter", "--model", d, "--in", other, "--out", out}, 1, "pre_action has 4 columns"},
		{"rollout too long", []string{"filter", "--model", d, "--in", filepath.Join(d, "seq.npz"), "--out", out, "--rollout-start", "10", "--rollout-horizon", "10"}, 1, "exceeds the sequence length"},
		{"not an npz", []string{"filter", "--model", d, "--in", filepath.Join(d, "config.yaml"), "--out", out}, 1, "not an npz"},
		{"unknown command", []string{"filtre"}, 2, "unknown command"},
	} {
		_, e, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(e, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d containing %q", tc.name, code, e, tc.code, tc.msg)
		}
	}
}

func toNamed(in []namedFromFile) (out []model.NamedArray) {
	for _, a := range in {
		out = append(out, model.NamedArray{Name: a.name, Shape: a.arr.Shape, Data: a.arr.F32})
	}
	return out
}

// TestFilterInt8Bundle: calibrate the committed model, then `filter` the int8 bundle: the
// output has the float32 contract's keys and stays close to the float32 path (the accuracy
// targets proper are checked on the shared walker model in package calibration).
func TestFilterInt8Bundle(t *testing.T) {
	d := filepath.Join(goldentest.RepoRoot(t), "model", "testdata", "golden", "cnnha-actions")
	dir := t.TempDir()
	q := filepath.Join(dir, "m.int8.rssm")
	if _, e, code := runCLI(t, "calibrate", "--model", d, "--data", filepath.Join(d, "seq.npz"), "--out", q); code != 0 {
		t.Fatalf("calibrate: exit %d: %s", code, e)
	}
	outQ, outF := filepath.Join(dir, "q.npz"), filepath.Join(dir, "f.npz")
	args := []string{"--in", filepath.Join(d, "seq.npz"), "--rollout-start", "8", "--rollout-horizon", "4"}
	o, e, code := runCLI(t, append([]string{"filter", "--model", q, "--out", outQ}, args...)...)
	if code != 0 || !strings.Contains(o, "int8") {
		t.Fatalf("int8 filter: exit %d, %q %s", code, o, e)
	}
	if _, e, code := runCLI(t, append([]string{"filter", "--model", d, "--out", outF}, args...)...); code != 0 {
		t.Fatalf("float filter: exit %d: %s", code, e)
	}
	want := map[string]*seqio.Array{}
	for _, a := range readOutput(t, outF) {
		want[a.name] = a.arr
	}
	// int8 tolerances for a tiny random model: states within 5% of their range, any pixel within
	// 0.1, ELBO terms within 5% relative or 0.5 absolute.
	goldentest.Compare(t, toNamed(readOutput(t, outQ)), want, goldentest.Tolerances{State: 0.05, Image: 0.1, Scalar: 0.05, ScalarAbs: 0.5})
	// --int8 on a float32 model says how to get an int8 bundle.
	if _, e, code := runCLI(t, append([]string{"filter", "--int8", "--model", d, "--out", outQ}, args...)...); code != 1 || !strings.Contains(e, "calibrate") {
		t.Errorf("--int8 on a float model: exit %d, %q", code, e)
	}
}
