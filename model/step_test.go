package model_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
	"github.com/rssmd/rssmd/model/seqio"
)

// variants returns every committed variant model, loaded.
func variants(t testing.TB) map[string]*model.Model {
	t.Helper()
	out := map[string]*model.Model{}
	for name := range VariantRollouts {
		m, err := model.Load(filepath.Join("testdata", "golden", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = m
	}
	return out
}

func testImage(seed uint64) []uint8 {
	r := rand.New(rand.NewPCG(seed, 1))
	img := make([]uint8, model.ImageValues)
	for i := range img {
		img[i] = uint8(r.IntN(256))
	}
	return img
}

// TestStepsDoNotAllocate: once a Runner and its buffers exist, no step allocates.
func TestStepsDoNotAllocate(t *testing.T) {
	for name, m := range variants(t) {
		t.Run(name, func(t *testing.T) {
			a := m.Arch
			r := m.NewRunner()
			s := m.NewState()
			out := a.NewStepOutput()
			lik := a.NewLikelihood()
			img := testImage(1)
			act := make([]float32, a.ActionDim)
			recon := make([]float32, model.ImageValues)
			targets := make([]float32, len(a.Heads))
			noise := rand.New(rand.NewPCG(1, 2))
			for _, tc := range []struct {
				name string
				f    func()
			}{
				{"posterior", func() { r.PosteriorStep(&s, act, img, false, out, nil) }},
				{"posterior-sampled", func() { r.PosteriorStep(&s, act, img, false, out, noise) }},
				{"prior", func() { r.PriorStep(&s, act, out, nil) }},
				{"decode", func() { r.Decode(recon, s.Deter, s.Stoch) }},
				{"evaluate", func() { r.Evaluate(s.Deter, s.Stoch, img, targets, 1, recon, lik) }},
			} {
				if n := testing.AllocsPerRun(5, tc.f); n != 0 {
					t.Errorf("%s allocates %v times per call", tc.name, n)
				}
			}
		})
	}
}

// TestBadStepInputs: wrong-length and NaN actions and wrong-size frames are errors, and the
// state is left untouched by a rejected step.
func TestBadStepInputs(t *testing.T) {
	m := variants(t)["cnnha-actions"]
	r := m.NewRunner()
	s := m.NewState()
	out := m.Arch.NewStepOutput()
	img := testImage(2)
	good := make([]float32, m.Arch.ActionDim)
	if err := r.PosteriorStep(&s, good, img, true, out, nil); err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), s.Deter...)
	nan := append([]float32(nil), good...)
	nan[2] = float32(math.NaN())
	inf := append([]float32(nil), good...)
	inf[0] = float32(math.Inf(1))
	for _, tc := range []struct {
		name   string
		act    []float32
		img    []uint8
		target error
	}{
		{"short action", good[:3], img, model.ErrActionLength},
		{"long action", append(good, 0), img, model.ErrActionLength},
		{"NaN action", nan, img, model.ErrActionNaN},
		{"Inf action", inf, img, model.ErrActionNaN},
		{"small frame", good, img[:100], model.ErrImageSize},
		{"big frame", good, append(img, 1, 2, 3), model.ErrImageSize},
	} {
		err := r.PosteriorStep(&s, tc.act, tc.img, false, out, nil)
		if !errors.Is(err, tc.target) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.target)
		}
		for i := range before {
			if s.Deter[i] != before[i] {
				t.Fatalf("%s: rejected step changed the state", tc.name)
			}
		}
	}
	if err := r.PriorStep(&s, nan, out, nil); !errors.Is(err, model.ErrActionNaN) {
		t.Errorf("prior step with NaN action: %v", err)
	}
}

