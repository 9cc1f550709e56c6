// Package tick owns the fixed-rate control loop of rssmd: each period it takes the freshest
// frame and the newest action, preprocesses the frame to 64x64, runs one posterior step of the
// world model, lets the monitor analyse it and hands the result to sinks — without allocating,
// without ever building a backlog, and counting every missed deadline, stale frame and bad
// action.
package tick

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
)

// Source is what the loop needs from a frame source: the newest frame without blocking, and
// counters. capture.Source (V4L2, replay) satisfies it, and so will the ROS image subscriber.
// The frame's Data must stay valid until the next Latest call.
type Source interface {
	Latest() (capture.Frame, bool)
	Stats() capture.Stats
}

// Sink receives every tick's result on the control goroutine. It must return quickly and
// must not keep r or any slice in it after returning (copy what it needs).
type Sink interface {
	OnTick(r *Result)
}

// Analyzer runs on the control goroutine between the step and the sinks and may use the
// model (the monitor); it fills r.Quality. Its time is the "monitor" stage.
type Analyzer interface {
	Analyze(r *Result)
}

// Stage indexes Result.Stages.
type Stage int

const (
	StagePreprocess Stage = iota // frame → 64x64 RGB
	StageStep                    // posterior step
	StageMonitor                 // Analyzer
	StagePublish                 // sinks of the previous tick
	StageTotal                   // tick start → result ready for sinks
	NumStages
)

var stageNames = [NumStages]string{"preprocess", "step", "monitor", "publish", "total"}

func (s Stage) String() string { return stageNames[s] }

// Quality is the monitor's view of one tick (zero when no monitor runs).
type Quality struct {
	// Decoded is true when the prediction was decoded this tick (see monitor's DecodeEvery);
	// MSE and PSNR are only meaningful then (else they repeat the last decoded tick's).
	Decoded bool
	// MSE of the predicted frame against the frame that arrived, pixels in [0,1].
	MSE float64
	// PSNR in dB (peak 1).
	PSNR float64
	// KL of the step (posterior ‖ prior), nats.
	KL float64
	// ELBO of the step (spec §3.7), every step when the monitor's ELBO is on; NaN when not
	// computed.
	ELBO float64
	// Reward is the step's VIPER reward (spec §3.7): 0 at an episode start (IsFirst),
	// symlog(ELBO) otherwise; NaN when the ELBO is not computed this step.
	Reward float64
	// ZScore of the prediction error against its exponentially weighted baseline.
	ZScore float64
	// ZScoreKL of the KL against its baseline.
	ZScoreKL float64
	// Anomaly is set while prediction quality is outside its normal band.
	Anomaly bool
}

// Result is one tick. Slices are views owned by the loop, valid during OnTick only.
type Result struct {
	Tick uint64 // tick counter (including ticks without a step)
	Seq  uint64 // frame sequence number
	// Captured is the frame's capture time: the stamp of everything computed from it.
	Captured time.Time
	// Start is when the tick began (loop clock); FrameAge = Start − Captured.
	Start    time.Time
	FrameAge time.Duration
	// StaleFrame flags a frame older than Config.MaxFrameAge.
	StaleFrame bool
	// IsFirst marks an episode start: the first step, the first after the source was
	// silent for Config.ResetAfter or after RequestReset, or a frame the source marks as
	// first (a looping replay's wrap).
	IsFirst bool
	// Image is the preprocessed 64x64 RGB frame (HWC).
	Image []uint8
	// Action is the pre-action used, and where it came from.
	Action       []float32
	ActionStatus ActionStatus
	// State is the filtered state after the step; Step holds the prior/posterior parameters.
	State model.State
	Step  *model.StepOutput
	// Stages are the durations of this tick's stages (StagePublish: the previous tick's).
	Stages  [NumStages]time.Duration
	Quality Quality
	// Stats are the loop's cumulative counters after this tick.
	Stats Stats
}

