package calibration

import (
	"fmt"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/quant"
)

// tapper recomputes, in float32 and from the float model's own weights, the activations at
// every quantisation point of quant.Points while model.Runner drives the state trajectory.
// It is the explicit observer pass: the float model carries no hooks.
type tapper struct {
	fm *model.Model
	r  *model.Runner
	a  *model.Arch

	enc     []model.Conv2d
	encNorm [][2][]float32
	encSpec []model.ConvSpec
	preMem  model.Linear
	preLN   model.LayerNorm
	prior   [2]model.Linear // in, head unused
	priorLN model.LayerNorm
	post    model.Linear
	postLN  model.LayerNorm
	decLin  model.Linear
	dec     []model.ConvTranspose2d
	decSpec []model.ConvSpec

	// grams, when not nil, collects Σ x·xᵀ of the inputs of every decoder point (x: the Cin
	// values at one pixel) and of the merged seed (x: the feature) for
	// quant.QuantizeCalibrated.
	grams map[string][]float64
	// sq, when not nil, collects Σ x_i² per element of the inputs of the Linears that can take
	// 4-bit weights (points GRUX, Deter, Emb, Stoch), for quant.QuantizeCalibratedInt4.
	sq map[string][]float64

	img, actA, actB []float32
	emb, x, hid     []float32
	preIn, postIn   []float32
	feat            []float32
	patch           []float32 // im2col / gather scratch of the widest layer
}

