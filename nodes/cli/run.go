package cli

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/rssmd/rssmd/runtime/pipeline"
)

// runRun is `rssmd run`: the real-time state estimator without ROS (camera or replay →
// filter → monitor → metrics, recording and log) until --duration passes or SIGINT/SIGTERM.
func runRun(env *Env) error {
	fs := newFlags(env, "run")
	var c pipeline.Config
	var decodeEvery int
	var duration, actionMaxAge, maxFrameAge time.Duration
	configPath := fs.String("config", "", "YAML or JSON config file (flags given explicitly override it)")
	fs.StringVar(&c.Model, "model", "", "model: original folder (config.yaml + model.pt), .pt inside one, or bundle")
	fs.BoolVar(&c.Int8, "int8", false, "run the int8 path (an int8 bundle implies it)")
	fs.StringVar(&c.Source, "source", "", "frame source: v4l2:/dev/videoN or replay:FILE.npz")
	fs.StringVar(&c.Format, "format", "", "camera pixel format: YUYV (default), UYVY or MJPEG")
	fs.IntVar(&c.Width, "width", 0, "camera width (default 640)")
	fs.IntVar(&c.Height, "height", 0, "camera height (default 480)")
	fs.Float64Var(&c.FPS, "fps", 0, "camera frame rate (default: the driver's)")
	fs.StringVar(&c.Crop, "crop", "full", "region of interest: full or center (largest centred square)")
	fs.StringVar(&c.Filter, "filter", "bilinear", "resampling: bilinear or area")
	fs.Float64Var(&c.ReplayRate, "replay-rate", 0, "replay frame rate in fps (default: --rate)")
	fs.BoolVar(&c.Loop, "loop", false, "loop the replay instead of stopping at its end")
	fs.Float64Var(&c.Rate, "rate", 50, "tick rate, Hz")
	fs.DurationVar(&duration, "duration", 0, "run time (0: until stopped)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "127.0.0.1:9108", `serve Prometheus /metrics here ("off" disables)`)
	fs.StringVar(&c.Record, "record", "", "write a tick log (msgp) to this file")
	fs.BoolVar(&c.RecordFrames, "record-frames", false, "keep the 64x64 frames in the tick log (calibration data)")
	fs.IntVar(&decodeEvery, "decode-every", 1, "decode the monitor's prediction every N-th step (0: never)")
	fs.BoolVar(&c.ELBO, "elbo", false, "also compute the per-step ELBO (one more decode)")
	fs.IntVar(&c.Horizon, "horizon", 1, "open-loop prediction horizon k of the monitor")
	fs.StringVar(&c.ActionPolicy, "action-policy", "hold", "when no new action arrived: hold or zeros")
	fs.DurationVar(&actionMaxAge, "action-max-age", 500*time.Millisecond, "older actions are stale (zeros)")
	fs.DurationVar(&maxFrameAge, "max-frame-age", 100*time.Millisecond, "older frames are flagged stale")
	fs.IntVar(&c.RealtimePriority, "rt-priority", 0, "SCHED_FIFO priority 1..99 for the control thread (0: off)")
	rosFlag := fs.Bool("ros", false, "run as a ROS node (also when ROS_MASTER_URI is set or name:=value arguments are given)")
	args, rosArgs := splitROSArgs(env.Args)
	if err := parse(fs, args); err != nil {
		return err
	}
	c.Duration, c.ActionMaxAge, c.MaxFrameAge = pipeline.Duration(duration), pipeline.Duration(actionMaxAge), pipeline.Duration(maxFrameAge)
	c.DecodeEvery = &decodeEvery
	if *configPath != "" {
		fc, err := pipeline.LoadConfig(*configPath)
		if err != nil {
			return err
		}
		fs.Visit(func(f *flag.Flag) { overrideFlag(&fc, &c, f.Name) })
		c = fc
	}
	// As a ROS node, ~model and ~source may come from the parameter server: runROS checks
	// them after applying the parameters.
	if wantROS(*rosFlag, rosArgs) {
		s, err := runROS(env, c, rosArgs)
		printSummary(env.Stdout, s)
		return err
	}
	if c.Model == "" || c.Source == "" {
		fmt.Fprintln(env.Stderr, "rssmd run: --model and --source are required (or set them in --config)")
		fs.Usage()
		return errUsage
	}
	p, err := pipeline.New(c, pipeline.Deps{}, env.Log)
	if err != nil {
		return err
	}
	s, err := p.Run(env.Ctx)
	printSummary(env.Stdout, s)
	return err
}

// overrideFlag copies the field behind an explicitly given flag from flags into file.
func overrideFlag(file, flags *pipeline.Config, name string) {
	switch name {
	case "model":
		file.Model = flags.Model
	case "int8":
		file.Int8 = flags.Int8
	case "source":
		file.Source = flags.Source
	case "format":
		file.Format = flags.Format
	case "width":
		file.Width = flags.Width
	case "height":
		file.Height = flags.Height
	case "fps":
		file.FPS = flags.FPS
	case "crop":
		file.Crop = flags.Crop
	case "filter":
		file.Filter = flags.Filter
	case "replay-rate":
		file.ReplayRate = flags.ReplayRate
	case "loop":
		file.Loop = flags.Loop
	case "rate":
		file.Rate = flags.Rate
	case "duration":
		file.Duration = flags.Duration
	case "metrics-addr":
		file.MetricsAddr = flags.MetricsAddr
	case "record":
		file.Record = flags.Record
	case "record-frames":
		file.RecordFrames = flags.RecordFrames
	case "decode-every":
		file.DecodeEvery = flags.DecodeEvery
	case "elbo":
		file.ELBO = flags.ELBO
	case "horizon":
		file.Horizon = flags.Horizon
	case "action-policy":
		file.ActionPolicy = flags.ActionPolicy
	case "action-max-age":
		file.ActionMaxAge = flags.ActionMaxAge
	case "max-frame-age":
		file.MaxFrameAge = flags.MaxFrameAge
	case "rt-priority":
		file.RealtimePriority = flags.RealtimePriority
	}
}

func printSummary(w io.Writer, s pipeline.Summary) {
	fmt.Fprintf(w, "ticks %d in %v: %d steps, %d without a new frame, %d deadline misses (%d periods skipped)\n",
		s.Ticks, s.Wall.Round(time.Millisecond), s.Steps, s.NoFrame, s.DeadlineMisses, s.SkippedTicks)
	fmt.Fprintf(w, "latency (frame taken → result ready) median %v p99 %v max %v over %d steps\n",
		s.LatencyMedian, s.LatencyP99, s.LatencyMax, s.Samples)
	fmt.Fprintf(w, "frames: %d stale, %d refused; source: %d frames, %d dropped, %d skipped, %d reconnects\n",
		s.StaleFrames, s.FrameErrors, s.Source.Frames, s.Source.Dropped, s.Source.Skipped, s.Source.Reconnects)
	fmt.Fprintf(w, "actions: %d fresh, %d held, %d missing, %d stale, %d rejected\n",
		s.ActionsFresh, s.ActionsHeld, s.ActionsMissing, s.ActionsStale, s.ActionsRejected)
	fmt.Fprintf(w, "prediction: mean MSE %.5f, mean PSNR %.2f dB over %d decoded steps; mean KL %.3f nats; %d anomalous ticks\n",
		s.MeanMSE, s.MeanPSNR, s.Decoded, s.MeanKL, s.Anomalies)
	if s.RecordWritten+s.RecordDropped > 0 {
		fmt.Fprintf(w, "recorded %d ticks, dropped %d\n", s.RecordWritten, s.RecordDropped)
	}
}
