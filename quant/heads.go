package quant

// The non-image heads (float32) and the per-step ELBO terms.

import "github.com/rssmd/rssmd/model"

// Head evaluates non-image decoder head i (float32) on concat(deter, stoch).
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
			model.Activate(y, h.arch.Activation)
		}
		x = y
	}
	if h.arch.Kind == model.HeadBinary {
		model.Activate(x, "sigmoid")
	}
	return x
}

// Evaluate computes the per-step ELBO terms with the int8 decoder and the float32 heads; the
// terms are assembled by model.EvaluateStep, the same code as the float32 path's.
func (r *Runner) Evaluate(deter, stochMean []float32, image []uint8, targets []float32, kl float32, recon []float32, out *model.Likelihood) error {
	return model.EvaluateStep(r, r.decoded, deter, stochMean, image, targets, kl, recon, out)
}
