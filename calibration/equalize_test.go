package calibration

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/quant"
)

// TestEqualizeKeepsEncoder: the equalised weights compute the same embedding, the original
// tensors are untouched, and the inner activations' channel ranges move closer together.
func TestEqualizeKeepsEncoder(t *testing.T) {
	dir := filepath.Join("..", "model", "testdata", "golden", "cnnha-actions")
	fm, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	seq := readSeqs(t, filepath.Join(dir, "seq.npz"))[0]
	orig, err := newTapper(fm, fm.Tensors)
	if err != nil {
		t.Fatal(err)
	}
	before := orig.encoderChannelMax([]*model.Sequence{seq})
	w0 := append([]float32(nil), fm.Tensors[model.EncoderLayers(fm.Arch)[0].Prefix+".weight"].Data...)
	ts := equalizeEncoder(fm.Tensors, fm.Arch, before)
	eq, err := newTapper(fm, ts)
	if err != nil {
		t.Fatal(err)
	}
	after := eq.encoderChannelMax([]*model.Sequence{seq})
	changed := false
	for i, w := range fm.Tensors[model.EncoderLayers(fm.Arch)[0].Prefix+".weight"].Data {
		if w != w0[i] {
			t.Fatal("equalisation wrote into the float model's tensors")
		}
		changed = changed || ts[model.EncoderLayers(fm.Arch)[0].Prefix+".weight"].Data[i] != w
	}
	if !changed {
		t.Fatal("equalisation changed nothing")
	}
	for step := 0; step < seq.T; step++ {
		orig.encodeFrame(seq.Frame(step), func(int, int, []float32) {})
		eq.encodeFrame(seq.Frame(step), func(int, int, []float32) {})
		for i, v := range orig.emb {
			if d := math.Abs(float64(eq.emb[i] - v)); d > 1e-4*math.Max(1, math.Abs(float64(v))) {
				t.Fatalf("step %d: emb[%d] %v after equalisation, %v before", step, i, eq.emb[i], v)
			}
		}
	}
	// The spread (max/median of channel ranges) of every inner activation must not grow.
	for i := 0; i+1 < len(before); i++ {
		if sb, sa := spread(before[i]), spread(after[i]); sa > sb*1.001 {
			t.Errorf("conv %d: channel-range spread %.3g after, %.3g before", i, sa, sb)
		}
	}
}

func spread(r []float64) float64 {
	s := append([]float64(nil), r...)
	m := median(s)
	if m == 0 {
		return math.Inf(1)
	}
	hi := 0.0
	for _, x := range s {
		hi = math.Max(hi, x)
	}
	return hi / m
}

func TestRanges(t *testing.T) {
	relu := ramp(1000, 2)
	for i := range relu {
		relu[i] = float32(math.Abs(float64(relu[i])))
	}
	silu := append(ramp(1000, 4), -0.27)
	for i := range silu {
		silu[i] = max(silu[i], -0.27)
	}
	tests := []struct {
		name      string
		point     string
		data      []float32
		wantScale float64
		wantZero  int32
	}{
		{"relu", quant.EncPoint(1), relu, 2.0 / 255, -128},
		{"signed", quant.PointDeter, ramp(1000, 1), 1.0 / 127, 0},
		{"silu", quant.PointPostHid, silu, 4.27 / 255, -112}, // −128 + 0.27/(4.27/255) = −111.9
		{"all zero", quant.PointEmb, make([]float32, 10), 1.0 / 127, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &Histogram{}
			h.Add(tc.data)
			scales, zeros, err := Ranges(map[string]*Histogram{tc.point: h}, MethodMax)
			if err != nil {
				t.Fatal(err)
			}
			if s := float64(scales[tc.point]); math.Abs(s-tc.wantScale) > 1e-3*tc.wantScale {
				t.Errorf("scale %v, want %v", s, tc.wantScale)
			}
			if zeros[tc.point] != tc.wantZero {
				t.Errorf("zero point %d, want %d", zeros[tc.point], tc.wantZero)
			}
			// Every observed value must be representable within half a level.
			s, z := float64(scales[tc.point]), float64(zeros[tc.point])
			lo, hi := s*(-128-z), s*(127-z)
			if h.Lo < lo-s/2 || h.Hi > hi+s/2 {
				t.Errorf("range [%v, %v] does not cover observed [%v, %v]", lo, hi, h.Lo, h.Hi)
			}
		})
	}
}
