package quant

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

// sharedTestdata returns <repo>/../shared/testdata. Outside CI a missing folder skips the
// test; in CI (env CI set) it fails, because CI provides it.
func sharedTestdata(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must provide %s: %v", dir, err)
		}
		t.Skipf("shared test data not present at %s (a fresh clone has none; CI provides it)", dir)
	}
	return dir
}

// maxAbsScales gives every point the scale of a fixed range: enough for speed tests, which do
// not depend on the values.
func fixedScales(a *model.Arch, r float32) map[string]float32 {
	s := map[string]float32{}
	for _, p := range Points(a) {
		s[p] = r / 127
	}
	return s
}

func walker(b testing.TB) (*model.Model, *Model, *model.Sequence) {
	td := sharedTestdata(b)
	fm, err := model.Load(filepath.Join(td, "models", "walker-wm-synthetic"))
	if err != nil {
		b.Fatal(err)
	}
	qm, err := Quantize(fm, fixedScales(fm.Arch, 4))
	if err != nil {
		b.Fatal(err)
	}
	seq, err := seqio.ReadSequenceFile(filepath.Join(td, "sequences", "seq-00.npz"))
	if err != nil {
		b.Fatal(err)
	}
	return fm, qm, seq
}

func BenchmarkWalker(b *testing.B) {
	_, qm, seq := walker(b)
	r := qm.NewRunner(nil)
	s := model.NewStateFor(qm.Arch)
	out := qm.Arch.NewStepOutput()
	img := make([]float32, model.ImageValues)
	b.Run("filter", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			t := i % seq.T
			if err := r.PosteriorStep(&s, seq.Action(t), seq.Frame(t), t == 0, out, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.Encode(r.emb, seq.Frame(3))
		}
	})
	b.Run("prior", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.PriorStep(&s, seq.Action(3), out, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Decode(img, s.Deter, s.Stoch); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBundle times one int8 bundle named by RSSMD_BENCH_BUNDLE (any variant, e.g. one
// tools/peers made: build/peers/rssmo-m/int8.rssm), so a profile of any variant is one
// command: RSSMD_BENCH_BUNDLE=... go test ./quant -run - -bench Bundle -cpuprofile cpu.out.
// Frames and actions are fixed pseudo-random values: the speed does not depend on them.
func BenchmarkBundle(b *testing.B) {
	path := os.Getenv("RSSMD_BENCH_BUNDLE")
	if path == "" {
		b.Skip("RSSMD_BENCH_BUNDLE not set (an int8 bundle to time)")
	}
	qm, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	r := qm.NewRunner(nil)
	s := model.NewStateFor(qm.Arch)
	out := qm.Arch.NewStepOutput()
	frame := make([]uint8, model.ImageValues)
	for i := range frame {
		frame[i] = uint8(i * 37 >> 3)
	}
	act := make([]float32, qm.Arch.ActionDim)
	for i := range act {
		act[i] = float32(i%3-1) * 0.5
	}
	img := make([]float32, model.ImageValues)
	b.Run("filter", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := r.PosteriorStep(&s, act, frame, i == 0, out, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Decode(img, s.Deter, s.Stoch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
