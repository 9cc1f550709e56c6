package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rssmd/rssmd/nodes/ros"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/dashboard"
	"github.com/rssmd/rssmd/runtime/pipeline"
	"github.com/rssmd/rssmd/runtime/sim"
	"github.com/rssmd/rssmd/runtime/tick"
)

// demoModelDirs are where the demo model is looked for, relative to the working directory
// and to the directory above the executable's (bin/rssmd in a checkout).
var demoModelDirs = []string{"models/demo/rssmo-arm", "models/demo", "demo/model", "demo"}

// standInModel is used when no demo model is found: its predictions of the sim scene are
// meaningless, but it exercises the whole pipeline.
const standInModel = "model/testdata/golden/cnnha-actions"

// demoOptions configure one demo run (flags, or a test).
type demoOptions struct {
	Model    string        // model folder or bundle ("" finds the demo model)
	Kind     string        // "auto" (int8 when an int8 bundle exists), "int8" or "float32"
	Addr     string        // dashboard address; "off" serves nothing
	Rate     float64       // tick rate, Hz
	Duration time.Duration // run time on the loop's clock; 0 until ctx ends
	Seed     uint64
	// Every disturbance starts this long after the previous one (the first after Every) and
	// lasts For; Grace after its end still counts a flag as a detection.
	Every, For, Grace time.Duration
	Horizon           int // dashboard prediction horizon
	Clock             tick.Clock
	// OnReady is called with the dashboard URL once it serves ("" when off).
	OnReady func(url string)
	Log     *slog.Logger
}

// demoResult is what the closing summary reports.
type demoResult struct {
	tick.Summary
	Wall                  time.Duration
	ModelPath, Kind       string
	Kernel                string
	StandIn               bool
	Injected, Detected    int
	FalseAlarms           int
	Minutes               float64 // loop-clock minutes run
	MeanPSNR, MeanMSE     float64 // over decoded steps outside disturbances
	MeanPSNRDisturbed     float64 // inside disturbance windows
	MeanKL                float64
	Decoded, DecodedDistd uint64
	ROS                   string
}

// runDemo is `rssmd demo`: the simulated arm camera → preprocessing → filter (int8 when the
// demo model has an int8 bundle) → monitor at --rate, with a scripted disturbance every few
// seconds, the live dashboard and metrics, and a closing summary.
func runDemo(env *Env) error {
	fs := newFlags(env, "demo")
	var o demoOptions
	fs.DurationVar(&o.Duration, "duration", 0, "run time (0: until Ctrl-C)")
	headless := fs.Bool("headless", false, "print only the dashboard's address, without the hint to open it in a browser (rssmd never opens one itself)")
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", `dashboard address ("off": no dashboard)`)
	fs.Float64Var(&o.Rate, "rate", 50, "tick rate, Hz")
	fs.StringVar(&o.Model, "model", "", "model folder or bundle (default: the shipped demo model)")
	fs.StringVar(&o.Kind, "kind", "auto", "auto (int8 when an int8 bundle exists), int8 or float32")
	seed := fs.Uint64("seed", 1, "seed of the scene and its exploring arm")
	fs.DurationVar(&o.Every, "disturb-every", 8*time.Second, "time between disturbance starts")
	fs.DurationVar(&o.For, "disturb-for", 1500*time.Millisecond, "duration of each disturbance")
	fs.IntVar(&o.Horizon, "horizon", 10, "steps ahead of the dashboard's open-loop prediction")
	if err := parse(fs, env.Args); err != nil {
		return err
	}
	o.Seed, o.Grace, o.Log = *seed, 500*time.Millisecond, env.Log
	o.OnReady = func(url string) {
		if url == "" {
			return
		}
		fmt.Fprintf(env.Stdout, "dashboard: %s\n", url)
		if !*headless {
			fmt.Fprintln(env.Stdout, "open it in a browser (rssmd opens nothing itself; --headless silences this line)")
		}
	}
	res, err := demo(env.Ctx, o, env.Stdout)
	if err != nil {
		return err
	}
	printDemoSummary(env.Stdout, res)
	return nil
}

// demoScript is the disturbance schedule in frames (the camera makes one frame per tick).
func demoScript(o demoOptions) sim.Script {
	every := uint64(max(1, o.Every.Seconds()*o.Rate))
	dur := uint64(max(1, o.For.Seconds()*o.Rate))
	n := 100000 // "until stopped": more than anyone watches
	if o.Duration > 0 {
		n = int(uint64(o.Duration.Seconds()*o.Rate) / every)
	}
	return sim.Periodic([]sim.Kind{sim.Occlude, sim.Dim, sim.ShoveArm, sim.Brighten}, every, every, dur, n)
}

