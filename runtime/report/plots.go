package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxPoints is the most values a panel draws one by one; more are drawn as one median per
// bucket of steps with a p5–p95 band (about 1.5 px per bucket at 1200 px).
const (
	maxPoints = 800
	buckets   = 400
)

var (
	lineColour    = color.NRGBA{R: 30, G: 110, B: 200, A: 255}
	bandColour    = color.NRGBA{R: 30, G: 110, B: 200, A: 60}
	anomalyColour = color.NRGBA{R: 230, G: 40, B: 50, A: 50}
	openColour    = color.NRGBA{R: 110, G: 110, B: 110, A: 255}
)

// panel is one plot: a series and how to show it.
type panel struct {
	title, unit string
	v           []float64
	log         bool // values span decades: log y axis
}

// panelsOf lists the plots d has data for: prediction error, PSNR, KL and ELBO.
func panelsOf(d *Data) []panel {
	var ps []panel
	add := func(p panel) {
		if finiteCount(p.v) > 0 {
			ps = append(ps, p)
		}
	}
	add(panel{title: errorTitle(d), unit: "MSE", v: d.MSE})
	add(panel{title: "PSNR of the same frames (dB)", unit: "dB", v: psnrOf(d)})
	add(panel{title: "KL posterior || prior (nats)", unit: "nats", v: d.KL, log: spansDecades(d.KL)})
	add(panel{title: "ELBO per step (nats)", unit: "nats", v: d.ELBO})
	return ps
}

// errorTitle says what the error plot compares.
func errorTitle(d *Data) string {
	switch {
	case d.ErrorLabel == "one-step prediction":
		return "one-step prediction error (MSE vs the arriving frame)"
	case d.OpenLoopFrom > 0:
		return fmt.Sprintf("MSE: reconstruction, then open-loop prediction from t=%d", d.OpenLoopFrom)
	}
	return "reconstruction error (MSE of the decoded posterior)"
}

func finiteCount(v []float64) int {
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			n++
		}
	}
	return n
}

// spansDecades is true for non-negative values whose positive p99 is over 100 times their p1:
// on a linear axis all but the spikes would sit on zero.
func spansDecades(v []float64) bool {
	var pos []float64
	for _, x := range v {
		if x < 0 {
			return false
		}
		if x > 0 && !math.IsInf(x, 0) {
			pos = append(pos, x)
		}
	}
	if len(pos) < 2 {
		return false
	}
	slices.Sort(pos)
	return quantile(pos, 0.99) > 100*quantile(pos, 0.01)
}

// quantile of sorted values, linearly interpolated.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	f := q * float64(len(sorted)-1)
	i := int(f)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (f-float64(i))*(sorted[i+1]-sorted[i])
}

// xAxis maps steps to the x axis: the step number, seconds or minutes.
type xAxis struct {
	x     []float64 // x of each step
	label string
	unit  float64 // seconds per x unit (0: steps)
}

func xAxisOf(d *Data, T int) xAxis {
	a := xAxis{x: make([]float64, T), label: "step"}
	if len(d.Time) != T {
		for i := range a.x {
			a.x[i] = float64(i)
		}
		return a
	}
	a.label, a.unit = "time (s)", 1
	if span := d.Time[T-1] - d.Time[0]; span > 180 {
		a.label, a.unit = "time (min)", 60
	}
	for i, t := range d.Time {
		a.x[i] = t / a.unit
	}
	return a
}

// step is the x distance of one step (for spans and the open-loop marker).
func (a xAxis) step(i int) float64 {
	if i+1 < len(a.x) {
		return a.x[i+1] - a.x[i]
	}
	if i > 0 {
		return a.x[i] - a.x[i-1]
	}
	return 1
}

// drawn is what drawPanel put in a plot, for tests.
type drawn struct {
	points, bands, spans int
	openLoopX            float64 // NaN: no marker
}

