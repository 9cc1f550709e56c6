package dashboard

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

// Start listens on Config.Addr and serves the page, /api/state and the extra handlers, and
// starts the render goroutine. Addr reports the address after Start.
func (d *Dashboard) Start() error {
	if !d.started.CompareAndSwap(false, true) {
		return errors.New("dashboard: already started")
	}
	ln, err := net.Listen("tcp", d.conf.Addr)
	if err != nil {
		return fmt.Errorf("dashboard: listen %s: %w", d.conf.Addr, err)
	}
	d.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.servePage)
	mux.HandleFunc("GET /api/state", d.serveState)
	for p, h := range d.conf.Handlers {
		mux.Handle(p, h)
	}
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	d.wg.Add(2)
	go func() {
		defer d.wg.Done()
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("dashboard server stopped", "err", err)
		}
	}()
	go func() {
		defer d.wg.Done()
		d.renderLoop()
	}()
	return nil
}

// Addr is the address the server listens on ("" before Start).
func (d *Dashboard) Addr() string {
	if d.ln == nil {
		return ""
	}
	return d.ln.Addr().String()
}

// URL is the page's address ("" before Start).
func (d *Dashboard) URL() string {
	if d.ln == nil {
		return ""
	}
	return "http://" + d.Addr() + "/"
}

// Close stops the server (waiting at most 2 s for open requests) and the render goroutine.
func (d *Dashboard) Close() error {
	if !d.started.Load() || !d.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(d.done)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := d.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, d.srv.Close())
	}
	d.wg.Wait()
	if err != nil {
		return fmt.Errorf("dashboard: shutdown: %w", err)
	}
	return nil
}

func (d *Dashboard) servePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(indexHTML)
}

// renderLoop decodes the newest snapshot every FrameInterval.
func (d *Dashboard) renderLoop() {
	t := time.NewTicker(d.every)
	defer t.Stop()
	for {
		select {
		case <-d.done:
			return
		case <-t.C:
		}
		d.mu.Lock()
		fresh := d.readyGen != d.seenGen
		if fresh {
			d.ready, d.spare = d.spare, d.ready
			d.seenGen = d.readyGen
		}
		d.mu.Unlock()
		if fresh {
			d.render(d.spare)
		}
	}
}

// render turns a snapshot into PNG data URLs: the camera view, the reconstruction from the
// posterior state, and the open-loop prediction of this frame made Horizon steps earlier.
func (d *Dashboard) render(s *snapshot) {
	im := images{Tick: s.tick, Seq: s.seq, Camera: pngURL(rgbImage(s.image, nil)), Anomaly: s.anomaly, Mark: s.mark}
	if m := d.conf.Model; m != nil && d.arch.Decoder != "" {
		if err := m.Decode(d.recon, s.deter, s.stoch); err == nil {
			im.Recon = pngURL(rgbImage(nil, d.recon))
		} else {
			d.log.Warn("dashboard: decode failed", "err", err)
		}
		if s.havePred {
			if err := d.predict(s); err == nil {
				im.Pred = pngURL(rgbImage(nil, d.recon))
			} else {
				d.log.Warn("dashboard: prediction failed", "err", err)
			}
		}
	}
	d.imgMu.Lock()
	im.Count = d.images.Count + 1
	d.images = im
	d.imgMu.Unlock()
}

func (d *Dashboard) predict(s *snapshot) error {
	copy(d.roll.Deter, s.fromDeter)
	copy(d.roll.Stoch, s.fromStoch)
	A := d.arch.ActionDim
	for j := range d.conf.Horizon {
		var act []float32
		if A > 0 {
			act = s.predActs[j*A : (j+1)*A]
		}
		// Without noise the prior step leaves the prior mean (or mode) in the state.
		if err := d.conf.Model.PriorStep(&d.roll, act, d.rollOut, nil); err != nil {
			return err
		}
	}
	return d.conf.Model.Decode(d.recon, d.roll.Deter, d.roll.Stoch)
}

