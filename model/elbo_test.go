package model

import (
	"math"
	"testing"
)

// fakeEval decodes a constant image and returns fixed head outputs, so EvaluateStep's sums
// can be checked by hand.
type fakeEval struct {
	a     *Arch
	pixel float32
	heads [][]float32
}

func (f *fakeEval) Arch() *Arch { return f.a }
func (f *fakeEval) Decode(img []float32, deter, stoch []float32) error {
	for i := range img[:ImageValues] {
		img[i] = f.pixel
	}
	return nil
}
func (f *fakeEval) Head(i int, deter, stoch []float32) []float32 { return f.heads[i] }

func TestEvaluateStepAssembly(t *testing.T) {
	a := &Arch{Deter: 2, Stoch: 3, Decoder: "cnn_ha", Heads: []HeadArch{
		{Name: "reward", Kind: HeadDMLP}, {Name: "is_terminal", Kind: HeadBinary}, {Name: "extra", Kind: HeadDMLP},
	}}
	f := &fakeEval{a: a, pixel: 0.25, heads: [][]float32{{1.5}, {0.25}, {7}}}
	img := make([]uint8, ImageValues) // x = 0: every pixel off by 0.25
	lik := a.NewLikelihood()
	mean := make([]float32, ImageValues)
	targets := []float32{0.5, 1, float32(math.NaN())}
	if err := EvaluateStep(f, mean, make([]float32, 2), make([]float32, 3), img, targets, 2, nil, lik); err != nil {
		t.Fatal(err)
	}
	wantRecon := -0.5 * 0.0625 * ImageValues
	wantReward := -0.5 * 1.0   // (0.5 − 1.5)²
	wantTerm := math.Log(0.25) // Bernoulli, target 1
	if math.Abs(float64(lik.Recon)-wantRecon) > 1e-3 || math.Abs(float64(lik.Heads[0])-wantReward) > 1e-6 ||
		math.Abs(float64(lik.Heads[1])-wantTerm) > 1e-5 || !math.IsNaN(float64(lik.Heads[2])) {
		t.Fatalf("terms %+v, want recon %v, heads [%v %v NaN]", lik, wantRecon, wantReward, wantTerm)
	}
	if want := wantRecon + wantReward + wantTerm - 2; math.Abs(float64(lik.ELBO)-want) > 1e-3 {
		t.Errorf("ELBO %v, want %v (the NaN-target head left out)", lik.ELBO, want)
	}
	if mean[0] != 0.25 {
		t.Error("without recon the mean was not decoded into the scratch")
	}
	recon := make([]float32, ImageValues)
	if err := EvaluateStep(f, mean, make([]float32, 2), make([]float32, 3), img, targets, 2, recon, lik); err != nil || recon[ImageValues-1] != 0.25 {
		t.Errorf("recon not written: %v", err)
	}
	for name, call := range map[string]func() error{
		"short image": func() error {
			return EvaluateStep(f, mean, make([]float32, 2), make([]float32, 3), img[1:], nil, 0, nil, lik)
		},
		"short deter": func() error {
			return EvaluateStep(f, mean, make([]float32, 1), make([]float32, 3), img, nil, 0, nil, lik)
		},
		"few slots": func() error {
			return EvaluateStep(f, mean, make([]float32, 2), make([]float32, 3), img, nil, 0, nil, &Likelihood{})
		},
	} {
		if call() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
