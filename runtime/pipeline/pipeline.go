// Package pipeline wires one rssmd run together: frame source → preprocessing and posterior
// step (runtime/tick) → prediction-quality monitor → metrics, recorder and log, with a bounded
// shutdown in reverse order of start-up. `rssmd run` and tests call it; the ROS node plugs its
// own frame source, action input and sinks in through Deps.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/metrics"
	"github.com/rssmd/rssmd/runtime/monitor"
	"github.com/rssmd/rssmd/runtime/record"
	"github.com/rssmd/rssmd/runtime/tick"
)

// Config is a run's configuration. Every field is one row of Options (options.go), which
// documents it and gives its default; build one with Defaults or Resolve.
type Config struct {
	Model        string
	Int8         bool
	Source       string
	Format       string
	Width        int
	Height       int
	FPS          float64
	Crop         string
	Filter       string
	Prepare      string
	ReplayRate   float64
	Loop         bool
	Rate         float64
	Duration     time.Duration
	MetricsAddr  string
	Record       string
	RecordFrames bool
	DecodeEvery  int
	ELBO         bool
	Horizon      int
	ActionPolicy string
	ActionMaxAge time.Duration
	MaxFrameAge  time.Duration
	// RealtimePriority is rt_priority.
	RealtimePriority int
	// The ROS nodes' settings.
	FrameID           string
	Predict           bool
	Reconstruction    bool
	MaxHorizon        int
	DiagnosticsPeriod time.Duration
}

// Source kinds: v4l2:DEVICE, replay:FILE.npz, or ros (the ROS node's image topics).
const SourceROS = "ros"

// Config.Prepare values: where a live source's frames are preprocessed.
const (
	PrepareArrival = "arrival" // on their own goroutine as they arrive (capture.Prepared)
	PrepareTick    = "tick"    // inside the tick, before the step
)

// Validate checks every setting; errors quote the key.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrConfig, key, fmt.Sprintf(format, args...))
	}
	switch {
	case !(c.Rate > 0 && c.Rate <= 10000):
		return bad("rate", "%v Hz, want > 0 (at most 10000)", c.Rate)
	case c.Duration < 0:
		return bad("duration", "%v is negative", c.Duration)
	case c.DecodeEvery < 0:
		return bad("decode_every", "%d, want ≥ 0 (0 = never)", c.DecodeEvery)
	case c.Horizon < 1 || c.Horizon > 1000:
		return bad("horizon", "%d, want 1..1000", c.Horizon)
	case c.Filter != "bilinear" && c.Filter != "area":
		return bad("filter", "%q, want bilinear or area", c.Filter)
	case c.Prepare != PrepareArrival && c.Prepare != PrepareTick:
		return bad("prepare", "%q, want %s or %s", c.Prepare, PrepareArrival, PrepareTick)
	case c.Crop != "full" && c.Crop != "center":
		return bad("crop", "%q, want full or center", c.Crop)
	case c.RealtimePriority < 0 || c.RealtimePriority > 99:
		return bad("rt_priority", "%d, want 0..99", c.RealtimePriority)
	case c.MaxHorizon < 1 || c.MaxHorizon > 10000:
		return bad("max_horizon", "%d, want 1..10000", c.MaxHorizon)
	case c.DiagnosticsPeriod <= 0:
		return bad("diagnostics_period", "%v, want > 0", c.DiagnosticsPeriod)
	case c.ReplayRate < 0:
		return bad("replay_rate", "%v, want ≥ 0", c.ReplayRate)
	case c.Width < 0 || c.Height < 0 || c.FPS < 0:
		return bad("width/height/fps", "%dx%d at %v fps: negative", c.Width, c.Height, c.FPS)
	}
	if _, err := tick.ParseActionPolicy(c.ActionPolicy); err != nil {
		return bad("action_policy", "%v", err)
	}
	if _, err := frame.ParsePixelFormat(c.Format); err != nil {
		return bad("format", "%v", err)
	}
	if c.Source != "" && c.Source != SourceROS {
		kind, arg, ok := strings.Cut(c.Source, ":")
		if !ok || arg == "" || (kind != "v4l2" && kind != "replay") {
			return bad("source", "%q, want v4l2:/dev/videoN, replay:FILE.npz or ros", c.Source)
		}
	}
	return nil
}