// TestSamplingIsSeededAndCentred: the sampled path is reproducible for a seed, differs from
// the mean path, and its draws have the posterior's mean and std.
func TestSamplingIsSeededAndCentred(t *testing.T) {
	m := variants(t)["cnnha-actions"]
	a := m.Arch
	img := testImage(3)
	act := make([]float32, a.ActionDim)
	run := func(seed uint64) []float32 {
		r := m.NewRunner()
		s := m.NewState()
		out := a.NewStepOutput()
		if err := r.PosteriorStep(&s, act, img, true, out, rand.New(rand.NewPCG(seed, 9))); err != nil {
			t.Fatal(err)
		}
		return s.Stoch
	}
	a1, a2, b := run(1), run(1), run(2)
	for i := range a1 {
		if a1[i] != a2[i] {
			t.Fatal("same seed gave different samples")
		}
	}
	if a1[0] == b[0] && a1[1] == b[1] {
		t.Fatal("different seeds gave the same sample")
	}
	// Many draws from one state: the sample mean approaches the posterior mean.
	r := m.NewRunner()
	out := a.NewStepOutput()
	noise := rand.New(rand.NewPCG(7, 7))
	const n = 2000
	sum := make([]float64, a.Stoch)
	for k := 0; k < n; k++ {
		s := m.NewState()
		if err := r.PosteriorStep(&s, act, img, true, out, noise); err != nil {
			t.Fatal(err)
		}
		for i, v := range s.Stoch {
			sum[i] += float64(v)
		}
	}
	for i := range sum {
		mean := sum[i] / n
		se := float64(out.PosteriorStd[i]) / math.Sqrt(n)
		if d := math.Abs(mean - float64(out.PosteriorMean[i])); d > 5*se {
			t.Errorf("dim %d: sample mean %.4f vs posterior mean %.4f (5 s.e. = %.4f)", i, mean, out.PosteriorMean[i], 5*se)
		}
	}
}

// TestBundleRoundTrip: a float32 bundle gives bit-identical outputs to the original folder.
func TestBundleRoundTrip(t *testing.T) {
	for name, m := range variants(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.rssm")
			if err := model.SaveBundle(m, path, bundle.Provenance{SourcePath: name}); err != nil {
				t.Fatal(err)
			}
			b, err := model.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			seq, err := seqio.ReadSequenceFile(filepath.Join("testdata", "golden", name, "seq.npz"))
			if err != nil {
				t.Fatal(err)
			}
			r := VariantRollouts[name]
			opt := model.FilterOptions{RolloutStart: r[0], RolloutHorizon: r[1]}
			want, err := model.Filter(m.NewRunner(), seq, opt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := model.Filter(b.NewRunner(), seq, opt)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				for j := range want[i].Data {
					if math.Float32bits(want[i].Data[j]) != math.Float32bits(got[i].Data[j]) {
						t.Fatalf("%s[%d]: bundle gives %v, folder gives %v", want[i].Name, j, got[i].Data[j], want[i].Data[j])
					}
				}
			}
		})
	}
}

// TestBundleCorruption: truncated, bit-flipped and foreign files are clear errors.
func TestBundleCorruption(t *testing.T) {
	m := variants(t)["min-std-null"]
	var buf bytes.Buffer
	p, err := m.BundlePayload(bundle.Provenance{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bundle.Encode(&buf, p); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flip := append([]byte(nil), good...)
	flip[len(flip)/2] ^= 0x10
	badVersion := append([]byte(nil), good...)
	badVersion[8] = 99
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"truncated", good[:len(good)-100], bundle.ErrCorrupt},
		{"header only", good[:30], bundle.ErrCorrupt},
		{"bit flip", flip, bundle.ErrCorrupt},
		{"version", badVersion, bundle.ErrVersion},
		{"not a bundle", []byte("PK\x03\x04 not a bundle at all"), bundle.ErrNotBundle},
		{"empty", nil, bundle.ErrNotBundle},
	} {
		_, err := bundle.Decode(tc.data)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	// A bundle whose tensors disagree with its architecture is refused by the model.
	p.Tensors[len(p.Tensors)-1].Shape = []int{1, len(p.Tensors[len(p.Tensors)-1].Data) / 4}
	path := filepath.Join(t.TempDir(), "bad.rssm")
	if err := bundle.WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	if _, err := model.Load(path); err == nil {
		t.Error("bundle with a reshaped tensor loaded without error")
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Error("temporary file left behind")
	}
}
