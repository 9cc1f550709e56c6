package model_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
)

func walker(b *testing.B) (*model.Model, string) {
	b.Helper()
	dir := filepath.Join(sharedTestdata(b), "models", "walker-wm-synthetic")
	m, err := model.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	return m, dir
}

// BenchmarkWalkerFloat32 times the float32 steps of the shared walker model (batch 1, one
// goroutine). Compare with tools/reference/bench_torch.py for PyTorch on the same machine.
func BenchmarkWalkerFloat32(b *testing.B) {
	m, _ := walker(b)
	a := m.Arch
	r := m.NewRunner()
	s := m.NewState()
	out := a.NewStepOutput()
	img := testImage(5)
	act := make([]float32, a.ActionDim)
	recon := make([]float32, model.ImageValues)
	lik := a.NewLikelihood()
	targets := make([]float32, len(a.Heads))
	b.Run("filter-step", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.PosteriorStep(&s, act, img, false, out, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(a.Count().FilterStep)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	})
	b.Run("prior-step", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.PriorStep(&s, act, out, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Decode(recon, s.Deter, s.Stoch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("likelihood", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Evaluate(s.Deter, s.Stoch, img, targets, 1, nil, lik); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLoad compares parsing the original model.pt folder with loading the native bundle.
func BenchmarkLoad(b *testing.B) {
	m, dir := walker(b)
	path := filepath.Join(b.TempDir(), "walker.rssm")
	if err := model.SaveBundle(m, path, bundle.Provenance{}); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(path)
	b.Run("original-folder", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for b.Loop() {
			if _, err := model.Load(dir); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bundle", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for b.Loop() {
			if _, err := model.Load(path); err != nil {
				b.Fatal(err)
			}
		}
	})
}
