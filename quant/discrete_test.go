package quant

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

// TestColLinearBitIdentical: the column-major pre_memory gives model.Linear.Forward's bits for
// one-hot, dense, all-zero and signed-zero inputs, at widths around the four-way unroll.
func TestColLinearBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, in := range []int{1, 3, 4, 5, 7, 36, 1030} {
		for _, out := range []int{1, 5, 64} {
			l := model.Linear{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out)}
			for i := range l.W {
				l.W[i] = float32(rng.NormFloat64()) * 0.3
			}
			for i := range l.B {
				l.B[i] = float32(rng.NormFloat64())
			}
			c := newColLinear(&l)
			inputs := map[string][]float32{"zero": make([]float32, in), "dense": make([]float32, in), "onehot": make([]float32, in), "negzero": make([]float32, in)}
			for i := range in {
				inputs["dense"][i] = float32(rng.NormFloat64())
				if i%5 == 2 {
					inputs["onehot"][i] = 1
				}
				inputs["negzero"][i] = float32(math.Copysign(0, -1))
				if i%3 == 0 {
					inputs["negzero"][i] = float32(rng.NormFloat64())
				}
			}
			for name, x := range inputs {
				want, got := make([]float32, out), make([]float32, out)
				l.Forward(want, x)
				c.forward(got, x)
				for j := range want {
					if math.Float32bits(want[j]) != math.Float32bits(got[j]) {
						t.Fatalf("in %d out %d %s: y[%d] = %v, model.Linear gives %v", in, out, name, j, got[j], want[j])
					}
				}
			}
		}
	}
}

// TestDiscreteKLMatchesModel: the vectorised categorical KL against model.DiscreteKL, with logit
// scales from flat to saturated (probabilities beyond the clamp on both sides).
func TestDiscreteKLMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range armkernels.Implementations() {
		for _, shape := range [][2]int{{32, 32}, {4, 5}, {1, 2}} {
			g, c := shape[0], shape[1]
			n := g * c
			for _, scale := range []float64{0.01, 1, 5, 40} {
				q, p := make([]float32, n), make([]float32, n)
				for i := range q {
					q[i] = float32(rng.NormFloat64() * scale)
					p[i] = float32(rng.NormFloat64() * scale)
				}
				want := float64(model.DiscreteKL(q, p, g, c))
				got := float64(discreteKL(k, q, p, g, c, make([]float32, 2*n+2*g)))
				if d := math.Abs(got - want); d > 1e-5*math.Abs(want) && d > 1e-6 {
					t.Errorf("%s %dx%d scale %g: KL %v, model gives %v", k.Name, g, c, scale, got, want)
				}
				// Identical heads: zero KL.
				if kl := discreteKL(k, q, q, g, c, make([]float32, 2*n+2*g)); math.Abs(float64(kl)) > 1e-6 {
					t.Errorf("%s %dx%d scale %g: KL(q||q) = %v", k.Name, g, c, scale, kl)
				}
			}
		}
	}
}

// TestDiscreteStep: on the discrete golden model, at every step the gathered pre_memory of the
// step's real one-hot [stoch, action] input equals the dense float layer bit for bit, the KL is
// model.DiscreteKL of the step's own logits, and neither step nor prior step allocates.
func TestDiscreteStep(t *testing.T) {
	dir := filepath.Join("..", "model", "testdata", "golden", "discrete")
	fm, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := seqio.ReadSequenceFile(filepath.Join(dir, "seq.npz"))
	if err != nil {
		t.Fatal(err)
	}
	qm, err := Quantize(fm, fixedScales(fm.Arch, 4))
	if err != nil {
		t.Fatal(err)
	}
	a := qm.Arch
	if !a.Discrete {
		t.Fatal("golden 'discrete' is not a discrete model")
	}
	r := qm.NewRunner(nil)
	s := model.NewStateFor(a)
	out := a.NewStepOutput()
	want, got := make([]float32, a.Hidden), make([]float32, a.Hidden)
	for t0 := 0; t0 < seq.T; t0++ {
		if err := r.PosteriorStep(&s, seq.Action(t0), seq.Frame(t0), t0 == 0, out, nil); err != nil {
			t.Fatal(err)
		}
		ones := 0
		for _, v := range r.preIn[:a.Stoch] {
			if v == 1 {
				ones++
			}
		}
		if t0 > 0 && ones != a.Groups {
			t.Fatalf("step %d: pre_memory input has %d ones in its stoch, want one per group (%d)", t0, ones, a.Groups)
		}
		qm.preMem.Forward(want, r.preIn)
		r.pre.forward(got, r.preIn)
		for i := range want {
			if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
				t.Fatalf("step %d: pre_memory[%d] %v, dense layer gives %v", t0, i, got[i], want[i])
			}
		}
		kl := model.DiscreteKL(out.PosteriorLogits, out.PriorLogits, a.Groups, a.Classes)
		if d := math.Abs(float64(out.KL - kl)); d > 1e-5*math.Abs(float64(kl)) && d > 1e-6 {
			t.Errorf("step %d: KL %v, model.DiscreteKL gives %v", t0, out.KL, kl)
		}
	}
	if n := testing.AllocsPerRun(20, func() { r.PosteriorStep(&s, seq.Action(1), seq.Frame(1), false, out, nil) }); n != 0 {
		t.Errorf("discrete PosteriorStep allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(20, func() { r.PriorStep(&s, seq.Action(1), out, nil) }); n != 0 {
		t.Errorf("discrete PriorStep allocates %v times per call", n)
	}
}

// BenchmarkDiscreteKL: the categorical KL of the discrete heads (32 groups × 32 classes).
func BenchmarkDiscreteKL(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	const g, c = 32, 32
	q, p := make([]float32, g*c), make([]float32, g*c)
	for i := range q {
		q[i] = float32(rng.NormFloat64() * 3)
		p[i] = float32(rng.NormFloat64() * 3)
	}
	tmp := make([]float32, 2*g*c+2*g)
	k := armkernels.Default()
	b.ReportAllocs()
	for b.Loop() {
		discreteKL(k, q, p, g, c, tmp)
	}
}
