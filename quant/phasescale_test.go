package quant

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
)

// withPhaseScales returns m's bundle payload with every phaseScalable transposed conv's Cout
// weight scales repeated over the S·S phases (the same function, in the phase-scale form),
// and how many layers it rewrote. With distinct, phase g's scales are multiplied by 1+g/8: a
// different function, whose phases only an epilogue applying each phase's scales where the
// scatter form does decodes the same.
func withPhaseScales(t *testing.T, m *Model, distinct bool) (*bundle.Payload, int) {
	t.Helper()
	p, err := m.BundlePayload(bundle.Provenance{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range m.dec {
		sp := d.spec
		if !phaseScalable(&sp) {
			continue
		}
		name := scaleName(convName(sp.Prefix))
		for i := range p.Tensors {
			if p.Tensors[i].Name != name {
				continue
			}
			var rep []float32
			for g := range sp.S * sp.S {
				for _, v := range d.rowScale {
					if distinct {
						v *= 1 + float32(g)/8
					}
					rep = append(rep, v)
				}
			}
			p.Tensors[i] = bundle.FromFloat32(name, []int{len(rep)}, rep)
			n++
		}
	}
	return p, n
}

// TestPhaseScalesExact: a bundle whose transposed convs carry phase scales (qdeconv.rowScale)
// all equal to their channel's scale decodes bit-identically to the per-channel model, on
// every kernel implementation, through the phase-split and the scatter form, with symmetric
// and shifted zero points: the phase-scale epilogues (row-run requantisation with odd-sided
// tails, the image loops, the phase-split multipliers) apply each scale where the
// per-channel path does.
func TestPhaseScalesExact(t *testing.T) {
	models := map[string]func(testing.TB) (*model.Model, *Model, *model.Sequence){"walker": walker, "cnnha-actions": small}
	for name, load := range models {
		fm, _, _ := load(t)
		for _, zeros := range []map[string]int32{nil, shiftedZeros(fm.Arch)} {
			ref, err := QuantizeAffine(fm, fixedScales(fm.Arch, 4), zeros)
			if err != nil {
				t.Fatal(err)
			}
			p, n := withPhaseScales(t, ref, false)
			if n == 0 {
				t.Fatalf("%s: no layer takes phase scales; the test compares nothing", name)
			}
			qm, err := FromBundle(p)
			if err != nil {
				t.Fatal(err)
			}
			requant := 0
			for _, d := range qm.dec {
				if d.rowMulq != nil {
					requant++
				}
			}
			if requant == 0 {
				t.Fatalf("%s: no layer requantises with phase scales", name)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			deter, stoch := make([]float32, fm.Arch.Deter), make([]float32, fm.Arch.Stoch)
			for i := range deter {
				deter[i] = float32(rng.NormFloat64())
			}
			for i := range stoch {
				stoch[i] = float32(rng.NormFloat64())
			}
			sig := fm.Arch.DecoderSigmoid
			for i, k := range append(armkernels.Implementations(), armkernels.Default()) {
				for _, split := range []bool{true, false} {
					want, got := make([]float32, model.ImageValues), make([]float32, model.ImageValues)
					ref.Arch.DecoderSigmoid = sig != (i == len(armkernels.Implementations()))
					qm.Arch.DecoderSigmoid = ref.Arch.DecoderSigmoid
					if !split {
						for _, d := range qm.dec {
							d.ph = nil
						}
					}
					if err := ref.NewRunner(k).Decode(want, deter, stoch); err != nil {
						t.Fatal(err)
					}
					if err := qm.NewRunner(k).Decode(got, deter, stoch); err != nil {
						t.Fatal(err)
					}
					for j := range want {
						if got[j] != want[j] {
							t.Fatalf("%s %s (split %v, zeros %v): image[%d] = %v with phase scales, %v with channel scales", name, k.Name, split, zeros != nil, j, got[j], want[j])
						}
					}
				}
			}
			ref.Arch.DecoderSigmoid, qm.Arch.DecoderSigmoid = sig, sig
		}
	}
}

// TestPhaseScalesRefused: an InstanceNorm decoder layer cannot take phase scales; a bundle
// that gives it some is an error, not a wrong image or a panic.
func TestPhaseScalesRefused(t *testing.T) {
	fm, err := model.Load(filepath.Join("..", "model", "testdata", "golden", "resnet"))
	if err != nil {
		t.Fatal(err)
	}
	qm, err := Quantize(fm, fixedScales(fm.Arch, 4))
	if err != nil {
		t.Fatal(err)
	}
	p, err := qm.BundlePayload(bundle.Provenance{})
	if err != nil {
		t.Fatal(err)
	}
	sp := model.DecoderLayers(fm.Arch)[0]
	if !sp.InstNorm {
		t.Fatalf("%s has no InstanceNorm", sp.Prefix)
	}
	name := scaleName(convName(sp.Prefix))
	found := false
	for i := range p.Tensors {
		if p.Tensors[i].Name == name {
			rep := make([]float32, sp.S*sp.S*sp.Cout)
			for j := range rep {
				rep[j] = 0.01
			}
			p.Tensors[i] = bundle.FromFloat32(name, []int{len(rep)}, rep)
			found = true
		}
	}
	if !found {
		t.Fatalf("bundle lacks %s", name)
	}
	if _, err := FromBundle(p); !errors.Is(err, model.ErrArch) {
		t.Fatalf("phase scales on an InstanceNorm layer: error %v, want model.ErrArch", err)
	}
}