// LoadConfig reads a YAML or JSON config file (by extension; YAML otherwise) over the
// defaults. Unknown keys are errors, so a typo does not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	l, err := LoadConfigLayer(path)
	if err != nil {
		return Config{}, err
	}
	r, err := Resolve(l)
	return r.Config, err
}

// LoadConfigLayer reads a config file as a settings layer for Resolve.
func LoadConfigLayer(path string) (Layer, error) {
	l := Layer{Name: "config file " + path, Values: map[string]any{}}
	data, err := os.ReadFile(path)
	if err != nil {
		return l, fmt.Errorf("config: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		err = json.Unmarshal(data, &l.Values)
	} else {
		err = yaml.Unmarshal(data, &l.Values)
	}
	if err != nil {
		return l, fmt.Errorf("config %s: %w", path, err)
	}
	for k, v := range l.Values {
		if _, nested := v.(map[string]any); nested {
			return l, fmt.Errorf("%w: config %s: %q is a section; settings are top-level keys", ErrConfig, path, k)
		}
	}
	return l, nil
}

// Deps are the parts a caller supplies instead of the ones Config describes: the ROS nodes
// (frame source, action input, sinks, clock) and the demo (sim camera, dashboard).
type Deps struct {
	// Model replaces opening Config.Model (the caller opened it, e.g. to size its messages).
	Model *Opened
	// Source replaces Config.Source (a ROS image subscriber, the sim camera).
	Source tick.Source
	// SourceName names Source in logs ("ros /rssmd/image", "sim").
	SourceName string
	// Preprocess, when set, gives the crop and filter for Source's frames.
	Preprocess *frame.Config
	// Actions is the action input (e.g. fed by a ROS topic); replay sources use their
	// recorded pre_action when this is nil.
	Actions tick.ActionInput
	// Sinks receive every tick after metrics and recorder.
	Sinks []tick.Sink
	// Clock defaults to the real clock.
	Clock tick.Clock
	// ServeMetrics false with metrics on builds the registry without a listener: the caller
	// serves Metrics().Handler() itself (the demo's dashboard).
	NoMetricsListener bool
}

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("invalid run config")

// Pipeline is one configured run.
type Pipeline struct {
	conf     Config
	log      *slog.Logger
	model    *Opened
	source   tick.Source
	closeSrc func() error
	// prepared preprocesses a live source's frames on arrival (Config.Prepare); its goroutine
	// runs from Run until the source closes.
	prepared   *capture.Prepared
	prepCancel context.CancelFunc // set once its goroutine runs
	replay     *capture.Replay
	loop       *tick.Loop
	mon        *monitor.Monitor
	met        *metrics.Metrics
	rec        *record.Writer
	quality    *qualitySink
	// sourceName is what the logs call the frame source.
	sourceName string
}

// New is the one place a run is wired: it validates conf, loads the model (unless
// deps.Model), opens the source (unless deps.Source) and builds the loop, monitor, metrics
// and recorder. The metrics server starts listening here so callers can learn its address
// before Run. A Pipeline that is not Run must be Closed.
func New(conf Config, deps Deps, log *slog.Logger) (p *Pipeline, err error) {
	if log == nil {
		log = slog.Default()
	}
	if err := conf.Validate(); err != nil {
		return nil, err
	}
	policy, _ := tick.ParseActionPolicy(conf.ActionPolicy) // checked by Validate
	decodeEvery := conf.DecodeEvery
	if decodeEvery == 0 {
		decodeEvery = -1 // the monitor's "never"
	}
	filter := frame.Bilinear
	if conf.Filter == "area" {
		filter = frame.Area
	}

	p = &Pipeline{conf: conf, log: log, sourceName: conf.Source}
	if deps.Source != nil && deps.SourceName != "" {
		p.sourceName = deps.SourceName
	}
	if deps.Source == nil {
		// Before the model loads (seconds for the large variants): a wrong source or an
		// unwritable recording is reported at once.
		if err := CheckSource(conf); err != nil {
			return nil, err
		}
	}
	if err := checkRecord(conf.Record); err != nil {
		return nil, err
	}
	// Undo whatever was started if a later part fails.
	defer func() {
		if err != nil {
			p.closeAll()
			p = nil
		}
	}()

	p.model = deps.Model
	if p.model == nil {
		if conf.Model == "" {
			return p, fmt.Errorf("%w: model is required", ErrConfig)
		}
		if p.model, err = OpenModel(conf.Model, conf.Int8); err != nil {
			return p, err
		}
		log.Info("model loaded", "model", p.model.Path, "kind", p.model.Kind, "kernel", p.model.Kernel)
	}
	stepper, arch := p.model.Stepper, p.model.Arch
	if conf.ELBO || p.model.Arch.ActionDim == 0 {
		// The per-step ELBO is what an action-free (VIPER) model is run for.
		conf.ELBO = true
		p.conf.ELBO = true
	}

	crop := frame.Rect{}
	var cropFor func(w, h int) frame.Rect
	p.source = deps.Source
	if p.source == nil {
		if err := p.openSource(); err != nil {
			return p, err
		}
	}
	_, replay := p.source.(*capture.Replay) // lockstep, frames 64x64 already, pre-actions per frame
	if w, live := p.source.(capture.Waiter); live && !replay && deps.Preprocess == nil && conf.Prepare == PrepareArrival {
		// The tick then gets 64x64 RGB frames: nothing left to crop or resample there.
		pc := capture.PrepareConfig{Filter: filter, Log: log.With("component", "prepare")}
		if conf.Crop == "center" {
			pc.Crop = frame.CenterSquare
		}
		p.prepared = capture.NewPrepared(w, pc)
		p.source = p.prepared
		log.Info("frames are preprocessed on arrival", "source", p.sourceName, "crop", conf.Crop, "filter", conf.Filter)
	} else if deps.Preprocess != nil {
		crop, filter = deps.Preprocess.Crop, deps.Preprocess.Filter
	} else if conf.Crop == "center" {
		// Per frame size: a camera may come back in another mode, a ROS topic may change.
		cropFor = frame.CenterSquare
	}
	if p.replay != nil && arch.ActionDim == 0 && p.replay.Sequence().A > 0 {
		log.Info("the model is action-free: ignoring the replay's pre_action", "columns", p.replay.Sequence().A)
	} else if p.replay != nil && p.replay.Sequence().A != arch.ActionDim && deps.Actions == nil {
		return p, fmt.Errorf("%w: replay has %d action columns, the model takes %d", ErrConfig, p.replay.Sequence().A, arch.ActionDim)
	}

	mon, err := monitor.New(monitor.Config{Model: stepper, DecodeEvery: decodeEvery, ELBO: conf.ELBO, Horizon: conf.Horizon})
	if err != nil {
		return p, err
	}
	p.mon = mon

	var sinks []tick.Sink
	if conf.Record != "" {
		p.rec, err = record.Create(record.Config{Path: conf.Record, Frames: conf.RecordFrames, Log: log},
			record.Header{Model: p.model.Path, Kind: p.model.Label(), Deter: arch.Deter, Stoch: arch.Stoch,
				ActionDim: arch.ActionDim, Rate: conf.Rate, StartNs: time.Now().UnixNano()})
		if err != nil {
			return p, err
		}
	}

	// Metrics read the loop's counters, and the loop needs its sinks: the closure reads the
	// loop once it exists.
	var loop *tick.Loop
	stats := func() tick.Stats {
		if loop == nil {
			return tick.Stats{}
		}
		return loop.Stats()
	}
	if conf.MetricsAddr != "off" {
		mc := metrics.Config{Addr: conf.MetricsAddr, Stats: stats,
			Info: metrics.Info{Model: p.model.Path, Kind: p.model.Kind, Kernel: p.model.Kernel,
				Deter: arch.Deter, Stoch: arch.Stoch, ActionDim: arch.ActionDim}}
		if p.rec != nil {
			mc.Recorder = p.rec.Stats
		}
		if p.met, err = metrics.New(mc); err != nil {
			return p, err
		}
		if p.prepared != nil {
			p.prepared.SetObserver(p.met.ObservePrepare)
		}
		sinks = append(sinks, p.met)
	}
	if p.rec != nil {
		sinks = append(sinks, p.rec)
	}
	maxFrameAge := conf.MaxFrameAge
	if p.replay != nil && conf.ReplayRate == 0 && p.replay.Sequence().Stamps != nil {
		// Frames stamped by their recording are as old as the recording: not stale.
		maxFrameAge = math.MaxInt64
	}
	p.quality = &qualitySink{}
	sinks = append(sinks, p.quality)
	sinks = append(sinks, deps.Sinks...)
	loop, err = tick.New(tick.Config{
		Rate: conf.Rate, Model: stepper, Source: p.source, Actions: deps.Actions,
		FrameActions: deps.Actions == nil, ActionPolicy: policy,
		ActionMaxAge: conf.ActionMaxAge, MaxFrameAge: maxFrameAge,
		Crop: crop, CropFor: cropFor, Filter: filter, Monitor: mon, Sinks: sinks, Clock: deps.Clock,
		Log: log.With("component", "tick"), RealtimePriority: conf.RealtimePriority,
	})
	if err != nil {
		return p, err
	}
	p.loop = loop
	if p.met != nil && !deps.NoMetricsListener {
		if err := p.met.Start(); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Model is the opened model the run steps.
func (p *Pipeline) Model() *Opened { return p.model }

// CheckSource checks conf.Source without opening it: the form, a replay file that exists
// and a V4L2 device node that is a character device. `ros` is only valid as a ROS node,
// whose image topics are the source (Deps.Source).
func CheckSource(conf Config) error {
	if conf.Source == SourceROS {
		return fmt.Errorf("%w: source ros: frames come from the ROS node's image topics; add --ros (ROS 1) or --ros2 (ROS 2), or use v4l2:/dev/videoN or replay:FILE.npz", ErrConfig)
	}
	kind, arg, ok := strings.Cut(conf.Source, ":")
	if !ok || arg == "" || (kind != "v4l2" && kind != "replay") {
		return fmt.Errorf("%w: source %q: want v4l2:/dev/videoN, replay:FILE.npz, or ros as a ROS node (--ros, --ros2)", ErrConfig, conf.Source)
	}
	fi, err := os.Stat(arg)
	if err != nil {
		return fmt.Errorf("%w: source %s: %w", ErrConfig, conf.Source, err)
	}
	switch {
	case kind == "replay" && fi.IsDir():
		return fmt.Errorf("%w: source %s is a folder; replay takes one .npz sequence", ErrConfig, conf.Source)
	case kind == "v4l2" && fi.Mode()&os.ModeCharDevice == 0:
		return fmt.Errorf("%w: source %s: %s is not a device node (want a V4L2 capture device such as /dev/video0; `rssmd devices` lists them)", ErrConfig, conf.Source, arg)
	case kind == "v4l2":
		if yes, known := isV4L2Node(fi); known && !yes {
			return fmt.Errorf("%w: source %s: %s is not a V4L2 device (want a capture device such as /dev/video0; `rssmd devices` lists them)", ErrConfig, conf.Source, arg)
		}
	}
	return nil
}

// checkRecord fails when the recording's folder is missing.
func checkRecord(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%w: record %s: folder %s does not exist", ErrConfig, path, dir)
	}
	return nil
}

func (p *Pipeline) openSource() error {
	kind, arg, ok := strings.Cut(p.conf.Source, ":")
	if !ok || arg == "" {
		if p.conf.Source == SourceROS {
			return fmt.Errorf("%w: source ros: frames come from the ROS node's image topics; run with --ros or --ros2", ErrConfig)
		}
		return fmt.Errorf("%w: source %q (want v4l2:/dev/videoN, replay:FILE.npz, or ros as a ROS node)", ErrConfig, p.conf.Source)
	}
	switch kind {
	case "replay":
		// Unset replay_rate is lockstep: one frame per tick, none skipped or repeated, so a
		// run gives exactly what `rssmd filter` gives on the file. A rate plays the file
		// like a camera, free of the tick.
		rc := capture.ReplayConfig{Path: arg, Rate: p.conf.ReplayRate, Loop: p.conf.Loop}
		if rc.Rate == 0 {
			rc.Lockstep, rc.Period = true, time.Duration(float64(time.Second)/p.conf.Rate)
		}
		r, err := capture.NewReplay(rc)
		if err != nil {
			return err
		}
		p.replay, p.source, p.closeSrc = r, r, r.Close
	case "v4l2":
		c := capture.V4L2Config{Device: arg, Width: p.conf.Width, Height: p.conf.Height, FPS: p.conf.FPS,
			Logger: p.log.With("component", "capture")}
		f, err := frame.ParsePixelFormat(p.conf.Format)
		if err != nil {
			return fmt.Errorf("%w: format: %w", ErrConfig, err)
		}
		c.Format = f
		cam, err := capture.NewV4L2(c)
		if err != nil {
			return err
		}
		p.source, p.closeSrc = cam, cam.Close
	default:
		return fmt.Errorf("%w: source kind %q (want v4l2 or replay)", ErrConfig, kind)
	}
	return nil
}

// MetricsAddr is the address metrics are served on ("" when off).
func (p *Pipeline) MetricsAddr() string {
	if p.met == nil {
		return ""
	}
	return p.met.Addr()
}

// Loop returns the tick loop (its counters are live while Run runs).
func (p *Pipeline) Loop() *tick.Loop { return p.loop }

// Metrics returns the run's metrics (nil with metrics_addr "off"), so other components (the
// ROS node) can register their collectors on its private registry.
func (p *Pipeline) Metrics() *metrics.Metrics { return p.met }

// Summary is what a run reports at the end.
type Summary struct {
	tick.Summary
	Wall            time.Duration
	RecordWritten   uint64
	RecordDropped   uint64
	MeanMSE, MeanKL float64
	MeanPSNR        float64
	Decoded         uint64
	// ImageDecodes and ImageDecodesShared count the images the loop and the nodes decoded
	// and those one of them took from another (Opened.ShareDecodes; both 0 without it).
	ImageDecodes, ImageDecodesShared uint64
}

// Run ticks until ctx ends, Duration passes or a non-looping replay ends, then shuts down
// in reverse order of start-up (source, recorder with fsync, metrics) and returns the summary.
func (p *Pipeline) Run(ctx context.Context) (Summary, error) {
	if d := p.conf.Duration; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	q := p.quality
	if p.replay != nil && !p.conf.Loop {
		go func() {
			select {
			case <-ctx.Done():
				return
			case <-p.replay.Done():
			}
			// Lockstep: Done closes when the tick takes the last frame, and the loop finishes
			// that tick before it sees the cancellation, so the last frame is stepped and
			// nothing after it. At a replay rate the last frame was only published: give the
			// loop a few periods to take it.
			if p.conf.ReplayRate > 0 {
				t := time.NewTimer(3 * p.loop.Period())
				defer t.Stop()
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
			cancel()
		}()
	}
	if p.prepared != nil {
		var pctx context.Context
		pctx, p.prepCancel = context.WithCancel(ctx)
		go func() {
			if err := p.prepared.Run(pctx); err != nil {
				p.log.Error("preprocessing on arrival stopped; the tick sees a silent source", "err", err)
			}
		}()
	}
	start := time.Now()
	p.log.Info("running", "model", p.conf.Model, "source", p.sourceName, "rate", p.conf.Rate, "metrics", p.MetricsAddr())
	err := p.loop.Run(ctx)
	s := Summary{Summary: p.loop.Summary(), Wall: time.Since(start)}
	if q.n > 0 {
		s.MeanMSE, s.MeanPSNR = q.mse/float64(q.n), q.psnr/float64(q.n)
	}
	if q.steps > 0 {
		s.MeanKL = q.kl / float64(q.steps)
	}
	s.Decoded = q.n
	if m := p.model.DecodeMemo(); m != nil {
		s.ImageDecodes, s.ImageDecodesShared = m.Stats()
	}
	if cerr := p.closeAll(); err == nil {
		err = cerr
	}
	if p.rec != nil {
		s.RecordWritten, s.RecordDropped = p.rec.Stats()
	}
	return s, err
}

// closeAll stops everything that was started, in reverse order, each part bounded.
func (p *Pipeline) closeAll() error {
	var errs []error
	if p.closeSrc != nil {
		errs = append(errs, p.closeSrc())
		p.closeSrc = nil
	}
	if p.prepCancel != nil {
		// A source the caller owns (ROS) stays open: the context stops the goroutine.
		p.prepCancel()
		select {
		case <-p.prepared.Done():
		case <-time.After(2 * time.Second):
			errs = append(errs, errors.New("preprocessing goroutine did not stop within 2 s"))
		}
		p.prepCancel = nil
	}
	if p.rec != nil {
		errs = append(errs, p.rec.Close())
	}
	if p.met != nil {
		errs = append(errs, p.met.Close())
	}
	return errors.Join(errs...)
}

// Close releases everything without running (after New, when Run is not called).
func (p *Pipeline) Close() error { return p.closeAll() }

// qualitySink accumulates the run's mean prediction quality for the summary.
type qualitySink struct {
	n, steps      uint64
	mse, psnr, kl float64
}

func (q *qualitySink) OnTick(r *tick.Result) {
	q.steps++
	q.kl += r.Quality.KL
	if r.Quality.Decoded {
		q.n++
		q.mse += r.Quality.MSE
		q.psnr += r.Quality.PSNR
	}
}
