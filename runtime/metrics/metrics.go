// Package metrics owns rssmd's Prometheus face: a private registry (never the global one) with
// per-stage latency histograms in sub-millisecond buckets, frame age, counters of frames, drops,
// deadline misses, reconnects and rejected actions, prediction-quality gauges, the VIPER reward
// (gauge and histogram), model and build info, and the Go and process collectors, served over HTTP on a local address.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rssmd/rssmd/runtime/tick"
)

// DefaultAddr is loopback only: metrics are not for the whole network unless asked.
const DefaultAddr = "127.0.0.1:9108"

// Info describes what runs, for rssmd_model_info.
type Info struct {
	Model                   string // path or name
	Kind                    string // "float32" or "int8"
	Kernel                  string // SIMD kernel path (int8), "" for float32
	Deter, Stoch, ActionDim int
}

// Config configures Metrics.
type Config struct {
	// Addr to listen on (default DefaultAddr); "" with NoListen for tests using Handler.
	Addr string
	// Info labels rssmd_model_info.
	Info Info
	// Stats reads the loop's cumulative counters at scrape time (required).
	Stats func() tick.Stats
	// Recorder, if set, reads the recorder's written and dropped counts.
	Recorder func() (written, dropped uint64)
}

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("metrics: invalid config")

// Metrics implements tick.Sink: OnTick updates histograms and gauges without allocating.
type Metrics struct {
	conf                            Config
	reg                             *prometheus.Registry
	stages                          [tick.NumStages]prometheus.Observer
	frameAge                        prometheus.Observer
	prepare                         prometheus.Observer
	mse, psnr, kl, elbo, z, anomaly prometheus.Gauge
	reward                          prometheus.Gauge
	rewardHist                      prometheus.Observer
	srv                             *http.Server
	ln                              net.Listener
	served                          chan error
}

// stageBuckets span 25 µs to about 100 ms, doubling: a tick is well under a millisecond
// beyond the model step.
var stageBuckets = prometheus.ExponentialBuckets(25e-6, 2, 13)

// RewardBuckets fit the VIPER reward symlog(ELBO) (spec §3.7): a per-step ELBO of −10² … −10⁴
// nats is a reward of about −4.6 … −9.2, so quarter-unit steps over [−12, 2] resolve it, with
// 0 (an episode start) on a bucket edge. The ELBO omits the Gaussian constant, so a model that
// explains the frame very well can give a positive ELBO: the top buckets cover it.
var RewardBuckets = prometheus.LinearBuckets(-12, 0.25, 57)

