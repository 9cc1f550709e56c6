// Package report owns rssmd's offline pictures: it turns a filter run or a tick recording
// into one PNG with a strip of actual, reconstructed and predicted 64x64 frames above plots
// of prediction error, KL and ELBO per step (drawn with gonum/plot).
package report

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/rssmd/rssmd/model"
)

// Data is what a report shows. Frame rows are 64x64x3 HWC RGB, indexed by step; a nil
// row (or a nil frame in it) is left out. Series are per step; NaN marks a missing value.
type Data struct {
	Title string
	// Actual frames (the input), Recon (decoded posterior) and Pred (open-loop prior
	// predictions of that step's frame).
	Actual, Recon, Pred [][]uint8
	// Series to plot, by step. MSE is the error of Recon (or of the prediction) against Actual.
	MSE, KL, ELBO []float64
	// PSNR, when set, is plotted next to MSE instead of being derived from it.
	PSNR []float64
	// Anomaly marks flagged steps (recordings); shaded in the plots.
	Anomaly []bool
	// ErrorLabel names what MSE measures ("reconstruction" or "one-step prediction").
	ErrorLabel string
	// OpenLoopFrom is the first step predicted open loop (a rollout after the filtered
	// steps); 0 when every step was filtered. The plots mark it.
	OpenLoopFrom int
	// Time is each step's time in seconds from the first (recordings); nil puts the step
	// number on the x axis.
	Time []float64
}

// Options size the picture. Zero values take the defaults.
type Options struct {
	// Width in pixels (default 1200); Frames is the number of strip columns (default 10).
	Width, Frames int
}

// ErrEmpty is returned for data with no steps.
var ErrEmpty = errors.New("report: nothing to show")

const (
	rowLabelW = 110
	plotH     = 220
	titleH    = 34
)

// Size returns the picture's size in pixels for d and o (after defaults).
func Size(d *Data, o Options) (w, h int) {
	o = o.withDefaults()
	rows := 0
	for _, r := range [][][]uint8{d.Actual, d.Recon, d.Pred} {
		if hasAny(r) {
			rows++
		}
	}
	cell := cellSize(o)
	return o.Width, titleH + rows*(cell+18) + plotRows(len(panelsOf(d)))*plotH + 20
}

// plotRows is the number of plot rows for n panels, two to a row.
func plotRows(n int) int { return max(1, (n+1)/2) }

func (o Options) withDefaults() Options {
	if o.Width == 0 {
		o.Width = 1200
	}
	if o.Frames == 0 {
		o.Frames = 10
	}
	return o
}

func cellSize(o Options) int { return (o.Width - rowLabelW - 10) / o.Frames }

func hasAny(r [][]uint8) bool {
	for _, f := range r {
		if f != nil {
			return true
		}
	}
	return false
}

// steps is the number of steps of d.
func (d *Data) steps() int {
	n := 0
	for _, l := range []int{len(d.Actual), len(d.Recon), len(d.Pred), len(d.MSE), len(d.KL), len(d.ELBO), len(d.PSNR)} {
		n = max(n, l)
	}
	return n
}

