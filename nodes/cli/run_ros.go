package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rssmd/rssmd/nodes/ros"
	"github.com/rssmd/rssmd/runtime/pipeline"
	"github.com/rssmd/rssmd/runtime/tick"
	"github.com/rssmd/rssmd/systemd/sdnotify"
)

// This file wires `rssmd run` to ROS and systemd. The run command calls splitROSArgs before
// parsing its flags, and runROS instead of pipeline.New when wantROS says so.

// splitROSArgs separates ROS arguments (name:=value: __name:=, __ns:=, remaps, _param:=)
// from the command's flags, which the flag package would refuse.
func splitROSArgs(args []string) (flags, rosArgs []string) {
	for _, a := range args {
		if strings.Contains(a, ":=") {
			rosArgs = append(rosArgs, a)
		} else {
			flags = append(flags, a)
		}
	}
	return flags, rosArgs
}

// wantROS: rssmd is a ROS node when ROS_MASTER_URI is set, --ros is given, or ROS arguments
// were passed.
func wantROS(rosFlag bool, rosArgs []string) bool {
	return rosFlag || os.Getenv("ROS_MASTER_URI") != "" || len(rosArgs) > 0
}

// runROS runs c as the ROS node: the pipeline with the node as sink, action input and (for
// --source ros) frame source, on ROS time; sd_notify READY once model, source and node are up
// and the watchdog fed by the tick loop's progress.
func runROS(env *Env, layers []pipeline.Layer, rosArgs []string) (pipeline.Summary, error) {
	renv, err := ros.ParseEnv(os.Getenv, rosArgs)
	if err != nil {
		return pipeline.Summary{}, err
	}
	if renv.MasterURI == "" {
		renv.MasterURI, renv.MasterAddr = "http://127.0.0.1:11311", "127.0.0.1:11311"
	}
	if err := ros.AlignNamespaceEnv(renv); err != nil {
		return pipeline.Summary{}, err
	}
	params, unknown, masterErr, err := ros.LoadParams(env.Ctx, renv, 3*time.Second)
	if err != nil {
		return pipeline.Summary{}, err
	}
	if masterErr != nil {
		env.Log.Warn("ROS parameters: command line only", "err", masterErr)
	}
	if len(unknown) > 0 {
		env.Log.Warn("unknown private ROS parameters ignored", "node", renv.NodeName(), "params", unknown)
	}
	r, err := pipeline.Resolve(append(layers, rosLayer(params))...)
	if err != nil {
		return pipeline.Summary{}, err
	}
	logWarnings(env, r)
	c := r.Config
	if c.Model == "" || c.Source == "" {
		return pipeline.Summary{}, fmt.Errorf("%w: no model or source (--model/--source or ~model/~source/~device)", pipeline.ErrConfig)
	}
	notify, err := sdnotify.New(os.Getenv("NOTIFY_SOCKET"))
	if err != nil {
		return pipeline.Summary{}, err
	}
	defer notify.Close()
	if c.Source != pipeline.SourceROS {
		if err := pipeline.CheckSource(c); err != nil { // before the model loads
			return pipeline.Summary{}, err
		}
	}
	notify.Status("loading model")
	om, err := pipeline.OpenModel(c.Model, c.Int8)
	if err != nil {
		return pipeline.Summary{}, err
	}
	imageInput := c.Source == pipeline.SourceROS
	var loop loopRef // the nodes exist before the loop (they are its sinks)
	hasDecoder := om.Arch.Decoder != ""
	if hasDecoder && (c.Predict || c.Reconstruction) {
		om.ShareDecodes() // the node's images and the monitor's are decoded once
	}
	node, err := ros.NewNode(ros.Config{
		Env: renv, Arch: om.Arch, Model: om.NewStepper(), Period: time.Duration(float64(time.Second) / c.Rate),
		FrameID: c.FrameID, ImageInput: imageInput, MaxHorizon: c.MaxHorizon, DiagPeriod: c.DiagnosticsPeriod,
		Predict: hasDecoder && c.Predict, Reconstruction: hasDecoder && c.Reconstruction,
		KernelPath: om.Label(), Source: c.Source, Log: env.Log.With("component", "ros"),
		// The loop exists only after the node (it is one of its sinks): resolve it lazily.
		LoopStats: loop.Stats, Reset: loop.Reset,
	})
	if err != nil {
		return pipeline.Summary{}, err
	}
	defer node.Close()
	deps := pipeline.Deps{Actions: node.Actions(), Sinks: []tick.Sink{node}, Clock: node.Clock(), Model: om}
	if imageInput {
		deps.Source, deps.SourceName = node.Images(), "ROS "+renv.NodeName()+"/image"
	}
	p, err := pipeline.New(c, deps, env.Log)
	if err != nil {
		return pipeline.Summary{}, err
	}
	loop.Set(p.Loop())
	registerCollector(env, p, ros.NewCollector(node.Stats))
	select {
	case <-node.Ready():
		notify.Ready(fmt.Sprintf("running at %.1f Hz as %s", c.Rate, renv.NodeName()))
	case <-time.After(10 * time.Second):
		// rssmd runs without a master and registers when one appears.
		notify.Ready(fmt.Sprintf("running at %.1f Hz; ROS master %s not reachable yet, retrying", c.Rate, renv.MasterURI))
	case <-env.Ctx.Done():
	}
	return runNotified(env, p, notify)
}

// rosLayer is the private ROS parameters as a settings layer (already typed by LoadParams).
func rosLayer(p ros.ParamValues) pipeline.Layer {
	return pipeline.Layer{Name: "ROS parameters", Values: p}
}

// runNotified runs the pipeline with the systemd watchdog fed by the loop's progress.
func runNotified(env *Env, p *pipeline.Pipeline, notify *sdnotify.Notifier) (pipeline.Summary, error) {
	stop := make(chan struct{})
	defer close(stop)
	if iv, err := sdnotify.WatchdogInterval(os.Getenv, os.Getpid()); err == nil && iv > 0 {
		if wd, err := sdnotify.NewWatchdog(notify, iv); err == nil {
			wd.Progress = func() uint64 { return p.Loop().Stats().Ticks }
			go wd.Run(stop)
		}
	}
	ctx, cancel := context.WithCancel(env.Ctx)
	defer cancel()
	s, err := p.Run(ctx)
	notify.Stopping()
	return s, err
}

// registerCollector adds a node's counters (reconnects, rejected inputs, ...) to the run's
// Prometheus registry (nothing when metrics are off).
func registerCollector(env *Env, p *pipeline.Pipeline, c prometheus.Collector) {
	m := p.Metrics()
	if m == nil {
		return
	}
	if err := m.Registry().Register(c); err != nil {
		env.Log.Warn("node metrics not registered", "err", err)
	}
}

// loopRef resolves the tick loop for the ROS nodes, which are created before it (they are
// among its sinks): ~reset and /diagnostics' live counters go through it.
type loopRef struct{ p atomic.Pointer[tick.Loop] }

func (l *loopRef) Set(loop *tick.Loop) { l.p.Store(loop) }

// Stats are the loop's live counters (false before it exists).
func (l *loopRef) Stats() (tick.Stats, bool) {
	if loop := l.p.Load(); loop != nil {
		return loop.Stats(), true
	}
	return tick.Stats{}, false
}

// Reset asks the loop to start a new episode at its next step.
func (l *loopRef) Reset() error {
	loop := l.p.Load()
	if loop == nil {
		return errors.New("the filter is not running yet")
	}
	loop.RequestReset()
	return nil
}
