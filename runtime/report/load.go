package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/runtime/record"
)

// ErrInput marks an input a report cannot be made from.
var ErrInput = errors.New("report: unusable input")

// FromFilter builds report data from the arrays of an `rssmd filter` output and, when seq
// is not nil, the input sequence it was run on (for the actual frames and the error).
// Rollout images become the predictions of the frames after the filtered part.
func FromFilter(arrays map[string]*seqio.Array, seq *model.Sequence) (*Data, error) {
	kl, ok := arrays["kl"]
	if !ok || len(kl.Shape) != 1 {
		return nil, fmt.Errorf("%w: no kl (T,) array: not an rssmd filter output", ErrInput)
	}
	T := kl.Shape[0]
	d := &Data{KL: f64(kl.F32), ErrorLabel: "reconstruction"}
	if e, ok := arrays["elbo"]; ok && len(e.F32) == T {
		d.ELBO = f64(e.F32)
	}
	total := T
	var rollout *seqio.Array
	if r, ok := arrays["rollout_image"]; ok {
		if len(r.Shape) != 4 || r.Shape[1] != model.ImageSize || r.Shape[2] != model.ImageSize || r.Shape[3] != 3 {
			return nil, fmt.Errorf("%w: rollout_image has shape %v", ErrInput, r.Shape)
		}
		rollout = r
		total += r.Shape[0]
	}
	if seq != nil {
		// Without a rollout the output has a row per frame; a rollout reads the pre_action
		// rows after the filtered frames, so the sequence may go on past it.
		if (rollout == nil && seq.T != T) || seq.T < total {
			return nil, fmt.Errorf("%w: the sequence has %d frames, the filter output covers %d: not the sequence it was made from", ErrInput, seq.T, total)
		}
		d.Actual = make([][]uint8, total)
		for t := range total {
			d.Actual[t] = seq.Frame(t)
		}
	}
	if r, ok := arrays["recon"]; ok {
		if len(r.Shape) != 4 || r.Shape[0] != T || len(r.F32) != T*model.ImageValues {
			return nil, fmt.Errorf("%w: recon has shape %v, want (%d,64,64,3)", ErrInput, r.Shape, T)
		}
		d.Recon = make([][]uint8, T)
		d.MSE = nanSlice(total)
		for t := range T {
			f := r.F32[t*model.ImageValues : (t+1)*model.ImageValues]
			d.Recon[t] = to8(f)
			if seq != nil {
				d.MSE[t] = mse(f, seq.Frame(t))
			}
		}
	}
	if rollout != nil {
		d.OpenLoopFrom = T
		d.Pred = make([][]uint8, total)
		if d.MSE == nil {
			d.MSE = nanSlice(total)
		}
		for k := range rollout.Shape[0] {
			f := rollout.F32[k*model.ImageValues : (k+1)*model.ImageValues]
			d.Pred[T+k] = to8(f)
			if seq != nil {
				d.MSE[T+k] = mse(f, seq.Frame(T+k))
			}
		}
	}
	if seq == nil {
		d.MSE = nil // no frames to compare with
	}
	return d, nil
}

// FromRecording builds report data from a tick recording (runtime/record): the frames when
// it kept them, and the monitor's one-step prediction error, KL, ELBO and anomaly flags.
func FromRecording(r io.Reader) (*Data, error) {
	rd, err := record.NewReader(r)
	if err != nil {
		return nil, err
	}
	d := &Data{ErrorLabel: "one-step prediction"}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(d.KL) >= 1<<22 {
			return nil, fmt.Errorf("%w: more than %d ticks", ErrInput, 1<<22)
		}
		var f []uint8
		if len(rec.Frame) == model.ImageValues {
			f = bytes.Clone(rec.Frame)
		}
		d.Actual = append(d.Actual, f)
		d.KL = append(d.KL, float64(rec.KL))
		m, p, e := math.NaN(), math.NaN(), float64(rec.ELBO)
		if rec.Decoded {
			m, p = float64(rec.MSE), float64(rec.PSNR)
		}
		d.MSE = append(d.MSE, m)
		d.PSNR = append(d.PSNR, p)
		d.ELBO = append(d.ELBO, e)
		d.Anomaly = append(d.Anomaly, rec.Anomaly)
		d.Time = append(d.Time, float64(rec.StampNs))
	}
	if len(d.KL) == 0 {
		return nil, fmt.Errorf("%w: the recording holds no ticks", ErrInput)
	}
	if !hasAny(d.Actual) {
		d.Actual = nil
	}
	// Seconds from the first frame's capture; stamps that do not increase (a recording
	// without them) fall back to the step number.
	t0 := d.Time[0]
	for i := range d.Time {
		d.Time[i] = (d.Time[i] - t0) / 1e9
		if i > 0 && !(d.Time[i] >= d.Time[i-1]) {
			d.Time = nil
			break
		}
	}
	if d.Time != nil && d.Time[len(d.Time)-1] == 0 {
		d.Time = nil
	}
	h := rd.Header()
	d.Title = fmt.Sprintf("recording: %s model %s at %g Hz, %d ticks", h.Kind, h.Model, h.Rate, len(d.KL))
	return d, nil
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

func to8(f []float32) []uint8 {
	out := make([]uint8, len(f))
	model.UnitImageBytes(out, f)
	return out
}

// mse of a decoded image (clamped to [0,1]) against an 8-bit frame, pixels in [0,1].
func mse(pred []float32, img []uint8) float64 {
	var s float64
	for i, b := range img {
		d := float64(min(max(pred[i], 0), 1)) - float64(b)/255
		s += d * d
	}
	return s / float64(len(img))
}
