package main

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

func f32(shape []int, v ...float32) *seqio.Array {
	return &seqio.Array{Shape: shape, Dtype: "<f4", F32: v}
}

func TestCompare(t *testing.T) {
	ulp := math.Float32frombits(math.Float32bits(1) + 1)
	nan := float32(math.NaN())
	cases := []struct {
		name     string
		want     map[string]*seqio.Array
		got      map[string]*seqio.Array
		tol      float64
		ok       bool
		mentions string
	}{
		{"identical exact", map[string]*seqio.Array{"a": f32([]int{2}, 1, -2)}, map[string]*seqio.Array{"a": f32([]int{2}, 1, -2)}, 0, true, "ok"},
		{"one ulp fails exact", map[string]*seqio.Array{"a": f32([]int{2}, 1, 2)}, map[string]*seqio.Array{"a": f32([]int{2}, ulp, 2)}, 0, false, "not bit-identical"},
		{"one ulp within 1e-3", map[string]*seqio.Array{"a": f32([]int{2}, 1, 2)}, map[string]*seqio.Array{"a": f32([]int{2}, ulp, 2)}, 1e-3, true, "ok"},
		// The bound scales with the array's largest magnitude (100), so 0.05 passes and 0.5 does not.
		{"scaled within", map[string]*seqio.Array{"a": f32([]int{2}, 100, 1)}, map[string]*seqio.Array{"a": f32([]int{2}, 100, 1.05)}, 1e-3, true, "ok"},
		{"scaled beyond", map[string]*seqio.Array{"a": f32([]int{2}, 100, 1)}, map[string]*seqio.Array{"a": f32([]int{2}, 100, 1.5)}, 1e-3, false, "beyond"},
		{"missing array", map[string]*seqio.Array{"a": f32([]int{1}, 1), "b": f32([]int{1}, 1)}, map[string]*seqio.Array{"a": f32([]int{1}, 1)}, 1e-3, false, "missing"},
		{"shape differs", map[string]*seqio.Array{"a": f32([]int{2, 1}, 1, 2)}, map[string]*seqio.Array{"a": f32([]int{1, 2}, 1, 2)}, 1e-3, false, "shape"},
		{"NaN on one side", map[string]*seqio.Array{"a": f32([]int{2}, 1, 2)}, map[string]*seqio.Array{"a": f32([]int{2}, 1, nan)}, 1, false, "FAIL"},
		{"NaN on both sides", map[string]*seqio.Array{"a": f32([]int{2}, 1, nan)}, map[string]*seqio.Array{"a": f32([]int{2}, 1, nan)}, 0, true, "ok"},
		{"uint8 differs", map[string]*seqio.Array{"i": {Shape: []int{2}, Dtype: "|u1", U8: []uint8{3, 4}}}, map[string]*seqio.Array{"i": {Shape: []int{2}, Dtype: "|u1", U8: []uint8{3, 5}}}, 0, false, "FAIL"},
		{"empty reference", map[string]*seqio.Array{}, map[string]*seqio.Array{"a": f32([]int{1}, 1)}, 1, false, "no arrays"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := compare(c.want, c.got, c.tol, &out)
			if (err == nil) != c.ok {
				t.Fatalf("compare: err = %v, want ok = %v\n%s", err, c.ok, out.String())
			}
			if err != nil && !errors.Is(err, errDiffer) {
				t.Errorf("error %v does not wrap errDiffer", err)
			}
			text := out.String()
			if err != nil {
				text += err.Error()
			}
			if !strings.Contains(text, c.mentions) {
				t.Errorf("output %q does not mention %q", text, c.mentions)
			}
		})
	}
}

func TestRunExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, v ...float32) string {
		p := filepath.Join(dir, name)
		if err := seqio.WriteArrays(p, []model.NamedArray{{Name: "deter", Shape: []int{len(v)}, Data: v}}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.npz", 1, 2, 3)
	b := write("b.npz", 1, 2, 3.0001)
	c := write("c.npz", 1, 2, 4)
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"same exact", []string{"-exact", a, a}, 0},
		{"close, default bound", []string{a, b}, 0},
		{"close, exact", []string{"-exact", a, b}, 1},
		{"far", []string{a, c}, 1},
		{"far, loose bound", []string{"-rel", "0.5", a, c}, 0},
		{"missing file", []string{a, filepath.Join(dir, "none.npz")}, 2},
		{"not an npz", []string{a, filepath.Join(dir)}, 2},
		{"one argument", []string{a}, 2},
		{"negative bound", []string{"-rel", "-1", a, a}, 2},
		{"NaN bound", []string{"-rel", "NaN", a, a}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(c.args, &stdout, &stderr); got != c.want {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", got, c.want, stdout.String(), stderr.String())
			}
		})
	}
}
