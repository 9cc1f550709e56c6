package calibration

import (
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
	"github.com/rssmd/rssmd/quant"
)

// deconvRows returns a transposed conv's weights (PyTorch [Cin][Cout][K][K]) as the int8
// kernel's rows [ky][kx][Cout] × Cin.
func deconvRows(sp model.ConvSpec, w []float32) []float64 {
	k, cin, cout := sp.K, sp.Cin, sp.Cout
	re := make([]float64, k*k*cout*cin)
	for ci := 0; ci < cin; ci++ {
		for co := 0; co < cout; co++ {
			for t := 0; t < k*k; t++ {
				re[(t*cout+co)*cin+ci] = float64(w[(ci*cout+co)*k*k+t])
			}
		}
	}
	return re
}

// dequantDeconv returns the int8 model's dequantised weights of transposed conv sp, as
// deconvRows orders them, read from its bundle payload (channel or phase scales).
func dequantDeconv(t *testing.T, p *bundle.Payload, sp model.ConvSpec) []float64 {
	t.Helper()
	var q []int8
	var sc []float32
	for i := range p.Tensors {
		td := &p.Tensors[i]
		var err error
		switch td.Name {
		case sp.Prefix + ".weight.q":
			q, err = td.Int8()
		case sp.Prefix + ".weight.q.scale":
			sc, err = td.Float32()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	phased := len(sc) == sp.S*sp.S*sp.Cout
	if q == nil || (len(sc) != sp.Cout && !phased) {
		t.Fatalf("bundle lacks the int8 weights of %s", sp.Prefix)
	}
	out := make([]float64, len(q))
	for r := 0; r < len(q)/sp.Cin; r++ {
		g := r % sp.Cout
		if phased { // a scale per (ky mod S, kx mod S, channel)
			tp := r / sp.Cout
			g += (tp/sp.K%sp.S*sp.S + tp%sp.K%sp.S) * sp.Cout
		}
		s := float64(sc[g])
		for ci := 0; ci < sp.Cin; ci++ {
			out[r*sp.Cin+ci] = s * float64(q[r*sp.Cin+ci])
		}
	}
	return out
}

// seedSQNR is gramSQNR of the int8 model's merged decoder seed (bundle payload p) against
// the float32 composition of the decoder's Linear and first transposed conv.
func seedSQNR(t *testing.T, fm *model.Model, p *bundle.Payload, g []float64) float64 {
	t.Helper()
	a := fm.Arch
	sp := model.DecoderLayers(a)[0]
	in := a.Deter + a.Stoch
	wl := fm.Tensors["decoders.image.net.0.weight"].Data
	wd := fm.Tensors[sp.Prefix+".weight"].Data
	kk := sp.K * sp.K
	rows := kk * sp.Cout
	w := make([]float64, rows*in)
	for ci := 0; ci < sp.Cin; ci++ {
		for co := 0; co < sp.Cout; co++ {
			for tp := 0; tp < kk; tp++ {
				c := float64(wd[(ci*sp.Cout+co)*kk+tp])
				row := w[(tp*sp.Cout+co)*in:]
				for j := 0; j < in; j++ {
					row[j] += c * float64(wl[ci*in+j])
				}
			}
		}
	}
	tensor := func(name string) *bundle.TensorData {
		for i := range p.Tensors {
			if p.Tensors[i].Name == name {
				return &p.Tensors[i]
			}
		}
		t.Fatalf("bundle lacks %q", name)
		return nil
	}
	wq := make([]float64, rows*in)
	for si, cols := range [][2]int{{0, a.Deter}, {a.Deter, in}} {
		name := quant.SeedName + ".weight#" + strconv.Itoa(si)
		q, err := tensor(name).Int8()
		if err != nil {
			t.Fatal(err)
		}
		sc, err := tensor(name + ".scale").Float32()
		if err != nil {
			t.Fatal(err)
		}
		n := cols[1] - cols[0]
		for r := 0; r < rows; r++ {
			for j := 0; j < n; j++ {
				wq[r*in+cols[0]+j] = float64(sc[r]) * float64(q[r*n+j])
			}
		}
	}
	return gramSQNR(w, wq, g, in)
}

// gramSQNR is a layer's output SQNR in dB on inputs of Gram matrix g: Σ_r w_r·G·w_rᵀ over
// Σ_r Δ_r·G·Δ_rᵀ, Δ = w − ŵ, the rows' output energy over their rounding error's.
func gramSQNR(w, wq, g []float64, n int) float64 {
	quad := func(v []float64) float64 {
		var e float64
		for i := 0; i < n; i++ {
			var r float64
			for j := 0; j < n; j++ {
				r += g[i*n+j] * v[j]
			}
			e += v[i] * r
		}
		return e
	}
	var sig, noise float64
	d := make([]float64, n)
	for r := 0; r < len(w)/n; r++ {
		for i := range d {
			d[i] = w[r*n+i] - wq[r*n+i]
		}
		sig += quad(w[r*n : (r+1)*n])
		noise += quad(d)
	}
	return 10 * math.Log10(sig/noise)
}

// TestDecoderRounding measures calibrated weight quantisation (quant.QuantizeCalibrated:
// output-aware rounding, clip search, phase scales) against round-to-nearest with one scale
// per channel on the demo's rssmo-arm, on the held-out episode's inputs rather than the
// calibration episode's: each layer's output SQNR (from the held-out Gram matrices), the
// decoded image of the whole int8 decoder against float32 on the float32 states, and the
// image with only one transposed conv's weights int8 in the float32 decoder. The images are
// of every other step (50 states), for CI's time.
func TestDecoderRounding(t *testing.T) {
	fm, err := model.Load(filepath.Join("..", "models", "demo", "rssmo-arm"))
	if err != nil {
		t.Fatal(err)
	}
	calib := readSeqs(t, trainedCalibEpisode)[0]
	eval := readSeqs(t, trainedEvalEpisode)[0]
	rtn, err := Calibrate(fm, []*model.Sequence{calib}, Options{RoundToNearest: true})
	if err != nil {
		t.Fatal(err)
	}
	cal, err := Calibrate(fm, []*model.Sequence{calib}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := rtn.BundlePayload(bundle.Provenance{})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := cal.BundlePayload(bundle.Provenance{})
	if err != nil {
		t.Fatal(err)
	}
	grams := map[string][]float64{}
	if _, err := observeGrams(fm, fm.Tensors, []*model.Sequence{eval}, 1, grams, nil); err != nil {
		t.Fatal(err)
	}

	// The float32 states of the held-out episode, and the float32 image of each.
	a := fm.Arch
	fr := fm.NewRunner()
	s := model.NewStateFor(a)
	out := a.NewStepOutput()
	var deters, stochs [][]float32
	for step := 0; step < eval.T; step++ {
		if err := fr.PosteriorStep(&s, eval.Action(step), eval.Frame(step), step == 0, out, nil); err != nil {
			t.Fatal(err)
		}
		if step%2 != 0 {
			continue
		}
		deters = append(deters, append([]float32(nil), s.Deter...))
		stochs = append(stochs, append([]float32(nil), s.Stoch...))
	}
	ref := make([][]float32, len(deters))
	for i := range deters {
		ref[i] = make([]float32, model.ImageValues)
		if err := fr.Decode(ref[i], deters[i], stochs[i]); err != nil {
			t.Fatal(err)
		}
	}
	// medianPSNR is the median over the states of decode's PSNR against ref (HWC, [0,1]).
	medianPSNR := func(decode func(img []float32, i int)) float64 {
		img := make([]float32, model.ImageValues)
		var ps []float64
		for i := range deters {
			decode(img, i)
			var se float64
			for j, v := range img {
				d := float64(v - ref[i][j])
				se += d * d
			}
			ps = append(ps, 10*math.Log10(float64(len(img))/se))
		}
		sort.Float64s(ps)
		return ps[len(ps)/2]
	}
	int8PSNR := func(qm *quant.Model) float64 {
		r := qm.NewRunner(nil)
		return medianPSNR(func(img []float32, i int) {
			if err := r.Decode(img, deters[i], stochs[i]); err != nil {
				t.Fatal(err)
			}
		})
	}
	// floatPSNR decodes in float32 with the weights of ts (the tapper's decoder, CHW).
	floatPSNR := func(ts map[string]*model.Tensor) float64 {
		tp, err := newTapper(fm, ts)
		if err != nil {
			t.Fatal(err)
		}
		obs := newObservers(a)
		const n = model.ImageSize * model.ImageSize
		return medianPSNR(func(img []float32, i int) {
			chw := tp.decode(obs, deters[i], stochs[i])
			for p := 0; p < n; p++ {
				for c := 0; c < 3; c++ {
					v := chw[c*n+p]
					if a.DecoderSigmoid {
						v = model.Sigmoid(v)
					} else {
						v += 0.5
					}
					img[3*p+c] = v
				}
			}
		})
	}
	withWeights := func(sp model.ConvSpec, rows []float64) map[string]*model.Tensor {
		ts := map[string]*model.Tensor{}
		for k, v := range fm.Tensors {
			ts[k] = v
		}
		k := sp.K
		w := make([]float32, sp.Cin*sp.Cout*k*k)
		for ci := 0; ci < sp.Cin; ci++ {
			for co := 0; co < sp.Cout; co++ {
				for tp := 0; tp < k*k; tp++ {
					w[(ci*sp.Cout+co)*k*k+tp] = float32(rows[(tp*sp.Cout+co)*sp.Cin+ci])
				}
			}
		}
		ts[sp.Prefix+".weight"] = &model.Tensor{Shape: []int{sp.Cin, sp.Cout, k, k}, Data: w}
		return ts
	}

	if quant.SeedMerged(a) {
		sr, sc := seedSQNR(t, fm, pr, grams[quant.SeedName]), seedSQNR(t, fm, pc, grams[quant.SeedName])
		t.Logf("%s: output SQNR on held-out inputs %.2f → %.2f dB", quant.SeedName, sr, sc)
		if !(sc > sr) {
			t.Errorf("%s: calibrated weights give %.2f dB on held-out inputs, round-to-nearest %.2f: want better", quant.SeedName, sc, sr)
		}
	}
	for i, sp := range model.DecoderLayers(a) {
		g := grams[quant.DecPoint(i)]
		if g == nil {
			continue // merged into the seed
		}
		w := deconvRows(sp, fm.Tensors[sp.Prefix+".weight"].Data)
		wr, wc := dequantDeconv(t, pr, sp), dequantDeconv(t, pc, sp)
		sr, sc := gramSQNR(w, wr, g, sp.Cin), gramSQNR(w, wc, g, sp.Cin)
		ir, ic := floatPSNR(withWeights(sp, wr)), floatPSNR(withWeights(sp, wc))
		t.Logf("%s (%d→%d, k%d): output SQNR on held-out inputs %.2f → %.2f dB; float32 decoder with only its weights int8: PSNR median %.2f → %.2f dB",
			sp.Prefix, sp.Cin, sp.Cout, sp.K, sr, sc, ir, ic)
		// Fitted on the calibration episode, the rounding must still win on another one.
		if !(sc > sr+0.5) {
			t.Errorf("%s: calibrated weights give %.2f dB on held-out inputs, round-to-nearest %.2f: want ≥ 0.5 dB better", sp.Prefix, sc, sr)
		}
	}
	dr, dc := int8PSNR(rtn), int8PSNR(cal)
	t.Logf("int8 decoder on the float32 states: PSNR median %.2f dB (round to nearest) → %.2f dB (calibrated)", dr, dc)
	if !(dc > dr+2) {
		t.Errorf("int8 decoder PSNR median %.2f dB calibrated, %.2f dB rounded to nearest: want ≥ 2 dB better", dc, dr)
	}
}
