package model

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Model holds the float32 weights of an RSSMO world model. It is immutable after construction
// and safe to share; per-goroutine scratch space lives in a Runner.
type Model struct {
	Arch *Arch
	// Tensors is the state_dict the model was built from (weights are shared, not copied);
	// the bundle writer and the int8 quantiser read it.
	Tensors map[string]*Tensor

	encoder []convLayer
	encOutH int

	preMemory   Linear
	preMemoryLN LayerNorm
	gru         Linear // [3H, M+H] over concat(x, h)
	gruLN       LayerNorm
	prior       mlp1
	posterior   mlp1

	decLinear Linear
	decoder   []convLayer // transposed
	heads     []headMLP
}

type convLayer struct {
	spec  ConvSpec
	conv  Conv2d
	convT ConvTranspose2d
	g, b  []float32 // affine InstanceNorm parameters, nil if none
}

// mlp1 is the transition MLP shape: Linear → LayerNorm → SiLU → Linear head (P9).
type mlp1 struct {
	in   Linear
	norm LayerNorm
	head Linear
}

type headMLP struct {
	arch   HeadArch
	layers []Linear
	norms  []*LayerNorm // nil entries where a hidden layer has no LayerNorm
}

// New builds a model from a state_dict and the config hints.
func New(ts map[string]*Tensor, h Hints) (*Model, error) {
	a, err := ResolveArch(ts, h)
	if err != nil {
		return nil, err
	}
	return newFromArch(ts, a)
}

func newFromArch(ts map[string]*Tensor, a *Arch) (*Model, error) {
	m := &Model{Arch: a, Tensors: ts}
	get := func(key string) []float32 { return ts[key].Data }
	lin := func(prefix string) Linear {
		w := ts[prefix+".weight"]
		return Linear{In: w.Shape[1], Out: w.Shape[0], W: w.Data, B: get(prefix + ".bias")}
	}
	ln := func(prefix string) LayerNorm {
		g := get(prefix + ".weight")
		return LayerNorm{N: len(g), G: g, B: get(prefix + ".bias")}
	}
	for _, s := range encoderLayers(a) {
		l := convLayer{spec: s, conv: Conv2d{Cin: s.Cin, Cout: s.Cout, K: s.K, Stride: s.S, Pad: s.P, W: get(s.Prefix + ".weight"), B: get(s.Prefix + ".bias")}}
		if s.Norm != "" {
			l.g, l.b = get(s.Norm+".weight"), get(s.Norm+".bias")
		}
		m.encoder = append(m.encoder, l)
		m.encOutH = s.OutH
	}
	m.preMemory, m.preMemoryLN = lin("pre_memory.net.0"), ln("pre_memory.net.1")
	m.gru, m.gruLN = lin("memory_cell.input_layer"), ln("memory_cell.norm")
	m.prior = mlp1{lin("prior_net.net.0"), ln("prior_net.net.1"), lin("prior_net.net.3")}
	m.posterior = mlp1{lin("posterior_net.net.0"), ln("posterior_net.net.1"), lin("posterior_net.net.3")}
	if a.Decoder != "" {
		m.decLinear = lin("decoders.image.net.0")
		for _, s := range decoderLayers(a) {
			l := convLayer{spec: s, convT: ConvTranspose2d{Cin: s.Cin, Cout: s.Cout, K: s.K, Stride: s.S, Pad: s.P, W: get(s.Prefix + ".weight"), B: get(s.Prefix + ".bias")}}
			// Wide layers gain most from contiguous dots; the 3-channel output layer is
			// faster in scatter form.
			if s.Cin >= 16 {
				l.convT.PrepareGather()
			}
			m.decoder = append(m.decoder, l)
		}
	}
	for _, hd := range a.Heads {
		h := headMLP{arch: hd}
		linear, norm := mlpLayout(hd)
		prefix := headPrefix(hd)
		for i, li := range linear {
			h.layers = append(h.layers, lin(prefix+strconv.Itoa(li)))
			if i < len(norm) {
				if norm[i] >= 0 {
					n := ln(prefix + strconv.Itoa(norm[i]))
					h.norms = append(h.norms, &n)
				} else {
					h.norms = append(h.norms, nil)
				}
			}
		}
		m.heads = append(m.heads, h)
	}
	return m, nil
}

// State is the recurrent state of the model: deter = h, stoch = s.
type State struct {
	Deter, Stoch []float32
}

