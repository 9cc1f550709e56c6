// Package dashboard owns rssmd's live web dashboard: a tick.Sink that keeps a short history
// of prediction quality and latency plus a few frames a second, and an HTTP server with one
// self-contained page (camera view, the model's reconstruction and k-step-ahead prediction,
// live plots, anomaly indicator) and a JSON endpoint, /api/state, that the page polls.
//
// The control goroutine never waits for the web side: OnTick writes into preallocated
// buffers and hands them over with TryLock, dropping plot samples only when a reader holds
// the lock for longer than the staging buffer lasts. Reconstructions and predictions are
// decoded on the dashboard's own goroutine with its own model.Stepper, a few times a second.
package dashboard

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

//go:embed index.html
var indexHTML []byte

// Info describes the run for the page's info panel.
type Info struct {
	Model     string  `json:"model"`
	Kind      string  `json:"kind"`   // "float32" or "int8"
	Kernel    string  `json:"kernel"` // armkernels path of the int8 model ("" for float32)
	Deter     int     `json:"deter"`
	Stoch     int     `json:"stoch"`
	ActionDim int     `json:"action_dim"`
	Rate      float64 `json:"rate"`
	Source    string  `json:"source"`
	// Extra holds free-form lines (seed, disturbance schedule, ROS status).
	Extra map[string]string `json:"extra,omitempty"`
}

// Config configures a Dashboard. Zero values take the documented defaults.
type Config struct {
	// Addr is the listen address (default 127.0.0.1:8080; port 0 picks a free one).
	Addr string
	// Model decodes reconstructions and predictions on the dashboard's goroutine. It must
	// not be the stepper the tick loop uses (runners hold scratch memory); nil shows the
	// camera view only.
	Model model.Stepper
	// Horizon k of the displayed prediction: the frame predicted open-loop from the state
	// k steps earlier with the actions since (default 10).
	Horizon int
	// FrameInterval is how often a new set of images is taken and decoded (default 200ms).
	FrameInterval time.Duration
	// History is how many steps the plots keep (default 750: 15 s at 50 Hz).
	History int
	// Disturbance labels a frame sequence number with an injected disturbance kind (0:
	// none); called on the control goroutine, so it must be quick and not allocate.
	Disturbance func(seq uint64) uint8
	// DisturbanceName names a kind for the page (default "disturbance").
	DisturbanceName func(kind uint8) string
	// ZThreshold is the monitor's z-score threshold (default 4, monitor.Config's default):
	// the page names the signals above it as the anomaly flag's cause.
	ZThreshold float64
	// Handlers are extra routes served next to the page (e.g. "/metrics").
	Handlers map[string]http.Handler
	Info     Info
	Log      *slog.Logger
}

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("dashboard: invalid config")

const stagingLen = 256

// Dashboard is the sink and the server. OnTick runs on the control goroutine; everything
// else on the server's.
type Dashboard struct {
	conf  Config
	arch  *model.Arch
	log   *slog.Logger
	every time.Duration

	// Owned by the control goroutine.
	pend     [stagingLen]sample
	npend    int
	lost     uint64        // samples dropped since the last hand-over
	hist     []model.State // ring of the last Horizon+1 posterior states
	acts     [][]float32   // and the action of each of those steps
	histN    int           // steps since the episode start, saturating at len(hist)
	histI    int           // ring index of the newest entry
	next     *snapshot     // being filled
	nextFull bool          // next holds a snapshot not yet handed over
	lastSnap time.Time

	mu        sync.Mutex // guards the fields below
	series    []sample   // ring of History samples
	seriesN   uint64     // samples ever stored
	stats     tick.Stats
	last      sample
	ready     *snapshot // newest complete snapshot
	readyGen  uint64
	dropped   uint64 // plot samples lost to a slow reader
	snapTaken time.Time

	// Owned by the render goroutine.
	spare   *snapshot
	seenGen uint64
	roll    model.State
	rollOut *model.StepOutput
	recon   []float32

	imgMu  sync.RWMutex
	images images

	srv     *http.Server
	ln      net.Listener
	done    chan struct{}
	wg      sync.WaitGroup
	started atomic.Bool
	closed  atomic.Bool
}

