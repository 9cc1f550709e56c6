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
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/metrics"
	"github.com/rssmd/rssmd/runtime/monitor"
	"github.com/rssmd/rssmd/runtime/record"
	"github.com/rssmd/rssmd/runtime/tick"
)

// Duration is a time.Duration written as "2s", "150ms" in config files.
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Config is a run's configuration, from flags or a YAML/JSON file (field names as tagged).
type Config struct {
	// Model is an original model folder, a .pt inside one, or a bundle (required).
	Model string `yaml:"model" json:"model"`
	// Int8 asks for the int8 path; an int8 bundle (rssmd calibrate --out) runs int8 anyway.
	Int8 bool `yaml:"int8" json:"int8"`
	// Source is "v4l2:/dev/videoN" or "replay:FILE.npz" (required unless Deps.Source is set).
	Source string `yaml:"source" json:"source"`
	// Camera mode for v4l2 sources: format (YUYV, UYVY, MJPEG), size, rate (defaults: YUYV
	// 640x480, the driver's rate).
	Format string  `yaml:"format" json:"format"`
	Width  int     `yaml:"width" json:"width"`
	Height int     `yaml:"height" json:"height"`
	FPS    float64 `yaml:"fps" json:"fps"`
	// Crop: "full" (default) or "center" (the largest centred square).
	Crop string `yaml:"crop" json:"crop"`
	// Filter: "bilinear" (default) or "area".
	Filter string `yaml:"filter" json:"filter"`
	// ReplayRate is the replay's frame rate (default: the tick rate); Loop restarts it.
	ReplayRate float64 `yaml:"replay_rate" json:"replay_rate"`
	Loop       bool    `yaml:"loop" json:"loop"`
	// Rate is the tick rate in Hz (default 50).
	Rate float64 `yaml:"rate" json:"rate"`
	// Duration of the run; 0 runs until stopped (or the replay ends).
	Duration Duration `yaml:"duration" json:"duration"`
	// MetricsAddr serves /metrics (default 127.0.0.1:9108); "off" disables.
	MetricsAddr string `yaml:"metrics_addr" json:"metrics_addr"`
	// Record writes a tick log to this file; RecordFrames keeps the frames in it.
	Record       string `yaml:"record" json:"record"`
	RecordFrames bool   `yaml:"record_frames" json:"record_frames"`
	// DecodeEvery: the monitor decodes its prediction every n-th step (default 1; 0 never).
	DecodeEvery *int `yaml:"decode_every" json:"decode_every"`
	// ELBO computes the per-step ELBO on decode steps; Horizon is the open-loop horizon k.
	ELBO    bool `yaml:"elbo" json:"elbo"`
	Horizon int  `yaml:"horizon" json:"horizon"`
	// ActionPolicy: "hold" (default) or "zeros"; ActionMaxAge, MaxFrameAge as in tick.Config.
	ActionPolicy string   `yaml:"action_policy" json:"action_policy"`
	ActionMaxAge Duration `yaml:"action_max_age" json:"action_max_age"`
	MaxFrameAge  Duration `yaml:"max_frame_age" json:"max_frame_age"`
	// RealtimePriority 1..99 raises the control thread to SCHED_FIFO (0 off).
	RealtimePriority int `yaml:"realtime_priority" json:"realtime_priority"`
}

// LoadConfig reads a YAML or JSON config file (by extension; YAML otherwise). Unknown fields
// are errors, so a typo does not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	var c Config
	data, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&c)
	} else {
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		err = dec.Decode(&c)
	}
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Deps are parts a caller supplies instead of the ones Config describes (the ROS node).
type Deps struct {
	// Source replaces Config.Source (e.g. a ROS image subscriber).
	Source tick.Source
	// Actions is the action input (e.g. fed by a ROS topic); replay sources use their
	// recorded pre_action when this is nil.
	Actions tick.ActionInput
	// Sinks receive every tick after metrics and recorder.
	Sinks []tick.Sink
	// Model replaces loading Config.Model.
	Model model.Stepper
	// Clock defaults to the real clock.
	Clock tick.Clock
}

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("invalid run config")

