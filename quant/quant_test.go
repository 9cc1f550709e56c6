package quant

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
	"github.com/rssmd/rssmd/model/seqio"
)

// small returns the committed cnnha-actions golden model, quantised with max-abs scales
// measured by this test's own float pass (calibration/ does it properly), and its sequence.
func small(t testing.TB) (*model.Model, *Model, *model.Sequence) {
	t.Helper()
	dir := filepath.Join("..", "model", "testdata", "golden", "cnnha-actions")
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
	return fm, qm, seq
}

func cos(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func byName(out []model.NamedArray, name string) []float32 {
	for _, a := range out {
		if a.Name == name {
			return a.Data
		}
	}
	return nil
}

// TestSmallModelTracksFloat checks the int8 path stays close to float32 on a model whose
// activations are O(1) even with fixed, uncalibrated scales.
func TestSmallModelTracksFloat(t *testing.T) {
	fm, qm, seq := small(t)
	opt := model.FilterOptions{RolloutStart: 8, RolloutHorizon: 4}
	want, err := model.Filter(fm.NewRunner(), seq, opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.Filter(qm.NewRunner(nil), seq, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("int8 filter gives %d arrays, float32 %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || len(got[i].Data) != len(want[i].Data) {
			t.Fatalf("array %d: int8 %s (%d values), float32 %s (%d)", i, got[i].Name, len(got[i].Data), want[i].Name, len(want[i].Data))
		}
	}
	H := fm.Arch.Deter
	fd, qd := byName(want, "deter"), byName(got, "deter")
	for s := 0; s < len(fd)/H; s++ {
		if c := cos(fd[s*H:(s+1)*H], qd[s*H:(s+1)*H]); c < 0.99 {
			t.Errorf("step %d: deter cosine %.5f < 0.99", s, c)
		}
	}
	fr, qr := byName(want, "recon"), byName(got, "recon")
	var se float64
	for i := range fr {
		d := float64(fr[i] - qr[i])
		se += d * d
	}
	if psnr := 10 * math.Log10(float64(len(fr))/se); psnr < 30 {
		t.Errorf("recon PSNR vs float32 %.1f dB < 30", psnr)
	}
}

// TestKernelsAgree: the GEMM is exact in int32 on every implementation, so every kernel must
// give bit-identical outputs.
func TestKernelsAgree(t *testing.T) {
	_, qm, seq := small(t)
	opt := model.FilterOptions{RolloutStart: 8, RolloutHorizon: 4}
	var ref []model.NamedArray
	for _, k := range armkernels.Implementations() {
		got, err := model.Filter(qm.NewRunner(k), seq, opt)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = got
			continue
		}
		for i := range ref {
			for j := range ref[i].Data {
				if math.Float32bits(ref[i].Data[j]) != math.Float32bits(got[i].Data[j]) {
					t.Fatalf("kernel %s: %s[%d] = %v, ref gives %v", k.Name, got[i].Name, j, got[i].Data[j], ref[i].Data[j])
				}
			}
		}
	}
}

func TestNoAllocations(t *testing.T) {
	_, qm, seq := small(t)
	r := qm.NewRunner(nil)
	a := qm.Arch
	s := model.NewStateFor(a)
	out := a.NewStepOutput()
	lik := a.NewLikelihood()
	img := make([]float32, model.ImageValues)
	targets := make([]float32, len(a.Heads))
	tests := []struct {
		name string
		f    func()
	}{
		{"PosteriorStep", func() { r.PosteriorStep(&s, seq.Action(1), seq.Frame(1), false, out, nil) }},
		{"PriorStep", func() { r.PriorStep(&s, seq.Action(2), out, nil) }},
		{"Decode", func() { r.Decode(img, s.Deter, s.Stoch) }},
		{"Evaluate", func() { r.Evaluate(s.Deter, s.Stoch, seq.Frame(1), targets, 1, img, lik) }},
	}
	for _, tc := range tests {
		if n := testing.AllocsPerRun(20, tc.f); n != 0 {
			t.Errorf("%s allocates %v times per call", tc.name, n)
		}
	}
}

func TestBadInputs(t *testing.T) {
	_, qm, seq := small(t)
	r := qm.NewRunner(nil)
	a := qm.Arch
	s := model.NewStateFor(a)
	out := a.NewStepOutput()
	nan := make([]float32, a.ActionDim)
	nan[0] = float32(math.NaN())
	short := model.State{Deter: make([]float32, a.Deter-1), Stoch: make([]float32, a.Stoch)}
	tests := []struct {
		name string
		err  error
	}{
		{"short image", r.PosteriorStep(&s, seq.Action(0), seq.Frame(0)[:100], true, out, nil)},
		{"action length", r.PosteriorStep(&s, seq.Action(0)[:1], seq.Frame(0), true, out, nil)},
		{"NaN action", r.PriorStep(&s, nan, out, nil)},
		{"short state", r.PriorStep(&short, seq.Action(0), out, nil)},
		{"short decode buffer", r.Decode(make([]float32, 10), s.Deter, s.Stoch)},
	}
	for _, tc := range tests {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestQuantizeNeedsScales(t *testing.T) {
	fm, _, _ := small(t)
	sc := fixedScales(fm.Arch, 4)
	delete(sc, PointEmb)
	if _, err := Quantize(fm, sc); err == nil {
		t.Error("Quantize without an emb scale succeeded")
	}
	sc = fixedScales(fm.Arch, 4)
	sc[PointDeter] = float32(math.Inf(1))
	if _, err := Quantize(fm, sc); err == nil {
		t.Error("Quantize with an infinite scale succeeded")
	}
}

// TestBundleRoundTrip: an int8 bundle reloads to a model with bit-identical outputs, and is
// far smaller than the float32 bundle.
func TestBundleRoundTrip(t *testing.T) {
	fm, qm, seq := small(t)
	qm.Meta["calibration_method"] = "test"
	dir := t.TempDir()
	path := filepath.Join(dir, "m.int8.rssm")
	if err := SaveBundle(qm, path, bundle.Provenance{CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Meta["calibration_method"] != "test" {
		t.Errorf("meta lost: %v", back.Meta)
	}
	opt := model.FilterOptions{RolloutStart: 8, RolloutHorizon: 4}
	want, _ := model.Filter(qm.NewRunner(nil), seq, opt)
	got, err := model.Filter(back.NewRunner(nil), seq, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for j := range want[i].Data {
			if math.Float32bits(want[i].Data[j]) != math.Float32bits(got[i].Data[j]) {
				t.Fatalf("%s[%d]: reloaded %v, original %v", want[i].Name, j, got[i].Data[j], want[i].Data[j])
			}
		}
	}
	fpath := filepath.Join(dir, "m.f32.rssm")
	if err := model.SaveBundle(fm, fpath, bundle.Provenance{}); err != nil {
		t.Fatal(err)
	}
	qs, _ := os.Stat(path)
	fs, _ := os.Stat(fpath)
	t.Logf("int8 bundle %d bytes, float32 %d (%.1f%%)", qs.Size(), fs.Size(), 100*float64(qs.Size())/float64(fs.Size()))
	if _, err := Load(fpath); err == nil {
		t.Error("Load accepted a float32 bundle")
	}
}

func TestHostileBundles(t *testing.T) {
	_, qm, _ := small(t)
	mutate := []struct {
		name string
		f    func(p *bundle.Payload)
	}{
		{"float kind", func(p *bundle.Payload) { p.Kind = bundle.KindFloat32 }},
		{"bad arch json", func(p *bundle.Payload) { p.ArchJSON = []byte("{") }},
		{"huge deter", func(p *bundle.Payload) {
			p.ArchJSON = bytes.Replace(p.ArchJSON, []byte(`"Deter":48`), []byte(`"Deter":1000000000`), 1)
		}},
		{"missing tensor", func(p *bundle.Payload) { p.Tensors = p.Tensors[1:] }},
		{"bad scale", func(p *bundle.Payload) {
			for i := range p.Tensors {
				if p.Tensors[i].Name == scaleName(segName("memory_cell.input_layer", 0)) {
					p.Tensors[i] = bundle.FromFloat32(p.Tensors[i].Name, p.Tensors[i].Shape, make([]float32, p.Tensors[i].Shape[0]))
				}
			}
		}},
		{"wrong shape", func(p *bundle.Payload) {
			for i := range p.Tensors {
				if p.Tensors[i].Dtype == "i8" {
					p.Tensors[i].Shape = []int{1, len(p.Tensors[i].Data)}
					break
				}
			}
		}},
		{"-128 weight", func(p *bundle.Payload) {
			for i := range p.Tensors {
				if p.Tensors[i].Dtype == "i8" {
					p.Tensors[i].Data[0] = 0x80
					break
				}
			}
		}},
		{"int32 tensor", func(p *bundle.Payload) { p.Tensors = append(p.Tensors, bundle.FromInt32("x", []int{1}, []int32{1})) }},
	}
	for _, tc := range mutate {
		t.Run(tc.name, func(t *testing.T) {
			p, err := qm.BundlePayload(bundle.Provenance{})
			if err != nil {
				t.Fatal(err)
			}
			tc.f(p)
			if _, err := FromBundle(p); err == nil {
				t.Fatal("accepted")
			} else if tc.name == "huge deter" && !errors.Is(err, model.ErrArch) {
				t.Errorf("error %v does not wrap model.ErrArch", err)
			}
		})
	}
}