// NewState returns the initial (zero) state; the checkpoint's initial buffers are zeros (P11).
func (m *Model) NewState() State {
	return State{Deter: make([]float32, m.Arch.Deter), Stoch: make([]float32, m.Arch.Stoch)}
}

// CopyFrom copies src into s without allocating.
func (s *State) CopyFrom(src State) {
	copy(s.Deter, src.Deter)
	copy(s.Stoch, src.Stoch)
}

// Reset zeroes the state (the episode-start rule of spec §3.2 step 0).
func (s *State) Reset() {
	clear(s.Deter)
	clear(s.Stoch)
}

// StepOutput receives the distribution parameters of one step. Continuous models fill Mean/Std;
// discrete models fill Logits (groups·classes, group-major).
type StepOutput struct {
	PriorMean, PriorStd          []float32
	PosteriorMean, PosteriorStd  []float32
	PriorLogits, PosteriorLogits []float32
	KL                           float32 // summed over stoch dimensions (groups for discrete)
}

// NewStepOutput allocates the buffers a step writes.
func (a *Arch) NewStepOutput() *StepOutput {
	o := &StepOutput{}
	if a.Discrete {
		o.PriorLogits = make([]float32, a.Stoch)
		o.PosteriorLogits = make([]float32, a.Stoch)
	} else {
		o.PriorMean = make([]float32, a.Stoch)
		o.PriorStd = make([]float32, a.Stoch)
		o.PosteriorMean = make([]float32, a.Stoch)
		o.PosteriorStd = make([]float32, a.Stoch)
	}
	return o
}

// Noise is the randomness a sampled step draws from; *math/rand/v2.Rand satisfies it.
// A nil Noise selects the deterministic path (mean, or one-hot mode for discrete states).
type Noise interface {
	NormFloat64() float64
	Float64() float64
}

// Errors for bad step inputs.
var (
	ErrActionLength = errors.New("action has the wrong length")
	ErrActionNaN    = errors.New("action contains NaN or Inf")
	ErrImageSize    = errors.New("image has the wrong size")
)

// CheckAction validates a pre-action against the model's action dim.
func (a *Arch) CheckAction(action []float32) error {
	if len(action) != a.ActionDim {
		return fmt.Errorf("%w: got %d values, model takes %d", ErrActionLength, len(action), a.ActionDim)
	}
	for i, v := range action {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: element %d is %v", ErrActionNaN, i, v)
		}
	}
	return nil
}

// Runner evaluates a Model with its own scratch buffers. It is not safe for concurrent use;
// create one per goroutine. After NewRunner no method allocates.
type Runner struct {
	m *Model

	img     []float32 // [3][64][64] network input
	actA    []float32 // encoder / decoder ping-pong buffers
	actB    []float32
	emb     []float32
	preIn   []float32 // [stoch, action]
	gruIn   []float32 // [x, h]
	gates   []float32
	hidden  []float32
	postIn  []float32 // [h', emb]
	headOut []float32
	feature []float32
	mlpA    []float32
	mlpB    []float32
	decoded []float32 // [3][64][64] decoder mean
	mean    []float32 // HWC decoder mean for Evaluate without recon
	patch   []float32 // im2col patch of the widest conv / gather buffer of the widest deconv
}

// NewRunner allocates the scratch space for one goroutine.
func (m *Model) NewRunner() *Runner {
	a := m.Arch
	maxAct := 3 * ImageSize * ImageSize
	for _, l := range m.encoder {
		maxAct = max(maxAct, l.spec.Cout*l.spec.OutH*l.spec.OutH)
	}
	for _, l := range m.decoder {
		maxAct = max(maxAct, l.spec.Cout*l.spec.OutH*l.spec.OutH)
	}
	if a.Decoder != "" {
		maxAct = max(maxAct, m.decLinear.Out)
	}
	maxPatch := 1
	for _, l := range m.encoder {
		maxPatch = max(maxPatch, l.spec.Cin*l.spec.K*l.spec.K)
	}
	for _, l := range m.decoder {
		maxPatch = max(maxPatch, l.spec.Cin)
	}
	maxHead := 1
	for _, h := range a.Heads {
		maxHead = max(maxHead, h.Width, h.Out)
	}
	out := 2 * a.Stoch
	if a.Discrete {
		out = a.Stoch
	}
	return &Runner{
		m:       m,
		img:     make([]float32, 3*ImageSize*ImageSize),
		actA:    make([]float32, maxAct),
		actB:    make([]float32, maxAct),
		emb:     make([]float32, a.EmbDim),
		preIn:   make([]float32, a.Stoch+a.ActionDim),
		gruIn:   make([]float32, a.Hidden+a.Deter),
		gates:   make([]float32, 3*a.Deter),
		hidden:  make([]float32, a.Hidden),
		postIn:  make([]float32, a.Deter+a.EmbDim),
		headOut: make([]float32, out),
		feature: make([]float32, a.FeatureDim()),
		mlpA:    make([]float32, maxHead),
		mlpB:    make([]float32, maxHead),
		decoded: make([]float32, 3*ImageSize*ImageSize),
		mean:    make([]float32, ImageValues),
		patch:   make([]float32, maxPatch),
	}
}