// rgbImage builds a 64x64 image from 8-bit HWC pixels or from decoder floats in [0,1].
func rgbImage(b []uint8, f []float32) *image.NRGBA {
	n := model.ImageSize
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for i := range n * n {
		p := img.Pix[4*i : 4*i+4]
		if b != nil {
			p[0], p[1], p[2] = b[3*i], b[3*i+1], b[3*i+2]
		} else {
			model.UnitImageBytes(p[:3], f[3*i:3*i+3])
		}
		p[3] = 255
	}
	return img
}

func pngURL(img image.Image) string {
	var buf bytes.Buffer
	buf.WriteString("data:image/png;base64,")
	var raw bytes.Buffer
	_ = png.Encode(&raw, img) // writing to memory cannot fail
	enc := base64.NewEncoder(base64.StdEncoding, &buf)
	_, _ = enc.Write(raw.Bytes())
	_ = enc.Close()
	return buf.String()
}

// num is a float64 that encodes NaN and ±Inf as null (JSON has no such numbers).
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', 6, 64), nil
}

// State is the /api/state document.
type State struct {
	Info    Info        `json:"info"`
	Time    time.Time   `json:"time"`
	Tick    uint64      `json:"tick"`
	Stats   StatsJSON   `json:"stats"`
	Last    Point       `json:"last"`
	Images  *imagesJSON `json:"images,omitempty"`
	Series  Series      `json:"series"`
	Dropped uint64      `json:"dropped_samples"`
	Horizon int         `json:"horizon"`
}

// StatsJSON are the loop counters the page shows.
type StatsJSON struct {
	Ticks          uint64 `json:"ticks"`
	Steps          uint64 `json:"steps"`
	NoFrame        uint64 `json:"no_frame"`
	StaleFrames    uint64 `json:"stale_frames"`
	DeadlineMisses uint64 `json:"deadline_misses"`
	SkippedTicks   uint64 `json:"skipped_ticks"`
	Resets         uint64 `json:"resets"`
	Anomalies      uint64 `json:"anomalous_ticks"`
	SourceFrames   uint64 `json:"source_frames"`
	SourceSkipped  uint64 `json:"source_skipped"`
}

// Point is the newest step's values.
type Point struct {
	Tick        uint64 `json:"tick"`
	Seq         uint64 `json:"seq"`
	MSE         num    `json:"mse"`
	PSNR        num    `json:"psnr"`
	KL          num    `json:"kl"`
	ELBO        num    `json:"elbo"`
	Reward      num    `json:"reward"`
	Z           num    `json:"z"`
	ZKL         num    `json:"z_kl"`
	LatencyMs   num    `json:"latency_ms"`
	Anomaly     bool   `json:"anomaly"`
	Why         string `json:"why"` // the signal that raised the anomaly flag, its z-score ("" when off)
	Disturbance string `json:"disturbance"`
}

type imagesJSON struct {
	images
	Disturbance string `json:"disturbance"`
}

// Series are the plotted histories, oldest first, one entry per step.
type Series struct {
	Tick []uint64 `json:"tick"`
	MSE  []num    `json:"mse"`
	PSNR []num    `json:"psnr"`
	KL   []num    `json:"kl"`
	ELBO []num    `json:"elbo"`
	// Reward is the VIPER reward, for action-free (VIPER) models only: the reward is what
	// they are run for; the page plots it when present.
	Reward    []num `json:"reward,omitempty"`
	LatencyMs []num `json:"latency_ms"`
	StepMs    []num `json:"step_ms"`
	Anomaly   []int `json:"anomaly"` // 0/1 ([]uint8 would encode as base64)
	Mark      []int `json:"mark"`
}

func (d *Dashboard) kindName(k uint8) string {
	if k == 0 {
		return ""
	}
	if d.conf.DisturbanceName != nil {
		return d.conf.DisturbanceName(k)
	}
	return "disturbance"
}

