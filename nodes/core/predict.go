package core

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/rssmd/rssmd/model"
)

// ImageBytes is the size of an rgb8 64x64 image.
const ImageBytes = model.ImageValues

// Predictor decodes what the nodes publish as images and rolls the model out for ~imagine.
// It owns a stepper that must not be the tick loop's (steppers keep scratch buffers) and is
// used from one goroutine.
type Predictor struct {
	m      model.Stepper
	a      *model.Arch
	period time.Duration
	s      model.State
	out    *model.StepOutput
	img    []float32
	act    []float32
}

// NewPredictor wraps m (nil: no images, ~imagine refused). period is the tick period: a
// prediction is one period ahead of its frame.
func NewPredictor(m model.Stepper, a *model.Arch, period time.Duration) *Predictor {
	p := &Predictor{m: m, a: a, period: period}
	if m != nil {
		p.s = model.NewStateFor(a)
		p.out = a.NewStepOutput()
		p.img = make([]float32, model.ImageValues)
		p.act = make([]float32, a.ActionDim)
	}
	return p
}

// ErrUnavailable marks an output the configuration does not provide.
var ErrUnavailable = errors.New("not available in this configuration")

// CanDecode reports whether images can be made (a stepper and an image decoder).
func (p *Predictor) CanDecode() bool { return p.m != nil && p.a.Decoder != "" }

// Predict writes the prior one period ahead of s (under s's action, held), decoded, as rgb8
// into dst (ImageBytes) and returns its stamp: the frame's capture time plus one period.
func (p *Predictor) Predict(dst []uint8, s *Snapshot) (time.Time, error) {
	if !p.CanDecode() {
		return time.Time{}, ErrUnavailable
	}
	p.s.CopyFrom(s.State)
	if err := p.m.PriorStep(&p.s, s.Action, p.out, nil); err != nil {
		return time.Time{}, fmt.Errorf("prior step: %w", err)
	}
	if err := p.m.Decode(p.img, p.s.Deter, p.s.Stoch); err != nil {
		return time.Time{}, fmt.Errorf("decode: %w", err)
	}
	ImageToRGB8(dst, p.img)
	return s.Captured.Add(p.period), nil
}

// Reconstruct writes the posterior state of s, decoded, as rgb8 into dst.
func (p *Predictor) Reconstruct(dst []uint8, s *Snapshot) error {
	if !p.CanDecode() {
		return ErrUnavailable
	}
	if err := p.m.Decode(p.img, s.State.Deter, s.State.Stoch); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	ImageToRGB8(dst, p.img)
	return nil
}

// ImageToRGB8 turns a decoded HWC float image ([0,1], unclamped) into rgb8 with rssmd's one
// conversion, model.UnitImageBytes: ×255, NaN → 0, clamped, rounded half away from zero.
func ImageToRGB8(dst []uint8, img []float32) { model.UnitImageBytes(dst, img[:len(dst)]) }

// ImagineRequest is an ~imagine call.
type ImagineRequest struct {
	Horizon int
	Actions []float32 // Horizon×ActionDim, row-major; empty: zeros
	Images  bool
}

// Rollout is an ~imagine answer: Horizon rows of each, from the state of tick Tick (frame Seq
// captured at Captured).
type Rollout struct {
	Tick, Seq                  uint64
	Captured                   time.Time
	Deter, StochMean, StochStd []float32
	Images                     [][]uint8 // rgb8 64x64 each, stamped Stamps[k]
	Stamps                     []time.Time
}

// Imagine rolls the prior out from s for req.Horizon steps (1..maxHorizon). Errors say what
// was wrong with the request, for the service's message.
func (p *Predictor) Imagine(s *Snapshot, req ImagineRequest, maxHorizon int) (*Rollout, error) {
	a, H := p.a, req.Horizon
	switch {
	case p.m == nil:
		return nil, ErrUnavailable
	case s == nil:
		return nil, errors.New("no state yet: the filter has not run a step")
	case H < 1 || H > maxHorizon:
		return nil, fmt.Errorf("horizon %d out of range 1..%d", H, maxHorizon)
	case len(req.Actions) != 0 && len(req.Actions) != H*a.ActionDim:
		return nil, fmt.Errorf("actions holds %d values, want 0 or horizon×action_dim = %d×%d", len(req.Actions), H, a.ActionDim)
	case req.Images && a.Decoder == "":
		return nil, errors.New("the model has no image decoder")
	}
	for i, v := range req.Actions {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("actions[%d] is %v", i, v)
		}
	}
	p.s.CopyFrom(s.State)
	r := &Rollout{Tick: s.Tick, Seq: s.Seq, Captured: s.Captured,
		Deter: make([]float32, 0, H*a.Deter), StochMean: make([]float32, 0, H*a.Stoch)}
	if !a.Discrete {
		r.StochStd = make([]float32, 0, H*a.Stoch)
	}
	for k := 0; k < H; k++ {
		clear(p.act)
		if len(req.Actions) > 0 {
			copy(p.act, req.Actions[k*a.ActionDim:])
		}
		if err := p.m.PriorStep(&p.s, p.act, p.out, nil); err != nil {
			return nil, fmt.Errorf("prior step %d: %w", k, err)
		}
		r.Deter = append(r.Deter, p.s.Deter...)
		if a.Discrete {
			r.StochMean = append(r.StochMean, p.out.PriorLogits...)
		} else {
			r.StochMean = append(r.StochMean, p.out.PriorMean...)
			r.StochStd = append(r.StochStd, p.out.PriorStd...)
		}
		if req.Images {
			if err := p.m.Decode(p.img, p.s.Deter, p.s.Stoch); err != nil {
				return nil, fmt.Errorf("decode %d: %w", k, err)
			}
			im := make([]uint8, ImageBytes)
			ImageToRGB8(im, p.img)
			r.Images = append(r.Images, im)
			r.Stamps = append(r.Stamps, s.Captured.Add(time.Duration(k+1)*p.period))
		}
	}
	return r, nil
}