// Model returns the model the runner evaluates.
func (r *Runner) Model() *Model { return r.m }

// Arch returns the model's architecture.
func (r *Runner) Arch() *Arch { return r.m.Arch }

// Encode computes the embedding of a 64x64 RGB frame (HWC uint8) into emb (EmbDim values).
func (r *Runner) Encode(emb []float32, image []uint8) error {
	if len(image) != ImageValues {
		return fmt.Errorf("%w: %d bytes, want %d (64x64 RGB)", ErrImageSize, len(image), ImageValues)
	}
	m := r.m
	// HWC uint8 → CHW float in [0,1] (spec §4); dreamer_resnet shifts by −0.5 itself (P1).
	shift := float32(0)
	if m.Arch.Encoder == VisualDreamerResnet {
		shift = 0.5
	}
	const n = ImageSize * ImageSize
	for i := 0; i < n; i++ {
		r.img[i] = float32(image[3*i])/255 - shift
		r.img[n+i] = float32(image[3*i+1])/255 - shift
		r.img[2*n+i] = float32(image[3*i+2])/255 - shift
	}
	in, out := r.img, r.actA
	h := ImageSize
	for i := range m.encoder {
		l := &m.encoder[i]
		ho, wo := l.conv.ForwardPatches(out, in, h, h, r.patch)
		if l.spec.InstNorm {
			InstanceNorm(out, l.spec.Cout, ho*wo, l.g, l.b)
		}
		Activate(out[:l.spec.Cout*ho*wo], l.spec.Act)
		h = ho
		if i == 0 {
			in, out = out, r.actB
		} else {
			in, out = out, in
		}
	}
	copy(emb, in[:m.Arch.EmbDim])
	return nil
}

// transition runs pre_memory and the LNGRUCell (spec §2.6), writing h' into deter.
func (r *Runner) transition(s *State, action []float32) {
	m, a := r.m, r.m.Arch
	copy(r.preIn, s.Stoch)
	copy(r.preIn[a.Stoch:], action)
	x := r.gruIn[:a.Hidden]
	m.preMemory.Forward(x, r.preIn)
	m.preMemoryLN.Forward(x, x)
	Activate(x, "silu")
	copy(r.gruIn[a.Hidden:], s.Deter)
	m.gru.Forward(r.gates, r.gruIn)
	m.gruLN.Forward(r.gates, r.gates)
	H := a.Deter
	for i := 0; i < H; i++ {
		z := Sigmoid(r.gates[i])
		rr := Sigmoid(r.gates[H+i])
		c := float32(math.Tanh(float64(rr * r.gates[2*H+i])))
		s.Deter[i] = (1-z)*c + z*s.Deter[i]
	}
}

func (r *Runner) runMLP1(n *mlp1, in []float32) []float32 {
	n.in.Forward(r.hidden, in)
	n.norm.Forward(r.hidden, r.hidden)
	Activate(r.hidden, "silu")
	n.head.Forward(r.headOut, r.hidden)
	return r.headOut
}

// gaussian splits a head output into mean and std (P8).
func (r *Runner) gaussian(out, mean, std []float32) {
	S := r.m.Arch.Stoch
	copy(mean, out[:S])
	for i := 0; i < S; i++ {
		std[i] = StdFromRaw(out[S+i], r.m.Arch.MinStd)
	}
}