// Pipeline is one configured run.
type Pipeline struct {
	conf     Config
	log      *slog.Logger
	stepper  model.Stepper
	source   tick.Source
	closeSrc func() error
	replay   *capture.Replay
	loop     *tick.Loop
	mon      *monitor.Monitor
	met      *metrics.Metrics
	rec      *record.Writer
	quality  *qualitySink
}

// New loads the model, opens the source and builds the loop, monitor, metrics and recorder.
// The metrics server starts listening here so callers can learn its address before Run.
func New(conf Config, deps Deps, log *slog.Logger) (p *Pipeline, err error) {
	if log == nil {
		log = slog.Default()
	}
	if conf.Rate == 0 {
		conf.Rate = 50
	}
	if conf.Duration < 0 {
		return nil, fmt.Errorf("%w: duration %v is negative", ErrConfig, time.Duration(conf.Duration))
	}
	policy, err := tick.ParseActionPolicy(conf.ActionPolicy)
	if err != nil {
		return nil, fmt.Errorf("%w: action_policy: %w", ErrConfig, err)
	}
	decodeEvery := 1
	if conf.DecodeEvery != nil {
		decodeEvery = *conf.DecodeEvery
		if decodeEvery < 0 {
			return nil, fmt.Errorf("%w: decode_every %d, want ≥ 0 (0 = never)", ErrConfig, decodeEvery)
		}
		if decodeEvery == 0 {
			decodeEvery = -1
		}
	}
	var filter frame.Filter
	switch conf.Filter {
	case "", "bilinear":
	case "area":
		filter = frame.Area
	default:
		return nil, fmt.Errorf("%w: filter %q (want bilinear or area)", ErrConfig, conf.Filter)
	}
	if conf.Crop != "" && conf.Crop != "full" && conf.Crop != "center" {
		return nil, fmt.Errorf("%w: crop %q (want full or center)", ErrConfig, conf.Crop)
	}

	p = &Pipeline{conf: conf, log: log}
	// Undo whatever was started if a later part fails.
	defer func() {
		if err != nil {
			p.closeAll()
			p = nil
		}
	}()

	p.stepper = deps.Model
	modelName := conf.Model
	kind := "float32"
	if p.stepper == nil {
		if conf.Model == "" {
			return p, fmt.Errorf("%w: model is required", ErrConfig)
		}
		om, err := OpenModel(conf.Model, conf.Int8)
		if err != nil {
			return p, err
		}
		p.stepper = om.Stepper
		if om.Kind == "int8" {
			kind = "int8 (" + om.Kernel + ")"
		}
		log.Info("model loaded", "model", conf.Model, "kind", kind)
	}
	arch := p.stepper.Arch()

	crop := frame.Rect{}
	p.source = deps.Source
	if p.source == nil {
		if err := p.openSource(); err != nil {
			return p, err
		}
	}
	if conf.Crop == "center" {
		// The frame size is known for V4L2 up front; for replay frames are 64x64 already.
		if cam, ok := p.source.(*capture.Camera); ok {
			c := cam.Config()
			crop = frame.CenterSquare(c.Width, c.Height)
		}
	}
	if p.replay != nil && p.replay.Sequence().A != arch.ActionDim && deps.Actions == nil {
		return p, fmt.Errorf("%w: replay has %d action columns, the model takes %d", ErrConfig, p.replay.Sequence().A, arch.ActionDim)
	}

	mon, err := monitor.New(monitor.Config{Model: p.stepper, DecodeEvery: decodeEvery, ELBO: conf.ELBO, Horizon: conf.Horizon})
	if err != nil {
		return p, err
	}
	p.mon = mon

	var sinks []tick.Sink
	if conf.Record != "" {
		p.rec, err = record.Create(record.Config{Path: conf.Record, Frames: conf.RecordFrames, Log: log},
			record.Header{Model: modelName, Kind: kind, Deter: arch.Deter, Stoch: arch.Stoch,
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
			Info: metrics.Info{Model: modelName, Kind: kind, Deter: arch.Deter, Stoch: arch.Stoch, ActionDim: arch.ActionDim}}
		if p.rec != nil {
			mc.Recorder = p.rec.Stats
		}
		if p.met, err = metrics.New(mc); err != nil {
			return p, err
		}
		sinks = append(sinks, p.met)
	}
	if p.rec != nil {
		sinks = append(sinks, p.rec)
	}
	p.quality = &qualitySink{}
	sinks = append(sinks, p.quality)
	sinks = append(sinks, deps.Sinks...)
	loop, err = tick.New(tick.Config{
		Rate: conf.Rate, Model: p.stepper, Source: p.source, Actions: deps.Actions,
		FrameActions: deps.Actions == nil, ActionPolicy: policy,
		ActionMaxAge: time.Duration(conf.ActionMaxAge), MaxFrameAge: time.Duration(conf.MaxFrameAge),
		Crop: crop, Filter: filter, Monitor: mon, Sinks: sinks, Clock: deps.Clock,
		Log: log.With("component", "tick"), RealtimePriority: conf.RealtimePriority,
	})
	if err != nil {
		return p, err
	}
	p.loop = loop
	if p.met != nil {
		if err := p.met.Start(); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (p *Pipeline) openSource() error {
	kind, arg, ok := strings.Cut(p.conf.Source, ":")
	if !ok || arg == "" {
		return fmt.Errorf("%w: source %q (want v4l2:/dev/videoN or replay:FILE.npz)", ErrConfig, p.conf.Source)
	}
	switch kind {
	case "replay":
		rate := p.conf.ReplayRate
		if rate == 0 {
			rate = p.conf.Rate
		}
		r, err := capture.NewReplay(capture.ReplayConfig{Path: arg, Rate: rate, Loop: p.conf.Loop})
		if err != nil {
			return err
		}
		p.replay, p.source, p.closeSrc = r, r, r.Close
	case "v4l2":
		c := capture.V4L2Config{Device: arg, Width: p.conf.Width, Height: p.conf.Height, FPS: p.conf.FPS,
			Logger: p.log.With("component", "capture")}
		if p.conf.Format != "" {
			f, err := frame.ParsePixelFormat(p.conf.Format)
			if err != nil {
				return fmt.Errorf("%w: format: %w", ErrConfig, err)
			}
			c.Format = f
		}
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
}

// Run ticks until ctx ends, Duration passes or a non-looping replay ends, then shuts down
// in reverse order of start-up (source, recorder with fsync, metrics) and returns the summary.
func (p *Pipeline) Run(ctx context.Context) (Summary, error) {
	if d := time.Duration(p.conf.Duration); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	q := p.quality
	if p.replay != nil && !p.conf.Loop {
		go func() {
			// A finished replay ends the run a few periods later, after its last frame is used.
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if s := p.replay.Stats(); s.Frames == uint64(p.replay.Sequence().T) {
						time.Sleep(3 * p.loop.Period())
						cancel()
						return
					}
				}
			}
		}()
	}
	start := time.Now()
	p.log.Info("running", "model", p.conf.Model, "source", p.conf.Source, "rate", p.conf.Rate, "metrics", p.MetricsAddr())
	err := p.loop.Run(ctx)
	s := Summary{Summary: p.loop.Summary(), Wall: time.Since(start)}
	if q.n > 0 {
		s.MeanMSE, s.MeanPSNR = q.mse/float64(q.n), q.psnr/float64(q.n)
	}
	if q.steps > 0 {
		s.MeanKL = q.kl / float64(q.steps)
	}
	s.Decoded = q.n
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