func findDemoModel() (path string, standIn bool, err error) {
	var roots []string
	// The working directory and its parents (tests run in a package folder), then the
	// checkout above the executable (bin/rssmd).
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			roots = append(roots, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		roots = append(roots, filepath.Dir(filepath.Dir(exe)))
	}
	for _, r := range roots {
		for _, d := range demoModelDirs {
			p := filepath.Join(r, d)
			if fi, err := os.Stat(p); err == nil && fi.IsDir() && hasModelFiles(p) {
				return p, false, nil
			}
		}
	}
	for _, r := range roots {
		p := filepath.Join(r, standInModel)
		if _, err := os.Stat(p); err == nil {
			return p, true, nil
		}
	}
	return "", false, fmt.Errorf("no demo model found (looked for %s under %s); pass --model", strings.Join(demoModelDirs, ", "), strings.Join(roots, ", "))
}

func hasModelFiles(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err == nil {
		return true
	}
	b, _ := filepath.Glob(filepath.Join(dir, "*.rssm"))
	return len(b) > 0
}

// openDemoModel opens the demo's model: kind "auto" runs int8 when an int8 bundle goes with
// path, "int8" requires one, "float32" never uses it.
func openDemoModel(path, kind string) (*pipeline.Opened, error) {
	wantInt8 := false
	switch kind {
	case "auto":
		wantInt8 = pipeline.Int8Bundle(path) != ""
	case "int8":
		if pipeline.Int8Bundle(path) == "" {
			return nil, fmt.Errorf("--kind int8: no int8 bundle for %s (rssmd calibrate writes one)", path)
		}
		wantInt8 = true
	case "float32":
	default:
		return nil, fmt.Errorf("--kind %q: want auto, int8 or float32", kind)
	}
	om, err := pipeline.OpenModel(path, wantInt8)
	if err != nil {
		return nil, fmt.Errorf("demo model: %w", err)
	}
	return om, nil
}

// simSource makes the sim camera a tick source that renders one frame per tick (so a run is
// deterministic whatever the machine's speed) and hands its action to the loop, fitted to
// the model's action size.
type simSource struct {
	ctx     context.Context
	cam     *sim.Camera
	actions *tick.ActionMailbox
	act     []float32
}

func (s *simSource) Latest() (capture.Frame, bool) {
	f, err := s.cam.Next(s.ctx)
	if err != nil {
		return capture.Frame{}, false
	}
	clear(s.act)
	copy(s.act, f.PreAction)
	_ = s.actions.Put(s.act, f.Captured) // finite by construction
	return f, true
}

func (s *simSource) Stats() capture.Stats { return s.cam.Stats() }

// detector counts injected disturbances, detections and false alarms, and the prediction
// quality inside and outside disturbances. It is a sink; OnTick allocates nothing.
type detector struct {
	script   sim.Script
	grace    uint64 // frames after an event that still count
	detected []bool
	falseN   int
	prev     bool
	stop     func()
	end      time.Time
	first    time.Time
	last     time.Time
	duration time.Duration
	// runStart is the loop clock when the run began: --duration counts from it, so a slow
	// first step (a loaded machine) does not lengthen the run.
	runStart time.Time

	n, nd                uint64
	psnr, mse, psnrD, kl float64
	steps                uint64
}

func (d *detector) OnTick(r *tick.Result) {
	if d.first.IsZero() {
		d.first = r.Start
	}
	d.last = r.Start
	q := &r.Quality
	in := -1
	for i, e := range d.script {
		if r.Seq >= e.Start && r.Seq-e.Start < e.Frames+d.grace {
			in = i
			break
		}
		if e.Start > r.Seq {
			break
		}
	}
	active := d.script.Active(r.Seq) != 0
	d.steps++
	d.kl += q.KL
	if q.Decoded {
		if active {
			d.nd++
			d.psnrD += q.PSNR
		} else if in < 0 {
			d.n++
			d.psnr += q.PSNR
			d.mse += q.MSE
		}
	}
	if q.Anomaly {
		if in >= 0 {
			d.detected[in] = true
		} else if !d.prev {
			d.falseN++
		}
	}
	d.prev = q.Anomaly
	from := d.runStart
	if from.IsZero() {
		from = d.first
	}
	if d.duration > 0 && r.Start.Sub(from) >= d.duration && d.stop != nil {
		d.stop()
	}
}