// PosteriorStep is one filtering step (spec §3.2): reset on isFirst, embed the frame, update h,
// compute prior and posterior, and set the new stoch (mean/mode when noise is nil, else a sample).
// s is updated in place; out receives the distributions and the KL.
func (r *Runner) PosteriorStep(s *State, action []float32, image []uint8, isFirst bool, out *StepOutput, noise Noise) error {
	a := r.m.Arch
	if err := a.CheckAction(action); err != nil {
		return err
	}
	if len(image) != ImageValues {
		return fmt.Errorf("%w: %d bytes, want %d (64x64 RGB)", ErrImageSize, len(image), ImageValues)
	}
	if isFirst {
		s.Reset()
	}
	if err := r.Encode(r.emb, image); err != nil {
		return err
	}
	return r.PosteriorStepEmb(s, action, r.emb, out, noise)
}

// PosteriorStepEmb is PosteriorStep with a precomputed embedding (no reset, no action check).
func (r *Runner) PosteriorStepEmb(s *State, action []float32, emb []float32, out *StepOutput, noise Noise) error {
	m, a := r.m, r.m.Arch
	r.transition(s, action)
	prior := r.runMLP1(&m.prior, s.Deter)
	if a.Discrete {
		copy(out.PriorLogits, prior)
	} else {
		r.gaussian(prior, out.PriorMean, out.PriorStd)
	}
	copy(r.postIn, s.Deter)
	copy(r.postIn[a.Deter:], emb)
	post := r.runMLP1(&m.posterior, r.postIn)
	if a.Discrete {
		copy(out.PosteriorLogits, post)
		out.KL = DiscreteKL(out.PosteriorLogits, out.PriorLogits, a.Groups, a.Classes)
		SampleDiscrete(s.Stoch, out.PosteriorLogits, a.Groups, a.Classes, noise)
		return nil
	}
	r.gaussian(post, out.PosteriorMean, out.PosteriorStd)
	var kl float64
	for i := range out.PosteriorMean {
		kl += float64(GaussianKL(out.PosteriorMean[i], out.PosteriorStd[i], out.PriorMean[i], out.PriorStd[i]))
	}
	out.KL = float32(kl)
	SampleGaussian(s.Stoch, out.PosteriorMean, out.PosteriorStd, noise)
	return nil
}

// PriorStep is one open-loop step (spec §3.3). out receives the prior in its Prior* fields; the
// posterior fields and KL are left untouched.
func (r *Runner) PriorStep(s *State, action []float32, out *StepOutput, noise Noise) error {
	m, a := r.m, r.m.Arch
	if err := a.CheckAction(action); err != nil {
		return err
	}
	r.transition(s, action)
	prior := r.runMLP1(&m.prior, s.Deter)
	if a.Discrete {
		copy(out.PriorLogits, prior)
		// Deterministic discrete rollouts are broken in the original (P12); we use the mode.
		SampleDiscrete(s.Stoch, out.PriorLogits, a.Groups, a.Classes, noise)
		return nil
	}
	r.gaussian(prior, out.PriorMean, out.PriorStd)
	SampleGaussian(s.Stoch, out.PriorMean, out.PriorStd, noise)
	return nil
}

// SampleGaussian writes the mean (noise nil) or a draw mean + std·ε into dst.
func SampleGaussian(dst, mean, std []float32, noise Noise) {
	if noise == nil {
		copy(dst, mean)
		return
	}
	for i := range dst {
		dst[i] = mean[i] + std[i]*float32(noise.NormFloat64())
	}
}

// SampleDiscrete writes a one-hot per group: the argmax (first on ties) or a categorical draw.
func SampleDiscrete(dst, logits []float32, groups, classes int, noise Noise) {
	clear(dst)
	for g := 0; g < groups; g++ {
		l := logits[g*classes : (g+1)*classes]
		pick := 0
		if noise == nil {
			for k := 1; k < classes; k++ {
				if l[k] > l[pick] {
					pick = k
				}
			}
		} else {
			mx := l[0]
			for _, v := range l[1:] {
				mx = max(mx, v)
			}
			var sum float64
			for _, v := range l {
				sum += math.Exp(float64(v - mx))
			}
			u := noise.Float64() * sum
			pick = classes - 1
			for k, v := range l {
				u -= math.Exp(float64(v - mx))
				if u < 0 {
					pick = k
					break
				}
			}
		}
		dst[g*classes+pick] = 1
	}
}

// DiscreteKL is Σ_groups Σ_k q_k (log q_k − log p_k) with probabilities clamped to
// [ε, 1−ε] before the log, as the original computes it (P21).
func DiscreteKL(qLogits, pLogits []float32, groups, classes int) float32 {
	var total float64
	for g := 0; g < groups; g++ {
		q := qLogits[g*classes : (g+1)*classes]
		p := pLogits[g*classes : (g+1)*classes]
		qmax, qsum := softmaxStats(q)
		pmax, psum := softmaxStats(p)
		for k := range q {
			qk := math.Exp(float64(q[k])-qmax) / qsum
			pk := math.Exp(float64(p[k])-pmax) / psum
			total += qk * (math.Log(clampProb(qk)) - math.Log(clampProb(pk)))
		}
	}
	return float32(total)
}