// Render writes d as a PNG to w.
func Render(w io.Writer, d *Data, o Options) error {
	o = o.withDefaults()
	if o.Width < 400 || o.Width > 8000 || o.Frames < 1 || o.Frames > 100 || cellSize(o) < 16 {
		return fmt.Errorf("report: width %d with %d frames: want width 400..8000 and frames 1..100 of at least 16 px", o.Width, o.Frames)
	}
	T := d.steps()
	if T == 0 {
		return ErrEmpty
	}
	for name, r := range map[string][][]uint8{"actual": d.Actual, "recon": d.Recon, "pred": d.Pred} {
		for i, f := range r {
			if f != nil && len(f) != model.ImageValues {
				return fmt.Errorf("report: %s frame %d has %d bytes, want %d", name, i, len(f), model.ImageValues)
			}
		}
	}
	W, H := Size(d, o)
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(W), vg.Length(H)), vgimg.UseDPI(72))
	dc := draw.New(c)
	// y runs upwards in vg; top is H.
	top := vg.Length(H)
	txt := plot.New().Title.TextStyle
	txt.XAlign, txt.YAlign = draw.XLeft, draw.YCenter
	txt.Font.Size = 16
	dc.FillText(txt, vg.Point{X: 10, Y: top - 24}, d.Title)
	txt.Font.Size = 12

	cols := pickColumns(d, T, o.Frames)
	cell := cellSize(o)
	y := top - titleH
	rows := []struct {
		name   string
		frames [][]uint8
	}{{"actual", d.Actual}, {"reconstructed", d.Recon}, {"predicted", d.Pred}}
	if d.OpenLoopFrom > 0 {
		rows[2].name = fmt.Sprintf("open loop\nfrom t=%d", d.OpenLoopFrom)
	}
	for _, r := range rows {
		if !hasAny(r.frames) {
			continue
		}
		y -= vg.Length(cell)
		dc.FillText(txt, vg.Point{X: 10, Y: y + vg.Length(cell)/2}, r.name)
		for j, t := range cols {
			x := vg.Length(rowLabelW + j*cell)
			if t < len(r.frames) && r.frames[t] != nil {
				c.DrawImage(vg.Rectangle{Min: vg.Point{X: x + 1, Y: y}, Max: vg.Point{X: x + vg.Length(cell) - 1, Y: y + vg.Length(cell) - 2}}, frameImage(r.frames[t]))
			}
		}
		small := txt
		small.Font.Size = 10
		for j, t := range cols {
			dc.FillText(small, vg.Point{X: vg.Length(rowLabelW+j*cell) + 2, Y: y - 9}, fmt.Sprintf("t=%d", t))
		}
		y -= 18
	}

	// Plots, two to a row; an odd last one takes the whole row. Panels without data are
	// left out.
	panels := panelsOf(d)
	ax := xAxisOf(d, T)
	pw := vg.Length(W) / 2
	for i, pn := range panels {
		col, row := i%2, i/2
		x0, x1 := vg.Length(col)*pw, vg.Length(col+1)*pw
		if i == len(panels)-1 && i%2 == 0 {
			x1 = vg.Length(W)
		}
		y1 := y - vg.Length(row)*plotH
		sub := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x0 + 5, Y: y1 - plotH + 5}, Max: vg.Point{X: x1 - 5, Y: y1 - 5}}}
		pl, _ := drawPanel(d, pn, ax)
		pl.Draw(sub)
	}
	if note := figureNote(d, ax, panels); note != "" {
		small := txt
		small.Font.Size = 11
		dc.FillText(small, vg.Point{X: 10, Y: 10}, note)
	}
	if len(panels) == 0 {
		dc.FillText(txt, vg.Point{X: 10, Y: y - plotH/2}, "no error, KL or ELBO values to plot")
	}
	if err := png.Encode(w, c.Image()); err != nil {
		return fmt.Errorf("report: encode png: %w", err)
	}
	return nil
}

// pickColumns spreads n columns over the steps that have frames.
func pickColumns(d *Data, T, n int) []int {
	n = min(n, T)
	cols := make([]int, n)
	for j := range n {
		if n == 1 {
			break
		}
		cols[j] = j * (T - 1) / (n - 1)
	}
	// Prefer showing predictions when they exist only at the end (a rollout).
	if first := firstFrame(d.Pred); first > 0 && hasAny(d.Pred) {
		k := T - first
		if k > 0 && k < n {
			for j := range k {
				cols[n-k+j] = first + j
			}
			for j := range n - k {
				cols[j] = j * (first - 1) / max(1, n-k-1)
			}
		}
	}
	return cols
}

func firstFrame(r [][]uint8) int {
	for i, f := range r {
		if f != nil {
			return i
		}
	}
	return -1
}

func psnrOf(d *Data) []float64 {
	if d.PSNR != nil {
		return d.PSNR
	}
	out := make([]float64, len(d.MSE))
	for i, m := range d.MSE {
		out[i] = math.NaN()
		if m > 0 {
			out[i] = -10 * math.Log10(m)
		}
	}
	return out
}

func frameImage(f []uint8) image.Image {
	n := model.ImageSize
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for i := range n * n {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = f[3*i], f[3*i+1], f[3*i+2], 255
	}
	return img
}
