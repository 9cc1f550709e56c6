package quant

import (
	"math/rand/v2"
	"path/filepath"

	"github.com/rssmd/rssmd/armkernels"
	"testing"

	"github.com/rssmd/rssmd/model"
)

// TestPhaseSplitExact checks that the phase-split transposed convs give bit-identical images to
// the GEMM + col2im scatter form on every kernel implementation, with symmetric and shifted
// zero points (the padding code and the per-row correction): on the walker (cnn_ha, no
// padding, the last layer split) and on the small trained rssmo-m (dreamer_resnet, k4 s2 p1:
// padded layers, the last one and two InstanceNorm layers before it split).
func TestPhaseSplitExact(t *testing.T) {
	walkerModel, _, _ := walker(t)
	dreamer, err := model.Load(filepath.Join("..", "model", "testdata", "trained", "rssmo-m"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fm := range []*model.Model{walkerModel, dreamer} {
		t.Run(fm.Arch.Encoder, func(t *testing.T) { phaseSplitExact(t, fm) })
	}
}

func phaseSplitExact(t *testing.T, fm *model.Model) {
	for _, zeros := range []map[string]int32{nil, shiftedZeros(fm.Arch)} {
		base, err := QuantizeAffine(fm, fixedScales(fm.Arch, 4), zeros)
		if err != nil {
			t.Fatal(err)
		}
		// Every phase with scales of its own, where the layer takes them: the split must
		// apply each output phase's multipliers where the scatter does.
		p, n := withPhaseScales(t, base, true)
		if n == 0 {
			t.Fatal("no decoder layer takes phase scales; the test misses their mapping")
		}
		qm, err := FromBundle(p)
		if err != nil {
			t.Fatal(err)
		}
		split, padded := 0, 0
		for _, d := range qm.dec {
			if d.ph != nil {
				split++
				if d.spec.P > 0 {
					padded++
				}
			}
		}
		if split == 0 {
			t.Fatal("no decoder layer is phase-split; the test compares nothing")
		}
		t.Logf("%d decoder layers phase-split, %d of them padded", split, padded)
		rng := rand.New(rand.NewPCG(1, 2))
		deter, stoch := make([]float32, fm.Arch.Deter), make([]float32, fm.Arch.Stoch)
		for i := range deter {
			deter[i] = float32(rng.NormFloat64())
		}
		for i := range stoch {
			stoch[i] = float32(rng.NormFloat64())
		}
		// Both image epilogues: plain (+0.5, the walker's) and sigmoid (the general loop).
		sig := qm.Arch.DecoderSigmoid
		defer func() { qm.Arch.DecoderSigmoid = sig }()
		for i, k := range append(armkernels.Implementations(), armkernels.Default()) {
			qm.Arch.DecoderSigmoid = i == len(armkernels.Implementations())
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

// TestScatterPixel compares the one-call col2im scatter with a direct loop over every kernel
// tap, for paddings that clip rows and columns at the borders.
func TestScatterPixel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ h, k, s, p, c int }{{5, 5, 2, 0, 4}, {4, 4, 2, 1, 3}, {3, 3, 1, 1, 2}, {6, 6, 2, 2, 16}, {2, 3, 3, 0, 1}} {
		ho := (tc.h-1)*tc.s - 2*tc.p + tc.k
		got := make([]int32, ho*ho*tc.c)
		want := make([]int32, len(got))
		for iy := 0; iy < tc.h; iy++ {
			for ix := 0; ix < tc.h; ix++ {
				src := make([]int32, tc.k*tc.k*tc.c)
				for i := range src {
					src[i] = int32(rng.IntN(2001) - 1000)
				}
				scatterPixel(armkernels.Default(), got, src, iy, ix, ho, tc.k, tc.s, tc.p, tc.c)
				for ky := 0; ky < tc.k; ky++ {
					for kx := 0; kx < tc.k; kx++ {
						oy, ox := iy*tc.s+ky-tc.p, ix*tc.s+kx-tc.p
						if oy < 0 || oy >= ho || ox < 0 || ox >= ho {
							continue
						}
						for c := 0; c < tc.c; c++ {
							want[(oy*ho+ox)*tc.c+c] += src[(ky*tc.k+kx)*tc.c+c]
						}
					}
				}
			}
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%+v: out[%d] = %d, want %d", tc, i, got[i], want[i])
			}
		}
	}
}