// sample is one step's plotted values.
type sample struct {
	Tick, Seq           uint64
	MSE, PSNR, KL, ELBO float64
	Reward              float64 // VIPER reward; NaN when the ELBO is off
	Z, ZKL              float64
	Latency, Step       time.Duration
	Decoded, Anomaly    bool
	Mark                uint8
}

// snapshot is what the render goroutine needs to draw one moment.
type snapshot struct {
	tick, seq uint64
	image     []uint8
	deter     []float32
	stoch     []float32
	// Open-loop start: the state Horizon steps back and the actions after it.
	havePred  bool
	fromDeter []float32
	fromStoch []float32
	predActs  []float32 // Horizon·ActionDim
	anomaly   bool
	mark      uint8
	taken     time.Time
}

type images struct {
	Tick   uint64 `json:"tick"`
	Seq    uint64 `json:"seq"`
	Camera string `json:"camera"`
	Recon  string `json:"recon,omitempty"`
	Pred   string `json:"pred,omitempty"`
	Count  uint64 `json:"count"` // image sets rendered so far
	// Anomaly and Mark are the flag and the disturbance at the snapshot's step.
	Anomaly bool  `json:"anomaly"`
	Mark    uint8 `json:"-"`
}

// New validates conf and allocates every buffer OnTick uses. arch is the model's (needed
// even without Config.Model to size the state history).
func New(conf Config, arch *model.Arch) (*Dashboard, error) {
	if arch == nil {
		return nil, fmt.Errorf("%w: architecture is nil", ErrConfig)
	}
	if conf.Addr == "" {
		conf.Addr = "127.0.0.1:8080"
	}
	if conf.Horizon == 0 {
		conf.Horizon = 10
	}
	if conf.Horizon < 1 || conf.Horizon > 1000 {
		return nil, fmt.Errorf("%w: Horizon %d, want 1..1000", ErrConfig, conf.Horizon)
	}
	if conf.FrameInterval == 0 {
		conf.FrameInterval = 200 * time.Millisecond
	}
	if conf.FrameInterval < 10*time.Millisecond {
		return nil, fmt.Errorf("%w: FrameInterval %v, want ≥ 10ms", ErrConfig, conf.FrameInterval)
	}
	if conf.ZThreshold == 0 {
		conf.ZThreshold = 4
	}
	if !(conf.ZThreshold > 0) || math.IsInf(conf.ZThreshold, 0) {
		return nil, fmt.Errorf("%w: ZThreshold %v, want > 0", ErrConfig, conf.ZThreshold)
	}
	if conf.History == 0 {
		conf.History = 750
	}
	if conf.History < 2 || conf.History > 1<<20 {
		return nil, fmt.Errorf("%w: History %d, want 2..%d", ErrConfig, conf.History, 1<<20)
	}
	if m := conf.Model; m != nil && (m.Arch().Deter != arch.Deter || m.Arch().Stoch != arch.Stoch || m.Arch().ActionDim != arch.ActionDim) {
		return nil, fmt.Errorf("%w: the decoding model's architecture differs from the loop's", ErrConfig)
	}
	if conf.Log == nil {
		conf.Log = slog.Default()
	}
	d := &Dashboard{conf: conf, arch: arch, log: conf.Log, every: conf.FrameInterval,
		series: make([]sample, conf.History), done: make(chan struct{})}
	k := conf.Horizon
	d.hist = make([]model.State, k+1)
	d.acts = make([][]float32, k+1)
	for i := range d.hist {
		d.hist[i] = model.NewStateFor(arch)
		d.acts[i] = make([]float32, arch.ActionDim)
	}
	d.next, d.ready, d.spare = d.newSnapshot(), d.newSnapshot(), d.newSnapshot()
	d.roll = model.NewStateFor(arch)
	d.rollOut = arch.NewStepOutput()
	d.recon = make([]float32, model.ImageValues)
	return d, nil
}