// Stats are cumulative loop counters.
type Stats struct {
	Ticks          uint64 // periods handled
	Steps          uint64 // posterior steps run (ticks with a new frame)
	NoFrame        uint64 // ticks without a new frame
	StaleFrames    uint64 // frames older than MaxFrameAge
	FrameErrors    uint64 // frames preprocessing refused
	DeadlineMisses uint64 // ticks that overran their period
	SkippedTicks   uint64 // periods skipped to catch up after overruns
	Resets         uint64 // episode restarts after the first: silent source, RequestReset, source-marked first frame
	StepErrors     uint64
	ActionsFresh   uint64
	ActionsHeld    uint64
	ActionsMissing uint64
	ActionsStale   uint64
	// ActionsRejected counts NaN/Inf or wrong-length actions refused.
	ActionsRejected uint64
	Anomalies       uint64 // ticks flagged anomalous
	Source          capture.Stats
}

// Config configures a Loop. Zero values take the documented defaults.
type Config struct {
	// Rate is the tick rate in Hz (required, 0 < Rate ≤ 10000).
	Rate float64
	// Model runs the steps (required): model.Runner (float32) or quant.Runner (int8).
	Model model.Stepper
	// Source delivers frames (required).
	Source Source
	// Actions delivers actions; nil means no external action input.
	Actions ActionInput
	// FrameActions uses a frame's own PreAction (replay) when it has one, ahead of Actions.
	FrameActions bool
	// ActionPolicy applies when no new action arrived since the last tick (default HoldLast).
	ActionPolicy ActionPolicy
	// ActionMaxAge: an action older than this is stale and replaced by zeros (default 500ms).
	ActionMaxAge time.Duration
	// MaxFrameAge: frames older than this at tick start are flagged stale (default 100ms).
	MaxFrameAge time.Duration
	// ResetAfter: after this long without a new frame (camera lost), the next step starts a
	// new episode (default 1s).
	ResetAfter time.Duration
	// Crop and Filter configure preprocessing (default: full frame, bilinear).
	Crop   frame.Rect
	Filter frame.Filter
	// CropFor, when set, gives the crop for each frame size instead of Crop (a centre crop
	// that follows a camera reopened in another mode, or a ROS topic's size).
	CropFor func(width, height int) frame.Rect
	// Monitor, if set, analyses each step before the sinks.
	Monitor Analyzer
	// Sinks receive each result in order.
	Sinks []Sink
	// Clock defaults to the real clock.
	Clock Clock
	// Log defaults to slog.Default().
	Log *slog.Logger
	// RealtimePriority 1..99 locks the loop to its OS thread and raises that thread (only) to
	// SCHED_FIFO at this priority; 0 (default) leaves scheduling alone. Failure is logged.
	RealtimePriority int
	// LatencyWindow is how many recent total latencies Summary's percentiles use
	// (default 65536).
	LatencyWindow int
}

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("tick: invalid config")

// Loop is the control loop. Run it on one goroutine; Stats and Summary may be called from any.
type Loop struct {
	conf   Config
	arch   *model.Arch
	period time.Duration
	clock  Clock
	log    *slog.Logger

	pre          *frame.Preprocessor
	preFmt       frame.PixelFormat
	preW, preH   int
	frameActs    *ActionMailbox
	act          []float32
	img          []uint8
	state        model.State
	out          *model.StepOutput
	res          Result
	lastSeq      uint64
	haveFrame    bool
	lastFrameAt  time.Time
	pendingReset bool
	lastRejected uint64
	lastRefused  uint64 // Source.Refused already counted in FrameErrors
	lastPublish  time.Duration
	stats        Stats
	warnAt       [4]time.Time // per-kind rate limit of per-tick warnings
	lat          []time.Duration
	latN         int
	mu           sync.Mutex // guards shared
	shared       Stats
	// resetRequested is set from other goroutines (a ROS ~reset call) and consumed by the
	// next step, which then starts a new episode from the initial state.
	resetRequested atomic.Bool
}