// drawPanel builds one plot: the series (or its bucket medians and p5–p95 band), anomaly
// spans shaded behind it and the start of the open-loop prediction marked.
func drawPanel(d *Data, pn panel, ax xAxis) (*plot.Plot, drawn) {
	info := drawn{openLoopX: math.NaN()}
	p := plot.New()
	p.Title.Text = pn.title
	p.X.Label.Text = ax.label
	p.Y.Label.Text = pn.unit
	p.X.Tick.Marker = cleanTicks{}
	p.Add(plotter.NewGrid())
	v := pn.v
	if pn.log {
		v = positive(v)
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Title.Text += ", log scale"
	} else {
		p.Y.Tick.Marker = cleanTicks{}
	}
	T := len(ax.x)
	var lines []plotter.XYs
	var band []plotter.XYs // closed rings: upper edge then lower edge reversed
	if k := bucketSize(v); k > 0 {
		lines, band = aggregate(v, ax, k)
	} else {
		lines = segments(v, ax)
	}
	for _, l := range lines {
		info.points += len(l)
	}
	info.bands = len(band)
	lo, hi := yRange(lines, band)
	if math.IsNaN(lo) {
		lo, hi = 0, 1
	}
	if hi <= lo { // a flat series
		if pn.log {
			lo, hi = lo/2, hi*2
		} else {
			lo, hi = lo-0.5, hi+0.5
		}
	}
	if !pn.log {
		m := (hi - lo) * 0.05
		lo, hi = lo-m, hi+m
	} else {
		lo, hi = lo/1.3, hi*1.3
	}
	p.Y.Min, p.Y.Max = lo, hi
	p.X.Min, p.X.Max = ax.x[0], ax.x[T-1]+ax.step(T-1)
	if spans := anomalySpans(d.Anomaly, ax, max(1, T/buckets)); len(spans) > 0 {
		info.spans = len(spans)
		minW := (p.X.Max - p.X.Min) / 250 // a 2 s stretch in 20 min stays visible
		for _, sp := range spans {
			if w := sp[1] - sp[0]; w < minW {
				sp[0], sp[1] = sp[0]-(minW-w)/2, sp[1]+(minW-w)/2
			}
			poly, err := plotter.NewPolygon(plotter.XYs{{X: sp[0], Y: lo}, {X: sp[1], Y: lo}, {X: sp[1], Y: hi}, {X: sp[0], Y: hi}})
			if err == nil {
				poly.Color, poly.LineStyle.Width = anomalyColour, 0
				p.Add(poly)
			}
		}
	}
	for _, ring := range band {
		if poly, err := plotter.NewPolygon(ring); err == nil {
			poly.Color, poly.LineStyle.Width = bandColour, 0
			p.Add(poly)
		}
	}
	for _, seg := range lines {
		if l, err := plotter.NewLine(seg); err == nil {
			l.Color, l.Width = lineColour, vg.Points(1.2)
			p.Add(l)
		} else if s, err := plotter.NewScatter(seg); err == nil { // a lone point
			s.Color, s.Radius = lineColour, vg.Points(1.5)
			p.Add(s)
		}
	}
	if o := d.OpenLoopFrom; o > 0 && o < T {
		x := ax.x[o] - ax.step(o)/2
		info.openLoopX = x
		if l, err := plotter.NewLine(plotter.XYs{{X: x, Y: lo}, {X: x, Y: hi}}); err == nil {
			l.Color, l.Width, l.Dashes = openColour, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(l)
		}
		if lb, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: hi}}, Labels: []string{" open loop →"}}); err == nil {
			lb.TextStyle[0].YAlign = draw.YTop
			lb.TextStyle[0].Color = openColour
			p.Add(lb)
		}
	}
	return p, info
}

// positive replaces values ≤ 0 (no place on a log axis) with NaN, a gap.
func positive(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x
		if !(x > 0) {
			out[i] = math.NaN()
		}
	}
	return out
}

// segments are the drawable runs of v. Values missing because the series is sampled (a
// run decoding every n-th tick) are bridged; a gap over five times the usual spacing of the
// values and over 1% of the steps (an episode start, a decoder warming up) breaks the line.
func segments(v []float64, ax xAxis) []plotter.XYs {
	var idx []int
	for i, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			idx = append(idx, i)
		}
	}
	gaps := make([]int, 0, len(idx))
	for j := 1; j < len(idx); j++ {
		gaps = append(gaps, idx[j]-idx[j-1])
	}
	slices.Sort(gaps)
	usual := 1
	if len(gaps) > 0 {
		usual = gaps[len(gaps)/2]
	}
	var out []plotter.XYs
	var seg plotter.XYs
	for j, i := range idx {
		if j > 0 && i-idx[j-1] > max(5*usual, len(v)/100) && len(seg) > 0 {
			out, seg = append(out, seg), nil
		}
		seg = append(seg, plotter.XY{X: ax.x[i], Y: v[i]})
	}
	if len(seg) > 0 {
		out = append(out, seg)
	}
	return out
}

