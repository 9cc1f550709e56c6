package model

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// findSharedTestdata locates /work/shared/testdata as <repo root>/../shared/testdata, the
// repo root being the first folder above this package that holds go.mod.
func findSharedTestdata() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if fi, err := os.Stat(td); err != nil || !fi.IsDir() {
		return td, false
	}
	return td, true
}

// ckptSharedTestdata returns the shared testdata folder, skipping the test when it is absent,
// or failing when CI is set, since CI provides it.
func ckptSharedTestdata(t testing.TB) string {
	t.Helper()
	td, ok := findSharedTestdata()
	if !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared testdata missing in CI (looked for %s)", td)
		}
		t.Skipf("shared testdata not available (looked for %s)", td)
	}
	return td
}

func walkerModelDir(t testing.TB) string {
	return filepath.Join(ckptSharedTestdata(t), "models", "walker-wm-synthetic")
}

// TestLoadCheckpointWalker checks the real checkpoint against the key table of spec §2.3.
func TestLoadCheckpointWalker(t *testing.T) {
	m, err := LoadCheckpointFile(filepath.Join(walkerModelDir(t), "model.pt"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"initial_memory":                             {1, 512},
		"initial_state":                              {1, 30},
		"encoders.image.net.0.weight":                {32, 3, 4, 4},
		"encoders.image.net.0.bias":                  {32},
		"encoders.image.net.2.weight":                {64, 32, 4, 4},
		"encoders.image.net.4.weight":                {128, 64, 4, 4},
		"encoders.image.net.6.weight":                {256, 128, 4, 4},
		"encoders.image.net.6.bias":                  {256},
		"decoders.image.net.0.weight":                {1024, 542},
		"decoders.image.net.0.bias":                  {1024},
		"decoders.image.net.2.weight":                {1024, 128, 5, 5},
		"decoders.image.net.2.bias":                  {128},
		"decoders.image.net.4.weight":                {128, 64, 5, 5},
		"decoders.image.net.6.weight":                {64, 32, 6, 6},
		"decoders.image.net.8.weight":                {32, 3, 6, 6},
		"decoders.image.net.8.bias":                  {3},
		"decoders.is_terminal.prob_net.net.0.weight": {128, 542},
		"decoders.is_terminal.prob_net.net.2.weight": {128, 128},
		"decoders.is_terminal.prob_net.net.4.weight": {1, 128},
		"decoders.is_terminal.prob_net.net.4.bias":   {1},
		"pre_memory.net.0.weight":                    {512, 36},
		"pre_memory.net.1.weight":                    {512},
		"memory_cell.input_layer.weight":             {1536, 1024},
		"memory_cell.input_layer.bias":               {1536},
		"memory_cell.norm.weight":                    {1536},
		"prior_net.net.0.weight":                     {512, 512},
		"prior_net.net.3.weight":                     {60, 512},
		"prior_net.net.3.bias":                       {60},
		"posterior_net.net.0.weight":                 {512, 1536},
		"posterior_net.net.3.weight":                 {60, 512},
	}
	for k, shape := range want {
		tensor, ok := m[k]
		if !ok {
			t.Errorf("missing key %q", k)
			continue
		}
		if ShapeString(tensor.Shape) != ShapeString(shape) {
			t.Errorf("%s: shape %s, want %s", k, ShapeString(tensor.Shape), ShapeString(shape))
		}
	}
	if len(m) != 46 {
		t.Errorf("%d tensors, want 46 (2 buffers + 44 parameters)", len(m))
	}
	params, buffers := 0, 0
	for k, tensor := range m {
		if len(tensor.Data) != tensor.NumElements() {
			t.Errorf("%s: %d values for shape %s", k, len(tensor.Data), ShapeString(tensor.Shape))
		}
		if k == "initial_memory" || k == "initial_state" {
			buffers += len(tensor.Data)
			for i, v := range tensor.Data {
				if v != 0 {
					t.Fatalf("%s[%d] = %v, want the zero buffer", k, i, v)
				}
			}
			continue
		}
		params += len(tensor.Data)
		nonzero := false
		for i, v := range tensor.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s[%d] = %v", k, i, v)
			}
			nonzero = nonzero || v != 0
		}
		if !nonzero && strings.HasSuffix(k, ".weight") {
			t.Errorf("%s is all zeros", k)
		}
	}
	if params != 7601980 || buffers != 542 {
		t.Errorf("%d parameters + %d buffer values, want 7601980 + 542", params, buffers)
	}
}

type ckptExpected struct {
	TorchVersion string `json:"torch_version"`
	Files        map[string]map[string]struct {
		Shape  []int     `json:"shape"`
		Values []float64 `json:"values"`
	} `json:"files"`
}

