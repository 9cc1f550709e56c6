package calibration

import (
	"fmt"
	"math"
)

// bins is the resolution of a Histogram: fine enough that the chosen clip is within 0.05% of
// the observed range.
const bins = 2048

// Histogram accumulates |x| of an activation over calibration data without keeping the values.
// Its range grows by doubling (merging bin pairs) when a larger value arrives, so one pass
// suffices. Exact zeros (ReLU outputs) are counted apart: they quantise exactly.
type Histogram struct {
	Max    float64 // upper edge of the last bin; 0 until the first non-zero value
	Counts [bins]float64
	Zeros  float64
	Peak   float64 // largest |x| seen
	// Lo and Hi are the smallest and largest signed values seen (0 before any), which
	// decide whether a point's range is one-sided enough for a zero point.
	Lo, Hi float64
}

// Add accumulates xs. NaN and Inf values are ignored (they say nothing about a range).
func (h *Histogram) Add(xs []float32) {
	var peak float64
	for _, v := range xs {
		f := float64(v)
		a := math.Abs(f)
		if a > peak && !math.IsInf(a, 0) {
			peak = a
		}
		if !math.IsInf(a, 0) && a == a {
			h.Lo, h.Hi = min(h.Lo, f), max(h.Hi, f)
		}
	}
	if peak > h.Max {
		h.grow(peak)
	}
	h.Peak = max(h.Peak, peak)
	if h.Max == 0 {
		h.Zeros += float64(len(xs))
		return
	}
	scale := bins / h.Max
	for _, v := range xs {
		a := math.Abs(float64(v))
		switch {
		case a == 0:
			h.Zeros++
		case a <= h.Max:
			h.Counts[min(int(a*scale), bins-1)]++
		}
	}
}

func (h *Histogram) grow(peak float64) {
	if h.Max == 0 {
		h.Max = peak
		return
	}
	for h.Max < peak {
		for i := 0; i < bins/2; i++ {
			h.Counts[i] = h.Counts[2*i] + h.Counts[2*i+1]
		}
		clear(h.Counts[bins/2:])
		h.Max *= 2
	}
}

// Total is the number of values seen (zeros included).
func (h *Histogram) Total() float64 {
	t := h.Zeros
	for _, c := range h.Counts {
		t += c
	}
	return t
}

// Percentile returns the smallest bin edge below which a fraction p of the |x| lie.
func (h *Histogram) Percentile(p float64) float64 {
	if h.Max == 0 {
		return 0
	}
	target := p * h.Total()
	cum := h.Zeros
	for i, c := range h.Counts {
		cum += c
		if cum >= target {
			return float64(i+1) * h.Max / bins
		}
	}
	return h.Max
}

// MSEClip returns the clip value c that minimises the expected squared error of symmetric
// int8 quantisation with scale c/127: values below c carry uniform rounding noise (c/127)²/12,
// values above it are clipped to c. Bin centres stand for their values.
func (h *Histogram) MSEClip() float64 {
	if h.Max == 0 {
		return 0
	}
	w := h.Max / bins
	// Suffix sums of count, count·x, count·x² for the clipped tail.
	var s0, s1, s2 [bins + 1]float64
	for i := bins - 1; i >= 0; i-- {
		x := (float64(i) + 0.5) * w
		c := h.Counts[i]
		s0[i], s1[i], s2[i] = s0[i+1]+c, s1[i+1]+c*x, s2[i+1]+c*x*x
	}
	best, bestErr := h.Max, math.Inf(1)
	nonZero := s0[0]
	for i := 1; i <= bins; i++ {
		c := float64(i) * w
		inside := nonZero - s0[i]
		step := c / 127
		e := inside*step*step/12 + (s2[i] - 2*c*s1[i] + c*c*s0[i])
		if e < bestErr {
			best, bestErr = c, e
		}
	}
	return best
}

// Methods of range selection.
const (
	MethodPercentile = "percentile"
	MethodMSE        = "mse"
	MethodMax        = "max"
)

// PercentileQ is the percentile of |x| the percentile method clips at.
const PercentileQ = 0.9999

// Clip chooses the clip value of h by method.
func (h *Histogram) Clip(method string) (float64, error) {
	switch method {
	case MethodPercentile:
		return h.Percentile(PercentileQ), nil
	case MethodMSE:
		return h.MSEClip(), nil
	case MethodMax:
		return h.Peak, nil
	}
	return 0, fmt.Errorf("unknown range method %q (want %s, %s or %s)", method, MethodPercentile, MethodMSE, MethodMax)
}