// Snapshot returns the current /api/state document; n > 0 limits the series to the newest
// n steps.
func (d *Dashboard) Snapshot(n int) *State {
	st := &State{Info: d.conf.Info, Time: time.Now(), Horizon: d.conf.Horizon}
	d.mu.Lock()
	s := d.stats
	last := d.last
	st.Dropped = d.dropped
	total := d.seriesN
	have := min(total, uint64(len(d.series)))
	if n > 0 && uint64(n) < have {
		have = uint64(n)
	}
	samples := make([]sample, have)
	for i := range have {
		samples[i] = d.series[(total-have+i)%uint64(len(d.series))]
	}
	d.mu.Unlock()

	st.Tick = s.Ticks
	st.Stats = StatsJSON{Ticks: s.Ticks, Steps: s.Steps, NoFrame: s.NoFrame, StaleFrames: s.StaleFrames,
		DeadlineMisses: s.DeadlineMisses, SkippedTicks: s.SkippedTicks, Resets: s.Resets,
		Anomalies: s.Anomalies, SourceFrames: s.Source.Frames, SourceSkipped: s.Source.Skipped}
	st.Last = point(last)
	st.Last.Why = why(last, d.conf.ZThreshold)
	st.Last.Disturbance = d.kindName(last.Mark)
	se := &st.Series
	for _, p := range samples {
		se.Tick = append(se.Tick, p.Tick)
		se.MSE = append(se.MSE, num(p.MSE))
		se.PSNR = append(se.PSNR, num(p.PSNR))
		se.KL = append(se.KL, num(p.KL))
		se.ELBO = append(se.ELBO, num(p.ELBO))
		if d.arch.ActionDim == 0 {
			se.Reward = append(se.Reward, num(p.Reward))
		}
		se.LatencyMs = append(se.LatencyMs, num(ms(p.Latency)))
		se.StepMs = append(se.StepMs, num(ms(p.Step)))
		se.Anomaly = append(se.Anomaly, b2i(p.Anomaly))
		se.Mark = append(se.Mark, int(p.Mark))
	}
	d.imgMu.RLock()
	im := d.images
	d.imgMu.RUnlock()
	if im.Count > 0 {
		st.Images = &imagesJSON{images: im, Disturbance: d.kindName(im.Mark)}
	}
	return st
}

func point(p sample) Point {
	return Point{Tick: p.Tick, Seq: p.Seq, MSE: num(p.MSE), PSNR: num(p.PSNR), KL: num(p.KL), ELBO: num(p.ELBO),
		Reward: num(p.Reward), Z: num(p.Z), ZKL: num(p.ZKL), LatencyMs: num(ms(p.Latency)), Anomaly: p.Anomaly}
}

// why says which signal holds the anomaly flag: the monitor raises it when the prediction
// error's or the KL's z-score stays above its threshold, so the signals above it now are the
// cause (the larger z when neither is, e.g. on the tick the band recovers).
func why(p sample, thr float64) string {
	if !p.Anomaly {
		return ""
	}
	type signal struct {
		name string
		z    float64
	}
	sigs := []signal{{"prediction error", p.Z}, {"KL", p.ZKL}}
	var out []string
	for _, s := range sigs {
		if s.z > thr {
			out = append(out, fmt.Sprintf("%s z=%+.1f", s.name, s.z))
		}
	}
	if len(out) == 0 {
		s := sigs[0]
		if !(s.z >= sigs[1].z) {
			s = sigs[1]
		}
		out = append(out, fmt.Sprintf("%s z=%+.1f", s.name, s.z))
	}
	return strings.Join(out, ", ") + fmt.Sprintf(" (threshold %g)", thr)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (d *Dashboard) serveState(w http.ResponseWriter, r *http.Request) {
	n := 0
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			http.Error(w, "n: want a non-negative integer", http.StatusBadRequest)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(d.Snapshot(n)); err != nil {
		d.log.Debug("dashboard: write state", "err", err)
	}
}

var _ tick.Sink = (*Dashboard)(nil)
