package report

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/runtime/record"
	"github.com/rssmd/rssmd/runtime/tick"
)

// longRecording is 20 minutes at 50 Hz (60,000 ticks): KL spanning decades, three
// anomalous stretches, no ELBO (off in the run), as `rssmd run --record` writes it.
func longRecording() *Data {
	const T, rate = 60000, 50.0
	r := rand.New(rand.NewPCG(1, 2))
	d := &Data{ErrorLabel: "one-step prediction", Title: "recording: 60000 ticks"}
	for i := range T {
		d.Time = append(d.Time, float64(i)/rate)
		kl := math.Exp(r.NormFloat64()*1.5 + 1)
		mse := 0.002 * math.Exp(r.NormFloat64()*0.3)
		an := (i >= 10000 && i < 10100) || (i >= 30000 && i < 30500) || (i >= 50000 && i < 50050)
		if an {
			kl *= 50
			mse *= 10
		}
		d.KL = append(d.KL, kl)
		d.MSE = append(d.MSE, mse)
		d.PSNR = append(d.PSNR, -10*math.Log10(mse))
		d.ELBO = append(d.ELBO, math.NaN())
		d.Anomaly = append(d.Anomaly, an)
	}
	return d
}

func titles(ps []panel) string {
	var t []string
	for _, p := range ps {
		t = append(t, p.title)
	}
	return strings.Join(t, " | ")
}