// RequestReset makes the next step start a new episode (the initial state, spec §3.2 step 0).
// Safe to call from any goroutine.
func (l *Loop) RequestReset() { l.resetRequested.Store(true) }

// New validates conf and allocates everything the loop needs.
func New(conf Config) (*Loop, error) {
	if !(conf.Rate > 0 && conf.Rate <= 10000) {
		return nil, fmt.Errorf("%w: Rate %v Hz, want (0, 10000]", ErrConfig, conf.Rate)
	}
	if conf.Model == nil {
		return nil, fmt.Errorf("%w: Model is nil", ErrConfig)
	}
	if conf.Source == nil {
		return nil, fmt.Errorf("%w: Source is nil", ErrConfig)
	}
	if conf.ActionPolicy > Zeros {
		return nil, fmt.Errorf("%w: ActionPolicy %d", ErrConfig, conf.ActionPolicy)
	}
	if conf.RealtimePriority < 0 || conf.RealtimePriority > 99 {
		return nil, fmt.Errorf("%w: RealtimePriority %d, want 0..99", ErrConfig, conf.RealtimePriority)
	}
	if conf.ActionMaxAge < 0 || conf.MaxFrameAge < 0 || conf.ResetAfter < 0 || conf.LatencyWindow < 0 {
		return nil, fmt.Errorf("%w: negative duration or window", ErrConfig)
	}
	if conf.LatencyWindow > 1<<24 {
		return nil, fmt.Errorf("%w: LatencyWindow %d exceeds %d", ErrConfig, conf.LatencyWindow, 1<<24)
	}
	if conf.ActionMaxAge == 0 {
		conf.ActionMaxAge = 500 * time.Millisecond
	}
	if conf.MaxFrameAge == 0 {
		conf.MaxFrameAge = 100 * time.Millisecond
	}
	if conf.ResetAfter == 0 {
		conf.ResetAfter = time.Second
	}
	if conf.LatencyWindow == 0 {
		conf.LatencyWindow = 1 << 16
	}
	if conf.Clock == nil {
		conf.Clock = NewRealClock()
	}
	if conf.Log == nil {
		conf.Log = slog.Default()
	}
	a := conf.Model.Arch()
	l := &Loop{
		conf:   conf,
		arch:   a,
		period: time.Duration(float64(time.Second) / conf.Rate),
		clock:  conf.Clock,
		log:    conf.Log,
		act:    make([]float32, a.ActionDim),
		img:    make([]uint8, model.ImageValues),
		state:  model.NewStateFor(a),
		out:    a.NewStepOutput(),
		lat:    make([]time.Duration, conf.LatencyWindow),
	}
	if conf.FrameActions {
		l.frameActs = NewActionMailbox(a.ActionDim)
	}
	return l, nil
}

// Period is the tick period.
func (l *Loop) Period() time.Duration { return l.period }

// Run ticks until ctx ends; it returns nil then. Overrunning ticks are counted and the loop
// skips to the next period boundary instead of catching up.
func (l *Loop) Run(ctx context.Context) error {
	if p := l.conf.RealtimePriority; p > 0 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := setFIFO(p); err != nil {
			l.log.Warn("cannot raise the control thread to SCHED_FIFO; running with normal priority",
				"priority", p, "err", err)
		} else {
			l.log.Info("control thread runs SCHED_FIFO", "priority", p)
		}
	}
	next := l.clock.Now()
	for {
		if err := l.clock.SleepUntil(ctx, next); err != nil {
			return nil
		}
		start := l.clock.Now()
		l.tick(start)
		end := l.clock.Now()
		// The tick owns [next, next+period). Overrun: count it and move to the first period
		// boundary after now, so late ticks never pile up.
		k := end.Sub(next)/l.period + 1
		if k > 1 {
			l.stats.DeadlineMisses++
			l.stats.SkippedTicks += uint64(k - 1)
		}
		next = next.Add(k * l.period)
		l.publishStats()
	}
}

// TickOnce runs one tick's work at the clock's current time without sleeping (tests,
// benchmarks, and callers that drive their own schedule).
func (l *Loop) TickOnce() {
	l.tick(l.clock.Now())
	l.publishStats()
}

