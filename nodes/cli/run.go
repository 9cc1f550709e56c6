package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/rssmd/rssmd/runtime/pipeline"
)

// runRun is `rssmd run`: the real-time state estimator (camera or replay → filter → monitor →
// metrics, recording and log) until --duration passes or SIGINT/SIGTERM; with --ros or --ros2
// it is a ROS 1 or ROS 2 node. Every setting comes from pipeline.Options.
func runRun(env *Env) error {
	fs := newFlags(env, "run")
	configPath := fs.String("config", "", "YAML or JSON config file of settings (keys as in README's table); explicit flags override it")
	flags := pipeline.BindFlags(fs)
	rosFlag := fs.Bool("ros", false, "run as a ROS 1 node (also when ROS_MASTER_URI is set or name:=value arguments are given)")
	ros2Flag := fs.Bool("ros2", false, "run as a ROS 2 node (DDS-RTPS: ROS_DOMAIN_ID, ROS_AUTOMATIC_DISCOVERY_RANGE, ROS_STATIC_PEERS; ROS 2 arguments after --ros-args)")
	args, ros2Args, err := splitROS2Args(env.Args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "rssmd run: %v\n", err)
		return errUsage
	}
	args, rosArgs := splitROSArgs(args)
	if err := parse(fs, args); err != nil {
		return err
	}
	ros2 := *ros2Flag || ros2Args != nil
	if ros2 && (*rosFlag || len(rosArgs) > 0) {
		fmt.Fprintln(env.Stderr, "rssmd run: ROS 2 (--ros2, --ros-args) and ROS 1 (--ros, name:=value) cannot be combined")
		return errUsage
	}
	layers := []pipeline.Layer{}
	if *configPath != "" {
		l, err := pipeline.LoadConfigLayer(*configPath)
		if err != nil {
			return err
		}
		layers = append(layers, l)
	}
	layers = append(layers, flags.Layer())
	switch {
	case ros2:
		s, err := runROS2(env, layers, ros2Args)
		printSummary(env.Stdout, s)
		return err
	case wantROS(*rosFlag, rosArgs):
		// As a ROS node, model and source may come from the parameter server: runROS resolves
		// the settings after reading it.
		s, err := runROS(env, layers, rosArgs)
		printSummary(env.Stdout, s)
		return err
	}
	r, err := pipeline.Resolve(layers...)
	if err != nil {
		return err
	}
	logWarnings(env, r)
	c := r.Config
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

// logWarnings reports deprecated spellings and unknown keys the settings used.
func logWarnings(env *Env, r pipeline.Resolved) {
	for _, w := range r.Warnings {
		env.Log.Warn("deprecated setting", "where", w)
	}
	if len(r.Unknown) > 0 {
		env.Log.Warn("unknown parameters ignored", "params", r.Unknown)
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
	if n := s.ImageDecodes + s.ImageDecodesShared; n > 0 && s.Steps > 0 {
		fmt.Fprintf(w, "image decodes (monitor and nodes): %d run, %d shared, %.2f per step\n",
			s.ImageDecodes, s.ImageDecodesShared, float64(s.ImageDecodes)/float64(s.Steps))
	}
	if s.RecordWritten+s.RecordDropped > 0 {
		fmt.Fprintf(w, "recorded %d ticks, dropped %d\n", s.RecordWritten, s.RecordDropped)
	}
}