func (d *Dashboard) newSnapshot() *snapshot {
	a := d.arch
	return &snapshot{
		image: make([]uint8, model.ImageValues),
		deter: make([]float32, a.Deter), stoch: make([]float32, a.Stoch),
		fromDeter: make([]float32, a.Deter), fromStoch: make([]float32, a.Stoch),
		predActs: make([]float32, d.conf.Horizon*a.ActionDim),
	}
}

// Horizon is the prediction horizon k shown on the page.
func (d *Dashboard) Horizon() int { return d.conf.Horizon }

// OnTick implements tick.Sink. It allocates nothing and never waits for the web side.
func (d *Dashboard) OnTick(r *tick.Result) {
	q := &r.Quality
	s := sample{Tick: r.Tick, Seq: r.Seq, MSE: q.MSE, PSNR: q.PSNR, KL: q.KL, ELBO: q.ELBO, Reward: q.Reward,
		Z: q.ZScore, ZKL: q.ZScoreKL, Latency: r.Stages[tick.StageTotal], Step: r.Stages[tick.StageStep],
		Decoded: q.Decoded, Anomaly: q.Anomaly}
	if !q.Decoded && q.MSE == 0 {
		// Nothing decoded yet this episode: a gap in the plots, not a perfect prediction.
		// (The ELBO and reward are per step, not per decode: they stay.)
		s.MSE, s.PSNR = math.NaN(), math.NaN()
	}
	if d.conf.Disturbance != nil {
		s.Mark = d.conf.Disturbance(r.Seq)
	}
	if d.npend < len(d.pend) {
		d.pend[d.npend] = s
		d.npend++
	} else {
		d.lost++ // a reader held the lock for stagingLen steps: drop rather than wait
	}
	d.remember(r)
	// Take a snapshot at most every FrameInterval of tick time (the frame's capture time,
	// so fake clocks work) once the previous one was handed over.
	if !d.nextFull && (d.lastSnap.IsZero() || r.Start.Sub(d.lastSnap) >= d.every || r.Start.Before(d.lastSnap)) {
		d.fillSnapshot(r, s)
		d.lastSnap = r.Start
	}
	if !d.mu.TryLock() {
		return
	}
	for i := 0; i < d.npend; i++ {
		d.series[d.seriesN%uint64(len(d.series))] = d.pend[i]
		d.seriesN++
	}
	d.npend = 0
	d.dropped += d.lost
	d.lost = 0
	d.stats = r.Stats
	d.last = s
	if d.nextFull {
		d.next, d.ready = d.ready, d.next
		d.readyGen++
		d.nextFull = false
	}
	d.mu.Unlock()
}

// remember keeps the posterior state and action of the last Horizon+1 steps.
func (d *Dashboard) remember(r *tick.Result) {
	if r.IsFirst {
		d.histN = 0
	}
	d.histI = (d.histI + 1) % len(d.hist)
	d.hist[d.histI].CopyFrom(r.State)
	copy(d.acts[d.histI], r.Action)
	if d.histN < len(d.hist) {
		d.histN++
	}
}

func (d *Dashboard) fillSnapshot(r *tick.Result, s sample) {
	n := d.next
	n.tick, n.seq, n.taken, n.anomaly, n.mark = r.Tick, r.Seq, r.Start, s.Anomaly, s.Mark
	copy(n.image, r.Image)
	copy(n.deter, r.State.Deter)
	copy(n.stoch, r.State.Stoch)
	k := d.conf.Horizon
	n.havePred = d.histN == len(d.hist)
	if n.havePred {
		from := (d.histI + 1) % len(d.hist) // oldest entry: k steps back
		copy(n.fromDeter, d.hist[from].Deter)
		copy(n.fromStoch, d.hist[from].Stoch)
		A := d.arch.ActionDim
		for j := 1; j <= k; j++ {
			copy(n.predActs[(j-1)*A:j*A], d.acts[(from+j)%len(d.hist)])
		}
	}
	d.nextFull = true
}