// warn logs a per-tick problem at most once per second per kind.
func (l *Loop) warn(kind int, now time.Time, msg string, args ...any) {
	if now.Sub(l.warnAt[kind]) < time.Second && !l.warnAt[kind].IsZero() {
		return
	}
	l.warnAt[kind] = now
	l.log.Warn(msg, args...)
}

const (
	warnFrame = iota
	warnAction
	warnStep
	warnSource
)

func (l *Loop) tick(start time.Time) {
	l.stats.Ticks++
	f, ok := l.conf.Source.Latest()
	// After Latest, so the counters include the frame this tick took (a replay's last).
	l.stats.Source = l.conf.Source.Stats()
	if r := l.stats.Source.Refused; r > l.lastRefused {
		// Frames a Prepared source refused on arrival are this loop's frame errors too
		// (the source logged them, rate-limited).
		l.stats.FrameErrors += r - l.lastRefused
		l.lastRefused = r
	}
	if !ok || (l.haveFrame && f.Seq == l.lastSeq) {
		l.stats.NoFrame++
		if l.haveFrame && !l.pendingReset && start.Sub(l.lastFrameAt) > l.conf.ResetAfter {
			l.pendingReset = true
			l.warn(warnSource, start, "no frame from the source; the next step starts a new episode",
				"silent", start.Sub(l.lastFrameAt), "connected", l.stats.Source.Connected)
		}
		return
	}
	l.haveFrame, l.lastSeq, l.lastFrameAt = true, f.Seq, start
	if f.IsFirst {
		// Sticky until a step runs, so a refused frame does not lose the episode start.
		l.pendingReset = true
	}
	r := &l.res
	r.Tick, r.Seq, r.Captured, r.Start = l.stats.Ticks, f.Seq, f.Captured, start
	r.FrameAge = start.Sub(f.Captured)
	r.StaleFrame = r.FrameAge > l.conf.MaxFrameAge
	if r.StaleFrame {
		l.stats.StaleFrames++
	}

	t0 := l.clock.Now()
	if err := l.preprocess(f.Frame); err != nil {
		l.stats.FrameErrors++
		l.warn(warnFrame, start, "frame refused", "seq", f.Seq, "err", err)
		return
	}
	t1 := l.clock.Now()

	r.ActionStatus = l.takeAction(start, f.PreAction)
	if l.resetRequested.Swap(false) {
		l.pendingReset = true
	}
	isFirst := l.stats.Steps == 0 || l.pendingReset
	if isFirst && l.stats.Steps > 0 {
		l.stats.Resets++
	}
	l.pendingReset = false
	// No noise: the posterior mean (mode), the deterministic path of `rssmd filter`, so a
	// lockstep replay reproduces it bit for bit.
	if err := l.conf.Model.PosteriorStep(&l.state, l.act, l.img, isFirst, l.out, nil); err != nil {
		l.stats.StepErrors++
		l.warn(warnStep, start, "model step failed", "seq", f.Seq, "err", err)
		return
	}
	l.stats.Steps++
	t2 := l.clock.Now()

	r.IsFirst = isFirst
	r.Image, r.Action, r.State, r.Step = l.img, l.act, l.state, l.out
	r.Quality = Quality{KL: float64(l.out.KL), ELBO: math.NaN(), Reward: math.NaN()}
	if l.conf.Monitor != nil {
		l.conf.Monitor.Analyze(r)
		if r.Quality.Anomaly {
			l.stats.Anomalies++
		}
	}
	t3 := l.clock.Now()
	r.Stages[StagePreprocess] = t1.Sub(t0)
	r.Stages[StageStep] = t2.Sub(t1)
	r.Stages[StageMonitor] = t3.Sub(t2)
	r.Stages[StagePublish] = l.lastPublish
	r.Stages[StageTotal] = t3.Sub(start)
	l.lat[l.latN%len(l.lat)] = r.Stages[StageTotal]
	l.latN++
	r.Stats = l.stats
	for _, s := range l.conf.Sinks {
		s.OnTick(r)
	}
	l.lastPublish = l.clock.Now().Sub(t3)
}

