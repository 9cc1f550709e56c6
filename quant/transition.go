package quant

// The transition stage: pre_memory, the LNGRUCell (int8 GEMMs, float gating) and the
// posterior/prior heads of the step API.

import (
	"fmt"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
)

// transition runs pre_memory (float) and the LNGRUCell with an int8 GEMM and float gating,
// writing h' into s.Deter.
func (r *Runner) transition(s *model.State, action []float32) {
	m, a := r.m, r.m.Arch
	copy(r.preIn, s.Stoch)
	copy(r.preIn[a.Stoch:], action)
	x := r.gruIn[:a.Hidden]
	r.pre.forward(x, r.preIn) // = m.preMem.Forward, bit for bit (discrete.go)
	r.k.LayerNorm(x, x, m.preMemLN.G, m.preMemLN.B)
	siluExp(r.k, x, r.ebuf)
	copy(r.gruIn[a.Hidden:], s.Deter)
	m.gru.forward(r.k, r.gates, r.gruIn, r.patches, r.acc)
	r.k.LayerNorm(r.gates, r.gates, m.gruLN.G, m.gruLN.B)
	H := a.Deter
	g := r.gates[:3*H]
	d := s.Deter[:H]
	// z = σ(g_z), r = σ(g_r), c = tanh(r·g_c) = 1 − 2/(e^{2r·g_c} + 1), with the
	// exponentials in two vectorised passes.
	e := r.ebuf[:3*H]
	for i, v := range g[:2*H] {
		e[i] = -v
	}
	r.k.Exp(e[:2*H], e[:2*H])
	for i := range d {
		e[2*H+i] = 2 * (1 / (1 + e[H+i])) * g[2*H+i]
	}
	r.k.Exp(e[2*H:], e[2*H:])
	for i := range d {
		z := 1 / (1 + e[i])
		c := 1 - 2/(e[2*H+i]+1)
		d[i] = (1-z)*c + z*d[i]
	}
}

// siluExp applies x·σ(x) in place, the exponentials vectorised into tmp (len(x) values).
func siluExp(k *armkernels.Kernels, x, tmp []float32) {
	tmp = tmp[:len(x)]
	for i, v := range x {
		tmp[i] = -v
	}
	k.Exp(tmp, tmp)
	for i, v := range x {
		x[i] = v / (1 + tmp[i])
	}
}

func (r *Runner) runMLP1(n *qmlp1, in []float32) []float32 {
	n.in.forward(r.k, r.hidden, in, r.patches, r.acc)
	r.k.LayerNorm(r.hidden, r.hidden, n.norm.G, n.norm.B)
	siluExp(r.k, r.hidden, r.ebuf)
	n.head.forward(r.k, r.headOut, r.hidden, r.patches, r.acc)
	return r.headOut
}

func (r *Runner) gaussian(out, mean, std []float32) {
	S := r.m.Arch.Stoch
	copy(mean, out[:S])
	for i := 0; i < S; i++ {
		std[i] = 2*sigmoid32(out[S+i]/2) + r.m.Arch.MinStd
	}
}

// PosteriorStep is one filtering step (spec §3.2), as model.Runner.PosteriorStep.
func (r *Runner) PosteriorStep(s *model.State, action []float32, image []uint8, isFirst bool, out *model.StepOutput, noise model.Noise) error {
	a := r.m.Arch
	if err := a.CheckAction(action); err != nil {
		return err
	}
	if err := checkState(a, s); err != nil {
		return err
	}
	if isFirst {
		s.Reset()
	}
	if err := r.Encode(r.emb, image); err != nil {
		return err
	}
	r.transition(s, action)
	prior := r.runMLP1(&r.m.prior, s.Deter)
	if a.Discrete {
		copy(out.PriorLogits, prior)
	} else {
		r.gaussian(prior, out.PriorMean, out.PriorStd)
	}
	copy(r.postIn, s.Deter)
	copy(r.postIn[a.Deter:], r.emb)
	post := r.runMLP1(&r.m.post, r.postIn)
	if a.Discrete {
		copy(out.PosteriorLogits, post)
		out.KL = discreteKL(r.k, out.PosteriorLogits, out.PriorLogits, a.Groups, a.Classes, r.klbuf)
		model.SampleDiscrete(s.Stoch, out.PosteriorLogits, a.Groups, a.Classes, noise)
		return nil
	}
	r.gaussian(post, out.PosteriorMean, out.PosteriorStd)
	var kl float64
	for i := range out.PosteriorMean {
		kl += float64(model.GaussianKL(out.PosteriorMean[i], out.PosteriorStd[i], out.PriorMean[i], out.PriorStd[i]))
	}
	out.KL = float32(kl)
	model.SampleGaussian(s.Stoch, out.PosteriorMean, out.PosteriorStd, noise)
	return nil
}

// PriorStep is one open-loop step (spec §3.3), as model.Runner.PriorStep.
func (r *Runner) PriorStep(s *model.State, action []float32, out *model.StepOutput, noise model.Noise) error {
	a := r.m.Arch
	if err := a.CheckAction(action); err != nil {
		return err
	}
	if err := checkState(a, s); err != nil {
		return err
	}
	r.transition(s, action)
	prior := r.runMLP1(&r.m.prior, s.Deter)
	if a.Discrete {
		copy(out.PriorLogits, prior)
		model.SampleDiscrete(s.Stoch, out.PriorLogits, a.Groups, a.Classes, noise)
		return nil
	}
	r.gaussian(prior, out.PriorMean, out.PriorStd)
	model.SampleGaussian(s.Stoch, out.PriorMean, out.PriorStd, noise)
	return nil
}

func checkState(a *model.Arch, s *model.State) error {
	if len(s.Deter) != a.Deter || len(s.Stoch) != a.Stoch {
		return fmt.Errorf("state has deter %d / stoch %d values, model has %d / %d", len(s.Deter), len(s.Stoch), a.Deter, a.Stoch)
	}
	return nil
}
