package model

import (
	"fmt"
	"math"
)

// Evaluator is what EvaluateStep needs from a runner: its architecture, its image decoder
// (HWC mean) and its non-image heads. model.Runner and quant.Runner both are one, so the
// float32 and int8 paths assemble the ELBO with the same code and differ only in how they
// decode.
type Evaluator interface {
	Arch() *Arch
	Decode(img []float32, deter, stoch []float32) error
	Head(i int, deter, stoch []float32) []float32
}

// Likelihood holds the per-step ELBO terms of spec §3.7.
type Likelihood struct {
	Recon float32   // −½·Σ(x−μ)² over the image, x and μ in [0,1] units
	Heads []float32 // per Arch.Heads entry; NaN where no target was given (left out of ELBO)
	KL    float32
	ELBO  float32 // Recon + Σ Heads (those with targets) − KL
}

// NewLikelihood allocates a Likelihood for the model's heads.
func (a *Arch) NewLikelihood() *Likelihood {
	return &Likelihood{Heads: make([]float32, len(a.Heads))}
}

// HeadLogLik is a non-image head's log-likelihood term of spec §3.7 for its output y and a
// scalar target: Bernoulli for binary heads; Normal σ=1 without its constant, −½Σ(t−μ)², for
// dmlp heads (a scalar target is broadcast as the original's [B,1] target is).
func HeadLogLik(h HeadArch, y []float32, target float32) float64 {
	if h.Kind == HeadBinary {
		return float64(BernoulliLogProb(y[0], target))
	}
	var ll float64
	for _, mu := range y {
		d := float64(target - mu)
		ll += -0.5 * d * d
	}
	return ll
}

// EvaluateStep computes the ELBO terms of one filtered step (spec §3.7) with r's decoder and
// heads: feature = concat(h', posterior mean) (the mode for discrete states), the frame it
// explains (HWC bytes), head targets (NaN or absent = missing: left out of the ELBO), and the
// step's KL. The decoded mean image (HWC) goes to recon when it is non-nil, else to mean,
// the runner's scratch of ImageValues floats. It allocates nothing.
func EvaluateStep(r Evaluator, mean, deter, stochMean []float32, image []uint8, targets []float32, kl float32, recon []float32, out *Likelihood) error {
	a := r.Arch()
	if len(image) != ImageValues {
		return fmt.Errorf("%w: %d bytes, want %d", ErrImageSize, len(image), ImageValues)
	}
	if len(deter) != a.Deter || len(stochMean) != a.Stoch {
		return fmt.Errorf("evaluate: deter %d / stoch %d values, model has %d / %d", len(deter), len(stochMean), a.Deter, a.Stoch)
	}
	if len(out.Heads) < len(a.Heads) {
		return fmt.Errorf("likelihood has %d head slots, model has %d heads", len(out.Heads), len(a.Heads))
	}
	var elbo float64
	if a.Decoder != "" {
		if recon != nil {
			mean = recon
		}
		if err := r.Decode(mean, deter, stochMean); err != nil {
			return err
		}
		// Summed in HWC order on both paths, so equal decoder means give equal bits.
		var sse float64
		for i, mu := range mean[:ImageValues] {
			x := float32(image[i]) / 255
			d := float64(x - mu)
			sse += d * d
		}
		out.Recon = float32(-0.5 * sse)
		elbo += -0.5 * sse
	}
	for i, h := range a.Heads {
		t := float32(math.NaN())
		if i < len(targets) {
			t = targets[i]
		}
		if math.IsNaN(float64(t)) {
			out.Heads[i] = t
			continue
		}
		ll := HeadLogLik(h, r.Head(i, deter, stochMean), t)
		out.Heads[i] = float32(ll)
		elbo += ll
	}
	out.KL = kl
	out.ELBO = float32(elbo - float64(kl))
	return nil
}