// A long recording is drawn per time bucket (median and p5–p95), in minutes, with the
// anomalies as a few shaded spans, KL on a log axis and no empty ELBO panel.
func TestLongRecording(t *testing.T) {
	d := longRecording()
	ps := panelsOf(d)
	if len(ps) != 3 || strings.Contains(titles(ps), "ELBO") {
		t.Fatalf("panels %q: want error, PSNR and KL (the ELBO has no values)", titles(ps))
	}
	ax := xAxisOf(d, len(d.KL))
	if ax.label != "time (min)" || math.Abs(ax.x[len(ax.x)-1]-59999.0/50/60) > 1e-9 {
		t.Errorf("x axis %q ending at %v, want minutes ending at 20", ax.label, ax.x[len(ax.x)-1])
	}
	for _, pn := range ps {
		p, info := drawPanel(d, pn, ax)
		if info.points > buckets || info.points < buckets/2 || info.bands == 0 {
			t.Errorf("%s: %d points, %d bands; want at most %d bucket medians with a band", pn.title, info.points, info.bands, buckets)
		}
		if info.spans != 3 {
			t.Errorf("%s: %d anomaly spans, want 3", pn.title, info.spans)
		}

		_, isLog := p.Y.Scale.(plot.LogScale)
		if wantLog := strings.HasPrefix(pn.title, "KL"); isLog != wantLog {
			t.Errorf("%s: log scale %v, want %v", pn.title, isLog, wantLog)
		}
	}
	if n := figureNote(d, ax, ps); !strings.Contains(n, "median of 3 s of steps, the band its p5–p95") || !strings.Contains(n, "red spans: anomaly flag") {
		t.Errorf("note %q does not say how the plots are aggregated and shaded", n)
	}
	var b bytes.Buffer
	if err := Render(&b, d, Options{}); err != nil {
		t.Fatal(err)
	}
	pic := b.Bytes()
	img, err := png.Decode(bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := Size(d, Options{}); img.Bounds().Dx() != w || img.Bounds().Dy() != h || h != titleH+2*plotH+20 {
		t.Errorf("picture %v, want %dx%d with two plot rows", img.Bounds(), w, h)
	}
	if dir := os.Getenv("RSSMD_REPORT_DIR"); dir != "" { // to look at it
		_ = os.WriteFile(filepath.Join(dir, "long-recording.png"), pic, 0o644)
	}
}

// Bucket medians and bands are the order statistics of each bucket.
func TestAggregate(t *testing.T) {
	v := make([]float64, 1000)
	for i := range v {
		v[i] = float64(i % 100) // each bucket of 100 holds 0..99
	}
	v[150] = math.NaN()
	ax := xAxis{x: make([]float64, len(v))}
	for i := range ax.x {
		ax.x[i] = float64(i)
	}
	lines, band := aggregate(v, ax, 100)
	if len(lines) != 1 || len(lines[0]) != 10 || len(band) != 1 || len(band[0]) != 20 {
		t.Fatalf("lines %d×%d, band %d", len(lines), len(lines[0]), len(band))
	}
	if m := lines[0][0].Y; m != 49.5 {
		t.Errorf("median of 0..99 = %v, want 49.5", m)
	}
	if hi, lo := band[0][0].Y, band[0][len(band[0])-1].Y; math.Abs(hi-94.05) > 1e-9 || math.Abs(lo-4.95) > 1e-9 {
		t.Errorf("band %v..%v, want 4.95..94.05", lo, hi)
	}
	if x := lines[0][1].X; x != 149.5 {
		t.Errorf("second bucket at x=%v, want its middle 149.5", x)
	}
}

// A filter output with a rollout marks where the open-loop prediction begins, titles the
// error plot for both parts, and leaves out panels without data.
func TestFilterReport(t *testing.T) {
	T, K := 8, 4
	d := &Data{ErrorLabel: "reconstruction", OpenLoopFrom: T}
	for i := range T + K {
		d.MSE = append(d.MSE, 0.01+0.001*float64(i))
		if i < T {
			d.KL = append(d.KL, 2+float64(i%3))
		}
	}
	ps := panelsOf(d)
	if got := titles(ps); !strings.Contains(got, "MSE: reconstruction, then open-loop prediction from t=8") || strings.Contains(got, "ELBO") || len(ps) != 3 {
		t.Errorf("panels %q", got)
	}
	ax := xAxisOf(d, d.steps())
	if ax.label != "step" {
		t.Errorf("x axis %q, want step", ax.label)
	}
	for _, pn := range ps {
		_, info := drawPanel(d, pn, ax)
		if info.openLoopX != 7.5 {
			t.Errorf("%s: open-loop marker at %v, want 7.5", pn.title, info.openLoopX)
		}
	}
	d.OpenLoopFrom = 0
	if _, info := drawPanel(d, ps[0], ax); !math.IsNaN(info.openLoopX) {
		t.Error("marker drawn without a rollout")
	}
	// KL alone: one panel, one plot row.
	only := &Data{KL: []float64{1, 2, 3}}
	if ps := panelsOf(only); len(ps) != 1 {
		t.Errorf("KL-only data: %q", titles(ps))
	}
	if _, h := Size(only, Options{}); h != titleH+plotH+20 {
		t.Errorf("KL-only height %d, want one plot row", h)
	}
	if err := Render(&bytes.Buffer{}, only, Options{}); err != nil {
		t.Fatal(err)
	}
}

// A recording's x axis is the frames' capture time in seconds.
func TestRecordingTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.rec")
	w, err := record.Create(record.Config{Path: path}, record.Header{Rate: 50, Deter: 1, Stoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1700000000, 0)
	for i := range 10 {
		w.OnTick(&tick.Result{Tick: uint64(i + 1), Seq: uint64(i), Captured: t0.Add(time.Duration(i) * 20 * time.Millisecond),
			State: model.State{Deter: []float32{0}, Stoch: []float32{0}}, Quality: tick.Quality{KL: 1 + float64(i), ELBO: math.NaN()}})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := FromRecording(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Time) != 10 || math.Abs(d.Time[9]-0.18) > 1e-9 {
		t.Fatalf("times %v, want 0..0.18 s", d.Time)
	}
	if ax := xAxisOf(d, d.steps()); ax.label != "time (s)" || ax.x[5] != d.Time[5] {
		t.Errorf("x axis %q %v", ax.label, ax.x)
	}
	if titles(panelsOf(d)) != "KL posterior || prior (nats)" {
		t.Errorf("panels %q: only KL has values", titles(panelsOf(d)))
	}
}

func TestSeqLengthMustMatch(t *testing.T) {
	T := 5
	arrays := map[string]*seqio.Array{"kl": {Shape: []int{T}, Dtype: "<f4", F32: make([]float32, T)}}
	for _, n := range []int{T - 1, T + 1} {
		seq := &model.Sequence{T: n, Images: make([]uint8, n*model.ImageValues)}
		if _, err := FromFilter(arrays, seq); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "not the sequence it was made from") {
			t.Errorf("a %d-frame sequence for %d filtered steps: %v", n, T, err)
		}
	}
	seq := &model.Sequence{T: T, Images: make([]uint8, T*model.ImageValues)}
	if _, err := FromFilter(arrays, seq); err != nil {
		t.Errorf("matching sequence: %v", err)
	}
}

// Sampled values (every 5th step) make one line; a long hole breaks it.
func TestSegmentsBridgeSampling(t *testing.T) {
	v := make([]float64, 500)
	ax := xAxis{x: make([]float64, len(v))}
	for i := range v {
		ax.x[i] = float64(i)
		v[i] = math.NaN()
		if i%5 == 0 && (i < 200 || i >= 300) {
			v[i] = float64(i)
		}
	}
	segs := segments(v, ax)
	if len(segs) != 2 || len(segs[0]) != 40 || len(segs[1]) != 40 {
		t.Fatalf("%d segments, want 2 of 40 points", len(segs))
	}
}