// newTapper reads the weights from ts (fm.Tensors, or an equalised copy that computes the
// same function); fm drives the trajectory.
func newTapper(fm *model.Model, ts map[string]*model.Tensor) (*tapper, error) {
	a := fm.Arch
	get := func(name string) ([]float32, error) {
		t, ok := ts[name]
		if !ok {
			return nil, fmt.Errorf("calibration: model lacks tensor %q", name)
		}
		return t.Data, nil
	}
	var firstErr error
	must := func(name string) []float32 {
		v, err := get(name)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	}
	lin := func(p string, out, in int) model.Linear {
		return model.Linear{In: in, Out: out, W: must(p + ".weight"), B: must(p + ".bias")}
	}
	ln := func(p string, n int) model.LayerNorm {
		return model.LayerNorm{N: n, G: must(p + ".weight"), B: must(p + ".bias")}
	}
	t := &tapper{fm: fm, r: fm.NewRunner(), a: a}
	maxAct := model.ImageValues
	maxPatch := 1
	for _, sp := range model.EncoderLayers(a) {
		maxPatch = max(maxPatch, sp.Cin*sp.K*sp.K)
		t.encSpec = append(t.encSpec, sp)
		t.enc = append(t.enc, model.Conv2d{Cin: sp.Cin, Cout: sp.Cout, K: sp.K, Stride: sp.S, Pad: sp.P, W: must(sp.Prefix + ".weight"), B: must(sp.Prefix + ".bias")})
		var nb [2][]float32
		if sp.Norm != "" {
			nb = [2][]float32{must(sp.Norm + ".weight"), must(sp.Norm + ".bias")}
		}
		t.encNorm = append(t.encNorm, nb)
		maxAct = max(maxAct, sp.Cout*sp.OutH*sp.OutH)
	}
	H, S, M, E, A := a.Deter, a.Stoch, a.Hidden, a.EmbDim, a.ActionDim
	t.preMem, t.preLN = lin("pre_memory.net.0", M, S+A), ln("pre_memory.net.1", M)
	t.prior[0], t.priorLN = lin("prior_net.net.0", M, H), ln("prior_net.net.1", M)
	t.post, t.postLN = lin("posterior_net.net.0", M, H+E), ln("posterior_net.net.1", M)
	if a.Decoder != "" {
		c, side := model.DecoderSeed(a)
		t.decLin = lin("decoders.image.net.0", c*side*side, H+S)
		maxAct = max(maxAct, c*side*side)
		for _, sp := range model.DecoderLayers(a) {
			t.decSpec = append(t.decSpec, sp)
			d := model.ConvTranspose2d{Cin: sp.Cin, Cout: sp.Cout, K: sp.K, Stride: sp.S, Pad: sp.P, W: must(sp.Prefix + ".weight"), B: must(sp.Prefix + ".bias")}
			if firstErr == nil {
				d.PrepareGather() // the float pass is the slow part of calibration
			}
			t.dec = append(t.dec, d)
			maxPatch = max(maxPatch, sp.Cin)
			maxAct = max(maxAct, sp.Cout*sp.OutH*sp.OutH)
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	t.img = make([]float32, model.ImageValues)
	t.actA, t.actB = make([]float32, maxAct), make([]float32, maxAct)
	t.emb = make([]float32, E)
	t.x = make([]float32, M)
	t.hid = make([]float32, M)
	t.preIn = make([]float32, S+A)
	t.postIn = make([]float32, H+E)
	t.feat = make([]float32, H+S)
	t.patch = make([]float32, maxPatch)
	return t, nil
}

// encode runs the float encoder on a frame, observing each conv's input, and leaves the
// embedding in t.emb.
func (t *tapper) encode(obs map[string]*Histogram, image []uint8) {
	t.encodeFrame(image, func(i, hw int, act []float32) {
		if i+1 < len(t.enc) {
			obs[quant.EncPoint(i+1)].Add(act[:t.encSpec[i].Cout*hw])
		}
	})
}

// encodeFrame runs the float encoder on a frame, calling after with each conv's output
// (CHW, after its activation), and leaves the embedding in t.emb.
func (t *tapper) encodeFrame(image []uint8, after func(i, hw int, act []float32)) {
	shift := float32(0)
	if t.a.Encoder == model.VisualDreamerResnet {
		shift = 0.5
	}
	const n = model.ImageSize * model.ImageSize
	for i := 0; i < n; i++ {
		t.img[i] = float32(image[3*i])/255 - shift
		t.img[n+i] = float32(image[3*i+1])/255 - shift
		t.img[2*n+i] = float32(image[3*i+2])/255 - shift
	}
	in, out := t.img, t.actA
	h := model.ImageSize
	for i := range t.enc {
		sp := t.encSpec[i]
		ho, wo := t.enc[i].ForwardPatches(out, in, h, h, t.patch)
		if sp.InstNorm {
			model.InstanceNorm(out, sp.Cout, ho*wo, t.encNorm[i][0], t.encNorm[i][1])
		}
		model.Activate(out[:sp.Cout*ho*wo], sp.Act)
		after(i, ho*wo, out)
		h = ho
		if i == 0 {
			in, out = out, t.actB
		} else {
			in, out = out, in
		}
	}
	copy(t.emb, in[:t.a.EmbDim])
}

// decode runs the float decoder on a feature, observing each layer's input, and returns the
// last layer's output (CHW, before the sigmoid or the +0.5 of the image mean).
func (t *tapper) decode(obs map[string]*Histogram, deter, stoch []float32) []float32 {
	H := t.a.Deter
	copy(t.feat, deter)
	copy(t.feat[H:], stoch)
	t.add(obs, quant.PointStoch, stoch)
	if t.grams != nil && quant.SeedMerged(t.a) {
		addGram(t.grams, quant.SeedName, t.feat, len(t.feat), 1)
	}
	t.decLin.Forward(t.actA, t.feat)
	_, side := model.DecoderSeed(t.a)
	in, out := t.actA, t.actB
	h := side
	for i := range t.dec {
		sp := t.decSpec[i]
		if o := obs[quant.DecPoint(i)]; o != nil { // absent where quant merges the layer away
			o.Add(in[:sp.Cin*h*h])
			if t.grams != nil {
				addGram(t.grams, quant.DecPoint(i), in[:sp.Cin*h*h], sp.Cin, h*h)
			}
		}
		ho, wo := t.dec[i].ForwardGather(out, in, h, h, t.patch)
		if sp.InstNorm {
			model.InstanceNorm(out, sp.Cout, ho*wo, nil, nil)
		}
		model.Activate(out[:sp.Cout*ho*wo], sp.Act)
		h = ho
		in, out = out, in
	}
	return in[:model.ImageValues]
}

// add observes x at point p, and adds its squares to t.sq[p] when collecting them.
func (t *tapper) add(obs map[string]*Histogram, p string, x []float32) {
	obs[p].Add(x)
	if t.sq == nil {
		return
	}
	acc := t.sq[p]
	if acc == nil {
		acc = make([]float64, len(x))
		t.sq[p] = acc
	}
	for i, v := range x[:len(acc)] {
		acc[i] += float64(v) * float64(v)
	}
}

// addGram adds Σ_p x_p·x_pᵀ of the CHW activations x (c channels of hw pixels) to grams[k]:
// entry (i, j) is the dot product of channel planes i and j.
func addGram(grams map[string][]float64, k string, x []float32, c, hw int) {
	g := grams[k]
	if g == nil {
		g = make([]float64, c*c)
		grams[k] = g
	}
	for i := 0; i < c; i++ {
		a := x[i*hw : (i+1)*hw]
		for j := 0; j <= i; j++ {
			b := x[j*hw : (j+1)*hw]
			var s float64
			for p, v := range a {
				s += float64(v) * float64(b[p])
			}
			g[i*c+j] += s
			if j != i {
				g[j*c+i] += s
			}
		}
	}
}

// hidden computes SiLU(LN(l·x)) into t.hid.
func (t *tapper) hidden(l *model.Linear, n *model.LayerNorm, x []float32) []float32 {
	l.Forward(t.hid, x)
	n.Forward(t.hid, t.hid)
	model.Activate(t.hid, "silu")
	return t.hid
}

// observeSequence filters seq with the float model (posterior mean path) and adds every
// quantisation point's activations to obs. The decoder, by far the dearest float32 part, is
// observed on every decodeEvery-th step.
func (t *tapper) observeSequence(obs map[string]*Histogram, seq *model.Sequence, decodeEvery int) error {
	a := t.a
	if a.ActionDim == 0 {
		seq = seq.WithoutActions() // an action-free model ignores a recording's actions
	}
	if seq.ActionDim != a.ActionDim {
		return fmt.Errorf("%w: pre_action has %d columns, model takes %d", model.ErrActionLength, seq.ActionDim, a.ActionDim)
	}
	decodeEvery = max(decodeEvery, 1)
	s := model.NewStateFor(a)
	out := a.NewStepOutput()
	for step := 0; step < seq.T; step++ {
		isFirst := step == 0 || (seq.IsFirst != nil && seq.IsFirst[step])
		if isFirst {
			s.Reset()
		}
		// Inputs of the transition, from the state before the step.
		copy(t.preIn, s.Stoch)
		copy(t.preIn[a.Stoch:], seq.Action(step))
		t.add(obs, quant.PointGRUX, t.hidden(&t.preMem, &t.preLN, t.preIn))
		t.add(obs, quant.PointDeter, s.Deter)
		t.encode(obs, seq.Frame(step))
		if err := a.CheckAction(seq.Action(step)); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		if err := t.r.PosteriorStepEmb(&s, seq.Action(step), t.emb, out, nil); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		t.add(obs, quant.PointDeter, s.Deter)
		t.add(obs, quant.PointEmb, t.emb)
		obs[quant.PointPriorHid].Add(t.hidden(&t.prior[0], &t.priorLN, s.Deter))
		copy(t.postIn, s.Deter)
		copy(t.postIn[a.Deter:], t.emb)
		obs[quant.PointPostHid].Add(t.hidden(&t.post, &t.postLN, t.postIn))
		if a.Decoder != "" && step%decodeEvery == 0 {
			t.decode(obs, s.Deter, s.Stoch)
		}
	}
	return nil
}

// newObservers returns one empty histogram per quantisation point of a.
func newObservers(a *model.Arch) map[string]*Histogram {
	obs := map[string]*Histogram{}
	for _, p := range quant.Points(a) {
		obs[p] = &Histogram{}
	}
	return obs
}