// demo runs the demo until o.Duration passes on the loop's clock or ctx ends.
func demo(ctx context.Context, o demoOptions, stdout io.Writer) (*demoResult, error) {
	if !(o.Rate > 0 && o.Rate <= 1000) {
		return nil, fmt.Errorf("--rate %v: want (0, 1000] Hz", o.Rate)
	}
	if o.Duration < 0 || o.Every <= 0 || o.For <= 0 || o.For >= o.Every {
		return nil, fmt.Errorf("want --duration ≥ 0 and 0 < --disturb-for < --disturb-every (got %v, %v, %v)", o.Duration, o.For, o.Every)
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	res := &demoResult{}
	path := o.Model
	if path == "" {
		var err error
		if path, res.StandIn, err = findDemoModel(); err != nil {
			return nil, err
		}
		if res.StandIn {
			o.Log.Warn("the demo model is not in this checkout: using a stand-in model whose predictions of the scene are meaningless", "model", path)
		}
	}
	om, err := openDemoModel(path, o.Kind)
	if err != nil {
		return nil, err
	}
	arch := om.Arch
	res.ModelPath, res.Kind, res.Kernel = om.Path, om.Kind, om.Kernel
	if arch.ActionDim != sim.ActionDim {
		o.Log.Warn("the model's action size differs from the sim's: actions are cut or padded with zeros",
			"model", arch.ActionDim, "sim", sim.ActionDim)
	}
	clock := o.Clock
	if clock == nil {
		clock = tick.NewRealClock()
	}
	script := demoScript(o)
	cam, err := sim.NewCamera(sim.CameraConfig{World: sim.WorldConfig{Seed: o.Seed}, Explore: true, Script: script, Now: clock.Now})
	if err != nil {
		return nil, err
	}
	defer cam.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src := &simSource{ctx: ctx, cam: cam, actions: tick.NewActionMailbox(arch.ActionDim), act: make([]float32, arch.ActionDim)}
	pre := cam.PreprocessConfig()

	det := &detector{script: script, grace: uint64(o.Grace.Seconds() * o.Rate), detected: make([]bool, len(script)),
		stop: cancel, duration: o.Duration}
	sinks := []tick.Sink{det}

	res.ROS = "no ROS master (ROS_MASTER_URI unset); rssmd run --ros publishes the same outputs to ROS"
	if node, msg := demoROS(o, om); node != nil {
		defer node.Close()
		sinks = append(sinks, node)
		res.ROS = msg
	} else if msg != "" {
		res.ROS = msg
	}
	o.Log.Info("ros", "status", res.ROS)

	var p *pipeline.Pipeline // the dashboard serves its metrics once it exists
	var dash *dashboard.Dashboard
	if o.Addr != "off" {
		kinds := func(k uint8) string { return sim.Kind(k).String() }
		metricsHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.Metrics().Handler().ServeHTTP(w, r) })
		dash, err = dashboard.New(dashboard.Config{Addr: o.Addr, Model: om.NewStepper(), Horizon: o.Horizon,
			Disturbance:     func(seq uint64) uint8 { return uint8(cam.Disturbed(seq)) },
			DisturbanceName: kinds,
			Handlers:        map[string]http.Handler{"/metrics": metricsHandler},
			Log:             o.Log.With("component", "dashboard"),
			Info: dashboard.Info{Model: om.Path, Kind: om.Kind, Kernel: om.Kernel, Deter: arch.Deter, Stoch: arch.Stoch,
				ActionDim: arch.ActionDim, Rate: o.Rate, Source: fmt.Sprintf("sim arm camera %dx%d (seed %d)", cam.Config().World.Width, cam.Config().World.Height, o.Seed),
				Extra: map[string]string{
					"disturbances": fmt.Sprintf("occlude, dim, shove, brighten: one every %v for %v", o.Every, o.For),
					"ROS":          res.ROS,
				}},
		}, arch)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, dash)
	}
	conf := pipeline.Defaults()
	conf.Model, conf.Rate, conf.ELBO = om.Path, o.Rate, true
	// The camera renders on demand, stamped with the tick's own clock: never stale.
	conf.MaxFrameAge = time.Second
	conf.MetricsAddr = "127.0.0.1:0" // served by the dashboard, not a listener of its own
	p, err = pipeline.New(conf, pipeline.Deps{Model: om, Source: src, SourceName: "sim", Preprocess: &pre, Actions: src.actions,
		Sinks: sinks, Clock: clock, NoMetricsListener: true}, o.Log)
	if err != nil {
		return nil, err
	}
	if dash != nil {
		if err := dash.Start(); err != nil {
			p.Close()
			return nil, err
		}
		defer dash.Close()
	}
	fmt.Fprintf(stdout, "rssmd demo: %s model %s%s at %g Hz; a disturbance every %v for %v\n",
		om.Kind, om.Path, kernelNote(om.Kernel), o.Rate, o.Every, o.For)
	if res.StandIn {
		fmt.Fprintln(stdout, "note: stand-in model (the demo model is not in this checkout): predictions are meaningless")
	}
	url := ""
	if dash != nil {
		url = dash.URL()
	}
	if o.OnReady != nil {
		o.OnReady(url)
	}
	det.runStart = clock.Now()
	s, err := p.Run(ctx)
	res.Wall = s.Wall
	res.Summary = s.Summary
	for i, e := range script {
		// Events the camera showed to their end were injected.
		if e.Start+e.Frames <= cam.Stats().Frames {
			res.Injected++
			if det.detected[i] {
				res.Detected++
			}
		}
	}
	res.FalseAlarms = det.falseN
	res.Minutes = det.last.Sub(det.first).Minutes()
	if det.n > 0 {
		res.MeanPSNR, res.MeanMSE = det.psnr/float64(det.n), det.mse/float64(det.n)
	}
	if det.nd > 0 {
		res.MeanPSNRDisturbed = det.psnrD / float64(det.nd)
	}
	if det.steps > 0 {
		res.MeanKL = det.kl / float64(det.steps)
	}
	res.Decoded, res.DecodedDistd = det.n, det.nd
	return res, err
}

