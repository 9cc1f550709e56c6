package quant

import (
	"math/rand/v2"

	"github.com/rssmd/rssmd/armkernels"
	"testing"

	"github.com/rssmd/rssmd/model"
)

// TestPhaseSplitExact checks that the phase-split transposed convs give bit-identical images to
// the GEMM + col2im scatter form on every kernel implementation, with symmetric and shifted
// zero points (the padding code and the per-row correction).
func TestPhaseSplitExact(t *testing.T) {
	fm, _, _ := walker(t)
	for _, zeros := range []map[string]int32{nil, shiftedZeros(fm.Arch)} {
		qm, err := QuantizeAffine(fm, fixedScales(fm.Arch, 4), zeros)
		if err != nil {
			t.Fatal(err)
		}
		split := 0
		for _, d := range qm.dec {
			if d.ph != nil {
				split++
			}
		}
		if split == 0 {
			t.Fatal("no decoder layer is phase-split; the test compares nothing")
		}
		rng := rand.New(rand.NewPCG(1, 2))
		deter, stoch := make([]float32, fm.Arch.Deter), make([]float32, fm.Arch.Stoch)
		for i := range deter {
			deter[i] = float32(rng.NormFloat64())
		}
		for i := range stoch {
			stoch[i] = float32(rng.NormFloat64())
		}
		for _, k := range armkernels.Implementations() {
			r := qm.NewRunner(k)
			got := make([]float32, model.ImageValues)
			want := make([]float32, model.ImageValues)
			if err := r.Decode(got, deter, stoch); err != nil {
				t.Fatal(err)
			}
			saved := make([]*phaseSplit, len(qm.dec))
			for i, d := range qm.dec {
				saved[i], d.ph = d.ph, nil
			}
			err := r.Decode(want, deter, stoch)
			for i, d := range qm.dec {
				d.ph = saved[i]
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s zeros %v: image[%d] = %v with the phase split, %v with the scatter", k.Name, zeros != nil, i, got[i], want[i])
				}
			}
		}
	}
}

// TestSlideExact checks that the first encoder layer's sliding form (stacked input, GEMM with
// overlapping rows) gives bit-identical embeddings to im2col on every kernel implementation:
// with the SWAR stacking and the generic LUT one, and with the fused ReLU requantisation and
// the general float epilogue (which compacts the GEMM rows first).
func TestSlideExact(t *testing.T) {
	fm, qm, seq := walker(t)
	c := qm.enc[0]
	if c.slide == nil {
		t.Fatal("the walker's first conv has no sliding form; the test compares nothing")
	}
	mulq, biasq, slide := c.mulq, c.biasq, c.slide
	defer func() { c.mulq, c.biasq, c.slide = mulq, biasq, slide }()
	for _, k := range armkernels.Implementations() {
		for _, fused := range []bool{true, false} {
			for _, xor := range []bool{true, false} {
				c.mulq, c.biasq = mulq, biasq
				if !fused {
					c.mulq, c.biasq = nil, nil
				}
				r := qm.NewRunner(k)
				if !r.lutXor {
					t.Fatal("the cnn_ha input LUT should be p XOR 0x80")
				}
				r.lutXor = xor
				got := make([]float32, fm.Arch.EmbDim)
				want := make([]float32, fm.Arch.EmbDim)
				for _, f := range []int{0, 7} {
					c.slide = slide
					if err := r.Encode(got, seq.Frame(f)); err != nil {
						t.Fatal(err)
					}
					c.slide = nil
					if err := r.Encode(want, seq.Frame(f)); err != nil {
						t.Fatal(err)
					}
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s fused %v xor %v frame %d: emb[%d] = %v sliding, %v with im2col", k.Name, fused, xor, f, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