// preprocess converts f into l.img, (re)building the preprocessor when the source's format
// or size changes (a camera reopened in another mode), which is the only allocation.
func (l *Loop) preprocess(f frame.Frame) error {
	if l.pre == nil || f.Format != l.preFmt || f.Width != l.preW || f.Height != l.preH {
		p, err := frame.NewPreprocessor(frame.Config{
			Format: f.Format, Width: f.Width, Height: f.Height,
			Crop: l.cropFor(f.Width, f.Height), Filter: l.conf.Filter,
		})
		if err != nil {
			return fmt.Errorf("preprocessor for %v %dx%d: %w", f.Format, f.Width, f.Height, err)
		}
		l.pre, l.preFmt, l.preW, l.preH = p, f.Format, f.Width, f.Height
	}
	return l.pre.Process(l.img, f)
}

func (l *Loop) cropFor(w, h int) frame.Rect {
	if l.conf.CropFor != nil && w > 0 && h > 0 {
		return l.conf.CropFor(w, h)
	}
	return l.conf.Crop
}

// takeAction fills l.act following the policy and reports where it came from.
func (l *Loop) takeAction(now time.Time, frameAct []float32) ActionStatus {
	if l.arch.ActionDim == 0 {
		return ActionNone
	}
	in := l.conf.Actions
	rejected := uint64(0)
	if l.frameActs != nil && frameAct != nil {
		// A frame's own pre-action arrives with the frame, now: how old the frame is is
		// StaleFrame's business. Dated by the frame's stamp, a lockstep replay that fell
		// behind its timeline (or one stamped by its recording) would step with zeros.
		if err := l.frameActs.Put(frameAct, now); err != nil {
			l.warn(warnAction, now, "action rejected", "err", err)
		}
		in = l.frameActs
		rejected += l.frameActs.Rejected()
	}
	if l.conf.Actions != nil {
		rejected += l.conf.Actions.Rejected()
	}
	if rejected != l.lastRejected {
		l.stats.ActionsRejected += rejected - l.lastRejected
		l.lastRejected = rejected
		l.warn(warnAction, now, "actions rejected (NaN/Inf or wrong length)", "total", l.stats.ActionsRejected)
	}
	var (
		at        time.Time
		fresh, ok bool
	)
	if in != nil {
		at, fresh, ok = in.Take(l.act)
	}
	switch {
	case ok && now.Sub(at) > l.conf.ActionMaxAge:
		clear(l.act)
		l.stats.ActionsStale++
		return ActionStale
	case ok && fresh:
		l.stats.ActionsFresh++
		return ActionFresh
	case ok && l.conf.ActionPolicy == HoldLast:
		l.stats.ActionsHeld++
		return ActionHeld
	default:
		clear(l.act)
		l.stats.ActionsMissing++
		return ActionMissing
	}
}

func (l *Loop) publishStats() {
	l.mu.Lock()
	l.shared = l.stats
	l.mu.Unlock()
}

// Stats returns the counters as of the last completed tick.
func (l *Loop) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.shared
}

// Summary is the end-of-run report.
type Summary struct {
	Stats
	// Latency percentiles of StageTotal over the last LatencyWindow steps.
	LatencyMedian, LatencyP99, LatencyMax time.Duration
	Samples                               int
}

// Summary computes the summary; call it after Run returned (it reads the loop's own buffers).
func (l *Loop) Summary() Summary {
	s := Summary{Stats: l.stats}
	n := min(l.latN, len(l.lat))
	if n == 0 {
		return s
	}
	d := slices.Clone(l.lat[:n])
	slices.Sort(d)
	s.Samples = n
	s.LatencyMedian = d[n/2]
	s.LatencyP99 = d[min(n-1, n*99/100)]
	s.LatencyMax = d[n-1]
	return s
}