// New builds the registry.
func New(conf Config) (*Metrics, error) {
	if conf.Stats == nil {
		return nil, fmt.Errorf("%w: Stats is nil", ErrConfig)
	}
	if conf.Addr == "" {
		conf.Addr = DefaultAddr
	}
	if _, _, err := net.SplitHostPort(conf.Addr); err != nil {
		return nil, fmt.Errorf("%w: Addr %q: %w", ErrConfig, conf.Addr, err)
	}
	reg := prometheus.NewRegistry()
	m := &Metrics{conf: conf, reg: reg}
	stage := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "rssmd_stage_seconds", Help: "Duration of each tick stage (publish: the previous tick's sinks).",
		Buckets: stageBuckets,
	}, []string{"stage"})
	for s := tick.Stage(0); s < tick.NumStages; s++ {
		m.stages[s] = stage.WithLabelValues(s.String()) // resolved once: no lookup per tick
	}
	rewardHist := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "rssmd_viper_reward_hist", Help: "VIPER reward per step (steps with the ELBO computed).",
		Buckets: RewardBuckets,
	})
	m.rewardHist = rewardHist
	reg.MustRegister(rewardHist)
	prepare := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "rssmd_prepare_seconds",
		Help:    "Decode and resampling time of each frame preprocessed on arrival (prepare=arrival; with prepare=tick it is the preprocess stage).",
		Buckets: stageBuckets,
	})
	m.prepare = prepare
	reg.MustRegister(prepare)
	m.frameAge = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "rssmd_frame_age_seconds", Help: "Age of the frame at tick start (now − capture time).",
		Buckets: prometheus.ExponentialBuckets(250e-6, 2, 14),
	})
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		reg.MustRegister(g)
		return g
	}
	m.mse = gauge("rssmd_prediction_mse", "MSE of the prior prediction against the frame that arrived (pixels in [0,1]).")
	m.psnr = gauge("rssmd_prediction_psnr_db", "PSNR of the prior prediction, dB.")
	m.kl = gauge("rssmd_kl_nats", "KL(posterior ‖ prior) of the last step, nats.")
	m.elbo = gauge("rssmd_elbo", "Per-step ELBO (NaN when not computed).")
	m.reward = gauge("rssmd_viper_reward", "VIPER reward of the last step: symlog(ELBO), 0 at an episode start (NaN when the ELBO is not computed).")
	m.z = gauge("rssmd_prediction_zscore", "z-score of the prediction error against its baseline.")
	m.anomaly = gauge("rssmd_anomaly", "1 while prediction quality is outside its normal band.")

	counter := func(name, help string, f func(tick.Stats) uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(f(conf.Stats())) }))
	}
	counter("rssmd_ticks_total", "Tick periods handled.", func(s tick.Stats) uint64 { return s.Ticks })
	counter("rssmd_steps_total", "Posterior steps run.", func(s tick.Stats) uint64 { return s.Steps })
	counter("rssmd_no_frame_ticks_total", "Ticks without a new frame.", func(s tick.Stats) uint64 { return s.NoFrame })
	counter("rssmd_stale_frames_total", "Frames older than the configured maximum age.", func(s tick.Stats) uint64 { return s.StaleFrames })
	counter("rssmd_frame_errors_total", "Frames preprocessing refused.", func(s tick.Stats) uint64 { return s.FrameErrors })
	counter("rssmd_deadline_misses_total", "Ticks that overran their period.", func(s tick.Stats) uint64 { return s.DeadlineMisses })
	counter("rssmd_skipped_ticks_total", "Periods skipped after overruns.", func(s tick.Stats) uint64 { return s.SkippedTicks })
	counter("rssmd_episode_resets_total", "Episode starts after the first: silent source, ~reset, a looping replay's wrap.", func(s tick.Stats) uint64 { return s.Resets })
	counter("rssmd_step_errors_total", "Model steps that failed.", func(s tick.Stats) uint64 { return s.StepErrors })
	counter("rssmd_actions_rejected_total", "Actions refused (NaN/Inf or wrong length).", func(s tick.Stats) uint64 { return s.ActionsRejected })
	counter("rssmd_anomaly_ticks_total", "Ticks flagged anomalous.", func(s tick.Stats) uint64 { return s.Anomalies })
	counter("rssmd_frames_total", "Frames received by the source.", func(s tick.Stats) uint64 { return s.Source.Frames })
	counter("rssmd_frame_drops_total", "Frames the device reports lost (sequence gaps).", func(s tick.Stats) uint64 { return s.Source.Dropped })
	counter("rssmd_frames_skipped_total", "Frames replaced by a newer one before a tick took them.", func(s tick.Stats) uint64 { return s.Source.Skipped })
	counter("rssmd_source_errors_total", "Source device errors.", func(s tick.Stats) uint64 { return s.Source.Errors })
	counter("rssmd_reconnects_total", "Source re-opens after the device was lost.", func(s tick.Stats) uint64 { return s.Source.Reconnects })
	actions := func(status string, f func(tick.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "rssmd_actions_total", Help: "Actions used per tick, by origin.",
			ConstLabels: prometheus.Labels{"status": status},
		}, func() float64 { return float64(f(conf.Stats())) })
	}
	reg.MustRegister(
		actions("fresh", func(s tick.Stats) uint64 { return s.ActionsFresh }),
		actions("held", func(s tick.Stats) uint64 { return s.ActionsHeld }),
		actions("missing", func(s tick.Stats) uint64 { return s.ActionsMissing }),
		actions("stale", func(s tick.Stats) uint64 { return s.ActionsStale }),
	)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rssmd_source_connected", Help: "1 while the frame source is connected.",
	}, func() float64 {
		if conf.Stats().Source.Connected {
			return 1
		}
		return 0
	}))
	if rec := conf.Recorder; rec != nil {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rssmd_record_written_total", Help: "Tick records written."},
				func() float64 { w, _ := rec(); return float64(w) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rssmd_record_dropped_total", Help: "Tick records dropped (recorder queue full)."},
				func() float64 { _, d := rec(); return float64(d) }),
		)
	}
	in := conf.Info
	modelInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "rssmd_model_info", Help: "The model being run (value 1).",
		ConstLabels: prometheus.Labels{
			"model": in.Model, "kind": in.Kind, "kernel": in.Kernel,
			"deter": strconv.Itoa(in.Deter), "stoch": strconv.Itoa(in.Stoch), "action_dim": strconv.Itoa(in.ActionDim),
		},
	})
	modelInfo.Set(1)
	version, goVersion := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		version, goVersion = bi.Main.Version, bi.GoVersion
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "rssmd_build_info", Help: "rssmd build (value 1).",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goVersion},
	})
	buildInfo.Set(1)
	reg.MustRegister(stage, m.frameAge.(prometheus.Collector), modelInfo, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m, nil
}

// Registry returns the private registry, so the ROS node can add its own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// OnTick implements tick.Sink.
func (m *Metrics) OnTick(r *tick.Result) {
	for s := tick.Stage(0); s < tick.NumStages; s++ {
		m.stages[s].Observe(r.Stages[s].Seconds())
	}
	m.frameAge.Observe(r.FrameAge.Seconds())
	q := &r.Quality
	m.kl.Set(q.KL)
	if q.Decoded {
		m.mse.Set(q.MSE)
		m.psnr.Set(q.PSNR)
		m.z.Set(q.ZScore)
	}
	// The ELBO and reward are per step (the monitor's ELBO setting), not per decode.
	m.elbo.Set(q.ELBO)
	m.reward.Set(q.Reward)
	if !math.IsNaN(q.Reward) {
		m.rewardHist.Observe(q.Reward)
	}
	if q.Anomaly {
		m.anomaly.Set(1)
	} else {
		m.anomaly.Set(0)
	}
}

// ObservePrepare records one frame's preprocessing on arrival (capture.Prepared's observer).
// Safe from any goroutine; it does not allocate.
func (m *Metrics) ObservePrepare(d time.Duration) { m.prepare.Observe(d.Seconds()) }

// Start listens on Addr and serves /metrics in the background.
func (m *Metrics) Start() error {
	ln, err := net.Listen("tcp", m.conf.Addr)
	if err != nil {
		return fmt.Errorf("metrics: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	m.ln = ln
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	m.served = make(chan error, 1)
	go func() { m.served <- m.srv.Serve(ln) }()
	return nil
}

// Addr is the address being served (useful with port 0).
func (m *Metrics) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// Close stops the server, waiting at most 2 s for scrapes in flight.
func (m *Metrics) Close() error {
	if m.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := m.srv.Shutdown(ctx)
	if e := <-m.served; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	m.srv = nil
	if err != nil {
		return fmt.Errorf("metrics: close: %w", err)
	}
	return nil
}

var _ tick.Sink = (*Metrics)(nil)