// aggregate draws v as the median of each bucket of k steps, with the bucket's p5–p95 as a
// band; buckets without values break the line and the band.
func aggregate(v []float64, ax xAxis, k int) (lines, band []plotter.XYs) {
	var seg, up, down plotter.XYs
	flush := func() {
		if len(seg) > 0 {
			lines = append(lines, seg)
			ring := append(slices.Clone(up), reversed(down)...)
			band = append(band, ring)
		}
		seg, up, down = nil, nil, nil
	}
	vals := make([]float64, 0, k)
	for b := 0; b*k < len(v); b++ {
		i0, i1 := b*k, min((b+1)*k, len(v))
		vals = vals[:0]
		for _, x := range v[i0:i1] {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				vals = append(vals, x)
			}
		}
		if len(vals) == 0 {
			flush()
			continue
		}
		slices.Sort(vals)
		x := (ax.x[i0] + ax.x[i1-1]) / 2
		seg = append(seg, plotter.XY{X: x, Y: quantile(vals, 0.5)})
		up = append(up, plotter.XY{X: x, Y: quantile(vals, 0.95)})
		down = append(down, plotter.XY{X: x, Y: quantile(vals, 0.05)})
	}
	flush()
	return lines, band
}

func reversed(xys plotter.XYs) plotter.XYs {
	out := slices.Clone(xys)
	slices.Reverse(out)
	return out
}

// bucketSize is the steps per bucket for v, or 0 when v is drawn point by point. A sparse
// series (the prediction error of a run decoding every n-th tick) gets buckets holding about
// three values each, so that empty buckets mean real gaps.
func bucketSize(v []float64) int {
	n := finiteCount(v)
	if n <= maxPoints {
		return 0
	}
	return max((len(v)+buckets-1)/buckets, (3*len(v)+n-1)/n)
}

// figureNote explains the aggregation and the shading, once for all panels ("" when there
// is neither).
func figureNote(d *Data, ax xAxis, panels []panel) string {
	var notes, spans []string
	for _, pn := range panels {
		if k := bucketSize(pn.v); k > 0 {
			if sp := bucketSpan(ax, k); !slices.Contains(spans, sp) {
				spans = append(spans, sp)
			}
		}
	}
	if len(spans) > 0 {
		notes = append(notes, fmt.Sprintf("each line point is the median of %s of steps, the band its p5–p95", strings.Join(spans, " or ")))
	}
	if slices.Contains(d.Anomaly, true) {
		notes = append(notes, "red spans: anomaly flag on")
	}
	if d.OpenLoopFrom > 0 {
		notes = append(notes, fmt.Sprintf("dashed line: open-loop prediction begins (t=%d)", d.OpenLoopFrom))
	}
	return strings.Join(notes, "; ")
}

// bucketSpan names k steps on the axis ("6 s", "50 steps").
func bucketSpan(ax xAxis, k int) string {
	if ax.unit == 0 {
		return fmt.Sprintf("%d steps", k)
	}
	sec := ax.step(0) * ax.unit * float64(k)
	return strconv.FormatFloat(sec, 'g', 2, 64) + " s"
}

func yRange(sets ...[]plotter.XYs) (lo, hi float64) {
	lo, hi = math.NaN(), math.NaN()
	for _, set := range sets {
		for _, xys := range set {
			for _, p := range xys {
				if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
					continue
				}
				if math.IsNaN(lo) || p.Y < lo {
					lo = p.Y
				}
				if math.IsNaN(hi) || p.Y > hi {
					hi = p.Y
				}
			}
		}
	}
	return lo, hi
}

// anomalySpans are the [x0, x1) ranges of flagged steps; runs closer than gap steps merge,
// so a long recording shades a few readable spans rather than thousands of slivers.
func anomalySpans(flags []bool, ax xAxis, gap int) [][2]float64 {
	var out [][2]float64
	start, last := -1, -1
	for i, f := range flags {
		if !f || i >= len(ax.x) {
			continue
		}
		if start >= 0 && i-last > gap {
			out = append(out, [2]float64{ax.x[start], ax.x[last] + ax.step(last)})
			start = -1
		}
		if start < 0 {
			start = i
		}
		last = i
	}
	if start >= 0 {
		out = append(out, [2]float64{ax.x[start], ax.x[last] + ax.step(last)})
	}
	return out
}

// cleanTicks are gonum's default ticks labelled without trailing zeros ("25000", not
// "25000.00").
type cleanTicks struct{}

func (cleanTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 6, 64)
		}
	}
	return ts
}
