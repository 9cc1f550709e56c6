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