func kernelNote(k string) string {
	if k == "" {
		return ""
	}
	return " (kernels: " + k + ")"
}

// demoROS starts the ROS node when ROS_MASTER_URI names a master that answers; otherwise it
// returns a line saying why not.
func demoROS(o demoOptions, om *pipeline.Opened) (*ros.Node, string) {
	if os.Getenv("ROS_MASTER_URI") == "" {
		return nil, ""
	}
	renv, err := ros.ParseEnv(os.Getenv, nil)
	if err != nil {
		return nil, fmt.Sprintf("ROS environment: %v", err)
	}
	c, err := net.DialTimeout("tcp", renv.MasterAddr, 500*time.Millisecond)
	if err != nil {
		return nil, fmt.Sprintf("ROS master %s not reachable (%v): not publishing", renv.MasterURI, err)
	}
	c.Close()
	om.ShareDecodes() // before the loop takes om.Stepper: the node's forecast is the monitor's next prediction
	node, err := ros.NewNode(ros.Config{Env: renv, Arch: om.Arch, Model: om.NewStepper(), Period: time.Duration(float64(time.Second) / o.Rate),
		Predict: om.Arch.Decoder != "", KernelPath: om.Label(), Source: "sim", Log: o.Log.With("component", "ros")})
	if err != nil {
		return nil, fmt.Sprintf("ROS node: %v", err)
	}
	return node, fmt.Sprintf("publishing to ROS master %s as %s", renv.MasterURI, renv.NodeName())
}

func printDemoSummary(w io.Writer, r *demoResult) {
	fmt.Fprintf(w, "\n--- rssmd demo summary (%s model%s) ---\n", r.Kind, kernelNote(r.Kernel))
	fmt.Fprintf(w, "ticks %d (%d steps) in %v; deadline misses %d (%d periods skipped)\n",
		r.Ticks, r.Steps, r.Wall.Round(time.Millisecond), r.DeadlineMisses, r.SkippedTicks)
	fmt.Fprintf(w, "latency (frame taken → result ready): median %v, p99 %v, max %v\n", r.LatencyMedian, r.LatencyP99, r.LatencyMax)
	fmt.Fprintf(w, "prediction: mean PSNR %.2f dB (MSE %.5f) undisturbed, %s during disturbances; mean KL %.3f nats\n",
		r.MeanPSNR, r.MeanMSE, dbOrNA(r.MeanPSNRDisturbed, r.DecodedDistd), r.MeanKL)
	fmt.Fprintf(w, "anomalies: %d injected, %d detected; %d false alarms (%.2f per minute); %d anomalous ticks\n",
		r.Injected, r.Detected, r.FalseAlarms, perMinute(r.FalseAlarms, r.Minutes), r.Anomalies)
	fmt.Fprintf(w, "ROS: %s\n", r.ROS)
	if r.StandIn {
		fmt.Fprintln(w, "(stand-in model: detection numbers are not meaningful)")
	}
}

func dbOrNA(v float64, n uint64) string {
	if n == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + " dB"
}

func perMinute(n int, minutes float64) float64 {
	if minutes <= 0 {
		return 0
	}
	return float64(n) / minutes
}