func softmaxStats(l []float32) (mx, sum float64) {
	mx = float64(l[0])
	for _, v := range l[1:] {
		mx = math.Max(mx, float64(v))
	}
	for _, v := range l {
		sum += math.Exp(float64(v) - mx)
	}
	return mx, sum
}

func clampProb(p float64) float64 { return math.Min(math.Max(p, probEps), 1-probEps) }

// Feature writes concat(deter, stoch) into r's feature buffer and returns it.
func (r *Runner) Feature(deter, stoch []float32) []float32 {
	copy(r.feature, deter)
	copy(r.feature[len(deter):], stoch)
	return r.feature
}

// Decode writes the image decoder mean for the feature concat(deter, stoch) into img as
// HWC float32 in [0,1] units, unclamped (spec §2.5, §4).
func (r *Runner) Decode(img []float32, deter, stoch []float32) error {
	m := r.m
	if m.Arch.Decoder == "" {
		return errors.New("model has no image decoder")
	}
	if len(img) < ImageValues {
		return fmt.Errorf("%w: decode buffer holds %d values, want %d", ErrImageSize, len(img), ImageValues)
	}
	if len(deter) != m.Arch.Deter || len(stoch) != m.Arch.Stoch {
		return fmt.Errorf("decode: deter %d / stoch %d values, model has %d / %d", len(deter), len(stoch), m.Arch.Deter, m.Arch.Stoch)
	}
	r.decodeCHW(r.Feature(deter, stoch))
	const n = ImageSize * ImageSize
	for i := 0; i < n; i++ {
		img[3*i] = r.decoded[i]
		img[3*i+1] = r.decoded[n+i]
		img[3*i+2] = r.decoded[2*n+i]
	}
	return nil
}

func (r *Runner) decodeCHW(feature []float32) {
	m := r.m
	m.decLinear.Forward(r.actA, feature)
	c, side := decoderSeed(m.Arch)
	in, out := r.actA, r.actB
	h := side
	_ = c
	for i := range m.decoder {
		l := &m.decoder[i]
		var ho, wo int
		if l.convT.WT != nil {
			ho, wo = l.convT.ForwardGather(out, in, h, h, r.patch)
		} else {
			ho, wo = l.convT.Forward(out, in, h, h)
		}
		if l.spec.InstNorm {
			InstanceNorm(out, l.spec.Cout, ho*wo, nil, nil)
		}
		Activate(out[:l.spec.Cout*ho*wo], l.spec.Act)
		h = ho
		in, out = out, in
	}
	res := in[:3*ImageSize*ImageSize]
	if m.Arch.DecoderSigmoid {
		for i, v := range res {
			r.decoded[i] = Sigmoid(v)
		}
	} else {
		for i, v := range res {
			r.decoded[i] = v + 0.5
		}
	}
}

// Head evaluates the non-image decoder head i on concat(deter, stoch) and returns its output
// (a probability for binary heads, the Normal mean for dmlp heads). The slice is reused.
func (r *Runner) Head(i int, deter, stoch []float32) []float32 {
	h := &r.m.heads[i]
	x := r.Feature(deter, stoch)
	bufs := [2][]float32{r.mlpA, r.mlpB}
	for l := range h.layers {
		y := bufs[l%2][:h.layers[l].Out]
		h.layers[l].Forward(y, x)
		if l < len(h.layers)-1 {
			if h.norms[l] != nil {
				h.norms[l].Forward(y, y)
			}
			Activate(y, h.arch.Activation)
		}
		x = y
	}
	if h.arch.Kind == HeadBinary {
		Activate(x, "sigmoid")
	}
	return x
}

// Evaluate computes the ELBO terms of one filtered step with the float32 decoder and heads
// (EvaluateStep). recon, if non-nil, receives the decoded mean image (HWC).
func (r *Runner) Evaluate(deter, stochMean []float32, image []uint8, targets []float32, kl float32, recon []float32, out *Likelihood) error {
	return EvaluateStep(r, r.mean, deter, stochMean, image, targets, kl, recon, out)
}
