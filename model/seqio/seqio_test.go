package seqio_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/goldentest"
	"github.com/rssmd/rssmd/model/seqio"
)

func goldenSeq(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldentest.RepoRoot(t), "model", "testdata", "golden", name, "seq.npz"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadSequenceVariants(t *testing.T) {
	for _, tc := range []struct {
		name      string
		actionDim int
		targets   []string
	}{
		{"cnnha-actions", 6, []string{"is_terminal"}},
		{"cnnha-actionfree", 0, []string{"is_terminal"}},
		{"resnet", 4, []string{"is_terminal", "reward"}},
	} {
		seq, err := seqio.ReadSequence(goldenSeq(t, tc.name))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if seq.ActionDim != tc.actionDim || len(seq.PreAction) != seq.T*tc.actionDim {
			t.Errorf("%s: action dim %d (%d values), want %d", tc.name, seq.ActionDim, len(seq.PreAction), tc.actionDim)
		}
		if seq.IsFirst == nil || !seq.IsFirst[0] {
			t.Errorf("%s: is_first not read", tc.name)
		}
		for _, k := range tc.targets {
			if len(seq.Targets[k]) != seq.T {
				t.Errorf("%s: target %q missing", tc.name, k)
			}
		}
	}
}

// TestRoundTrip writes float32 arrays of every rank we emit and reads them back.
func TestRoundTrip(t *testing.T) {
	in := []model.NamedArray{
		{Name: "kl", Shape: []int{3}, Data: []float32{1, 2, 3}},
		{Name: "deter", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "img", Shape: []int{2, 1, 2, 3}, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
	}
	var buf bytes.Buffer
	if err := seqio.EncodeArrays(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := seqio.ReadArrays(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range in {
		b := out[a.Name]
		if b == nil || len(b.Shape) != len(a.Shape) || len(b.F32) != len(a.Data) {
			t.Fatalf("%s: read back %+v", a.Name, b)
		}
		for i := range a.Shape {
			if a.Shape[i] != b.Shape[i] {
				t.Fatalf("%s: shape %v, wrote %v", a.Name, b.Shape, a.Shape)
			}
		}
		for i := range a.Data {
			if a.Data[i] != b.F32[i] {
				t.Fatalf("%s[%d] = %v, wrote %v", a.Name, i, b.F32[i], a.Data[i])
			}
		}
	}
}

// TestBadSequences: wrong shapes and missing keys are ErrFormat errors.
func TestBadSequences(t *testing.T) {
	write := func(arrays []model.NamedArray) []byte {
		var buf bytes.Buffer
		if err := seqio.EncodeArrays(&buf, arrays); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	img := make([]float32, 2*64*64*3)
	for _, tc := range []struct {
		name   string
		arrays []model.NamedArray
	}{
		{"no image", []model.NamedArray{{Name: "pre_action", Shape: []int{2, 1}, Data: []float32{0, 0}}}},
		{"small image", []model.NamedArray{{Name: "image", Shape: []int{2, 32, 32, 3}, Data: make([]float32, 2*32*32*3)}}},
		{"grey image", []model.NamedArray{{Name: "image", Shape: []int{2, 64, 64, 1}, Data: make([]float32, 2*64*64)}}},
		{"out of range", []model.NamedArray{{Name: "image", Shape: []int{2, 64, 64, 3}, Data: append([]float32{300}, img[1:]...)}}},
		{"action rows", []model.NamedArray{{Name: "image", Shape: []int{2, 64, 64, 3}, Data: img}, {Name: "pre_action", Shape: []int{3, 2}, Data: make([]float32, 6)}}},
	} {
		_, err := seqio.ReadSequence(write(tc.arrays))
		if !errors.Is(err, seqio.ErrFormat) {
			t.Errorf("%s: got %v, want ErrFormat", tc.name, err)
		}
	}
	if _, err := seqio.ReadSequence([]byte("not a zip")); !errors.Is(err, seqio.ErrFormat) {
		t.Errorf("garbage: %v", err)
	}
}

// FuzzReadSequence: any bytes give a sequence or an error, never a panic or a huge allocation.
func FuzzReadSequence(f *testing.F) {
	// Small seeds (a few hundred bytes, deflated frames), not the 150 KB goldens: the fuzzer
	// then runs thousands of inputs a second instead of one.
	img := make([]uint8, 64*64*3)
	img[5] = 200
	f.Add(npzOf(f, true, arr{"image", img, []int{1, 64, 64, 3}}, arr{"pre_action", []float32{0, 0}, []int{1, 2}},
		arr{"is_first", []uint8{1}, []int{1}}, arr{"reward", []float64{0.5}, []int{1, 1}}))
	f.Add(npzOf(f, true, arr{"image", make([]float32, 64*64*3), []int{1, 64, 64, 3}}, arr{"pre_action", []float32{}, []int{1, 0}}))
	f.Add(npzOf(f, false, arr{"image", []uint8{1, 2, 3}, []int{1, 1, 1, 3}}, arr{"pre_action", []float64{1}, []int{1}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		seq, err := seqio.ReadSequence(data)
		if err != nil {
			return
		}
		if err := seq.Validate(); err != nil {
			t.Fatalf("accepted an invalid sequence: %v", err)
		}
	})
}
