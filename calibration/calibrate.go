// Package calibration turns recorded frames and actions into the activation scales of the
// int8 model (quant/): an explicit float32 observer pass over calibration sequences, range
// selection per activation point (percentile or MSE-optimal clipping), and an accuracy report
// of the int8 model against float32 on held-out sequences.
package calibration

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/quant"
)

// DefaultMethod is the range method chosen by measurement on the shared walker model: the
// observed max beat MSE and 99.99% percentile clipping on every image metric (see
// quant/doc.go for the numbers).
const DefaultMethod = MethodMax

// Options tune calibration.
type Options struct {
	// Method is the range method: MethodMax (default), MethodMSE or MethodPercentile.
	Method string
	// DecodeEvery observes the image decoder on every n-th step only (0 or 1: every step);
	// the float32 decoder costs several times a filter step.
	DecodeEvery int
	// NoEqualize turns off cross-layer equalisation of the encoder (equalize.go).
	NoEqualize bool
	// RoundToNearest rounds the decoder's transposed-conv weights to nearest instead of for
	// the least output error on the calibration inputs (quant.QuantizeCalibrated).
	RoundToNearest bool
	// Int4 gives the widest Linears (quant.Int4Layers: the GRU, the posterior's first layer,
	// the decoder's Linear) 4-bit weights: about half a batch-1 step's weight bytes. Measured
	// within issue 12's accuracy targets on the dreamer_resnet models, not on cnn_ha's
	// (README: tools/int4probe, TestTrainedInt4).
	Int4 bool
}

// observe runs the float32 model, with the weights read from ts (see newTapper), over the
// sequences and returns one histogram per quantisation point.
func observe(fm *model.Model, ts map[string]*model.Tensor, seqs []*model.Sequence, decodeEvery int) (map[string]*Histogram, error) {
	return observeGrams(fm, ts, seqs, decodeEvery, nil, nil)
}

// observeGrams is observe that also adds, when grams is not nil, the Gram matrix of every
// decoder point's inputs to grams (see quant.QuantizeCalibrated), and when sq is not nil
// the per-element sums of squares of the 4-bit Linears' inputs (quant.QuantizeCalibratedInt4).
func observeGrams(fm *model.Model, ts map[string]*model.Tensor, seqs []*model.Sequence, decodeEvery int, grams, sq map[string][]float64) (map[string]*Histogram, error) {
	if len(seqs) == 0 {
		return nil, fmt.Errorf("calibration: no calibration sequences")
	}
	t, err := newTapper(fm, ts)
	if err != nil {
		return nil, err
	}
	t.grams, t.sq = grams, sq
	obs := newObservers(fm.Arch)
	for i, s := range seqs {
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("calibration sequence %d: %w", i, err)
		}
		if err := t.observeSequence(obs, s, decodeEvery); err != nil {
			return nil, fmt.Errorf("calibration sequence %d: %w", i, err)
		}
	}
	return obs, nil
}

// Scales turns histograms into activation scales (clip/127) by method.
func Scales(obs map[string]*Histogram, method string) (map[string]float32, error) {
	names := make([]string, 0, len(obs))
	for k := range obs {
		names = append(names, k)
	}
	sort.Strings(names)
	scales := map[string]float32{}
	for _, k := range names {
		c, err := obs[k].Clip(method)
		if err != nil {
			return nil, err
		}
		if !(c > 0) {
			// A point that was always zero: any scale represents it exactly.
			c = 1
		}
		scales[k] = float32(c / 127)
	}
	return scales, nil
}

// Ranges turns histograms into affine int8 ranges: a scale per point and, where the observed
// values are one-sided enough that an asymmetric range is at least 5% finer than the
// symmetric one (ReLU and SiLU outputs: nearly twice as fine), a zero point (see
// quant.Model.Zeros). The clip of |x| chosen by method bounds both sides.
func Ranges(obs map[string]*Histogram, method string) (map[string]float32, map[string]int32, error) {
	scales, err := Scales(obs, method)
	if err != nil {
		return nil, nil, err
	}
	zeros := map[string]int32{}
	for k, h := range obs {
		sym := scales[k]
		if !quant.ZeroPointOK(k) {
			continue
		}
		c := float64(sym) * 127
		lo, hi := min(max(h.Lo, -c), 0), max(min(h.Hi, c), 0)
		s := (hi - lo) / 255
		if !(s > 0) || s >= 0.95*float64(sym) {
			continue
		}
		z := math.Round(-128 - lo/s)
		z = min(max(z, -128), 127)
		scales[k], zeros[k] = float32(s), int32(z)
	}
	return scales, zeros, nil
}

// Calibrate observes the float model on seqs, chooses ranges by method and returns the int8
// model, with the method and data recorded in its Meta.
func Calibrate(fm *model.Model, seqs []*model.Sequence, opt Options) (*quant.Model, error) {
	method := opt.Method
	if method == "" {
		method = DefaultMethod
	}
	if len(seqs) == 0 {
		return nil, fmt.Errorf("calibration: no calibration sequences")
	}
	for i, s := range seqs {
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("calibration sequence %d: %w", i, err)
		}
	}
	ts := fm.Tensors
	if !opt.NoEqualize {
		t, err := newTapper(fm, ts)
		if err != nil {
			return nil, err
		}
		ts = equalizeEncoder(ts, fm.Arch, t.encoderChannelMax(seqs))
	}
	var grams map[string][]float64
	if !opt.RoundToNearest {
		grams = map[string][]float64{}
	}
	var sq map[string][]float64
	if opt.Int4 {
		sq = map[string][]float64{}
	}
	obs, err := observeGrams(fm, ts, seqs, opt.DecodeEvery, grams, sq)
	if err != nil {
		return nil, err
	}
	scales, zeros, err := Ranges(obs, method)
	if err != nil {
		return nil, err
	}
	// The equalised weights compute the same function as fm; Quantize reads only Arch and
	// Tensors.
	var int4 []string
	if opt.Int4 {
		int4 = quant.Int4Layers
	}
	qm, err := quant.QuantizeCalibratedInt4(&model.Model{Arch: fm.Arch, Tensors: ts}, scales, zeros, grams, int4, sq)
	if err != nil {
		return nil, err
	}
	if opt.Int4 {
		qm.Meta["int4_layers"] = strings.Join(int4, ",")
	}
	steps := 0
	for _, s := range seqs {
		steps += s.T
	}
	qm.Meta["calibration_method"] = method
	qm.Meta["calibration_steps"] = fmt.Sprint(steps)
	return qm, nil
}