// TestReadCheckpointTorch113 reads the small checkpoints gen_checkpoints.py wrote with
// PyTorch 1.13 and compares every tensor with the values Python printed.
func TestReadCheckpointTorch113(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp ckptExpected
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Files) < 4 || !strings.HasPrefix(exp.TorchVersion, "1.13") {
		t.Fatalf("expected.json describes %d files written by torch %q; want the 1.13 fixtures", len(exp.Files), exp.TorchVersion)
	}
	for file, tensors := range exp.Files {
		t.Run(file, func(t *testing.T) {
			m, err := LoadCheckpointFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if len(m) != len(tensors) {
				t.Errorf("%d tensors, want %d", len(m), len(tensors))
			}
			for k, want := range tensors {
				got, ok := m[k]
				if !ok {
					t.Errorf("missing %q", k)
					continue
				}
				if ShapeString(got.Shape) != ShapeString(want.Shape) {
					t.Errorf("%s: shape %s, want %s", k, ShapeString(got.Shape), ShapeString(want.Shape))
					continue
				}
				if len(got.Data) != len(want.Values) {
					t.Errorf("%s: %d values, want %d", k, len(got.Data), len(want.Values))
					continue
				}
				for i, w := range want.Values {
					if got.Data[i] != float32(w) {
						t.Errorf("%s[%d] = %v, want %v", k, i, got.Data[i], w)
						break
					}
				}
			}
		})
	}
}

// TestReadCheckpointViews checks the view cases by construction, independent of the JSON.
func TestReadCheckpointViews(t *testing.T) {
	m, err := LoadCheckpointFile(filepath.Join("testdata", "views.pt"))
	if err != nil {
		t.Fatal(err)
	}
	base, mat, matT := m["base"], m["mat"], m["mat_t"]
	if base == nil || mat == nil || matT == nil {
		t.Fatalf("missing base/mat/mat_t in %d tensors", len(m))
	}
	for i, v := range m["offset_view"].Data {
		if v != base.Data[2+i] {
			t.Fatalf("offset_view[%d] = %v, want base[%d] = %v", i, v, 2+i, base.Data[2+i])
		}
	}
	for i, v := range m["strided_view"].Data {
		if v != base.Data[1+3*i] {
			t.Fatalf("strided_view[%d] = %v, want base[%d]", i, v, 1+3*i)
		}
	}
	rows, cols := mat.Shape[0], mat.Shape[1]
	for r := range rows {
		for c := range cols {
			if matT.Data[c*rows+r] != mat.Data[r*cols+c] {
				t.Fatalf("mat_t[%d,%d] != mat[%d,%d]", c, r, r, c)
			}
		}
	}
	if s := m["scalar"]; len(s.Shape) != 0 || len(s.Data) != 1 || s.Data[0] != 3.5 {
		t.Errorf("scalar: shape %v data %v", s.Shape, s.Data)
	}
	if e := m["empty"]; ShapeString(e.Shape) != "[0, 3]" || len(e.Data) != 0 {
		t.Errorf("empty: shape %v data %v", e.Shape, e.Data)
	}
	// Sharing storages must not alias the results.
	base.Data[3] = -99
	if m["offset_view"].Data[1] == -99 {
		t.Error("offset_view aliases base's data")
	}
	if _, ok := m["not_a_tensor"]; ok {
		t.Error("non-tensor value returned")
	}
}

func TestHalfToFloat32(t *testing.T) {
	tests := []struct {
		bits uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},
		{0x0001, 5.960464477539063e-08},
		{0x03ff, 6.097555160522461e-05},
		{0x0400, 6.103515625e-05},
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		if got := halfToFloat32(tt.bits); got != tt.want {
			t.Errorf("halfToFloat32(%#04x) = %v, want %v", tt.bits, got, tt.want)
		}
	}
	if v := halfToFloat32(0x7e00); !math.IsNaN(float64(v)) {
		t.Errorf("halfToFloat32(0x7e00) = %v, want NaN", v)
	}
	if v := halfToFloat32(0x8000); v != 0 || !math.Signbit(float64(v)) {
		t.Errorf("halfToFloat32(0x8000) = %v, want -0", v)
	}
}

func TestLoadCheckpointFileMissing(t *testing.T) {
	_, err := LoadCheckpointFile(filepath.Join(t.TempDir(), "nope.pt"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, want one wrapping os.ErrNotExist", err)
	}
}

func BenchmarkLoadCheckpoint(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(walkerModelDir(b), "model.pt"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadCheckpoint(data); err != nil {
			b.Fatal(err)
		}
	}
}
