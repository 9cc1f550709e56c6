package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/nodes/ros2"
	"github.com/rssmd/rssmd/nodes/ros2/msg"
	"github.com/rssmd/rssmd/nodes/ros2/names"
	"github.com/rssmd/rssmd/nodes/ros2/rtps"
	"github.com/rssmd/rssmd/runtime/pipeline"
	"github.com/rssmd/rssmd/runtime/tick"
	"github.com/rssmd/rssmd/systemd/sdnotify"
)

// splitROS2Args takes the --ros-args sections (ROS 2's command line) out of args; ros2 is
// nil when there are none.
func splitROS2Args(args []string) (rest []string, ros2 *names.Args, err error) {
	has := false
	for _, a := range args {
		if a == "--ros-args" {
			has = true
			break
		}
	}
	if !has {
		return args, nil, nil
	}
	ra, err := names.ParseArgs(args)
	if err != nil {
		return nil, nil, err
	}
	return ra.Rest, ra, nil
}

// runROS2 runs the pipeline as a ROS 2 node: settings from the flags and config file, then
// the node's -p parameters and --params-file; the node fed by the pipeline's hub.
func runROS2(env *Env, layers []pipeline.Layer, args *names.Args) (pipeline.Summary, error) {
	rc, err := rtps.ConfigFromEnv(os.Getenv)
	if err != nil {
		return pipeline.Summary{}, err
	}
	node, err := names.NewNode(ros2.DefaultName, "/", args)
	if err != nil {
		return pipeline.Summary{}, err
	}
	params, err := node.Params(args)
	if err != nil {
		return pipeline.Summary{}, err
	}
	r, err := pipeline.Resolve(append(layers, pipeline.Layer{Name: "ROS 2 parameters", Values: params, UnknownOK: true})...)
	if err != nil {
		return pipeline.Summary{}, err
	}
	logWarnings(env, r)
	c := r.Config
	if c.Model == "" || c.Source == "" {
		return pipeline.Summary{}, fmt.Errorf("%w: no model or source (--model/--source or -p model:=... -p source:=...)", pipeline.ErrConfig)
	}
	notify, err := sdnotify.New(os.Getenv("NOTIFY_SOCKET"))
	if err != nil {
		return pipeline.Summary{}, err
	}
	defer notify.Close()
	notify.Status("loading model")
	om, err := pipeline.OpenModel(c.Model, c.Int8)
	if err != nil {
		return pipeline.Summary{}, err
	}
	gid := msg.GidSizeIron
	if strings.EqualFold(os.Getenv("ROS_DISTRO"), "humble") {
		gid = msg.GidSizeHumble
	}
	hub := core.NewHub(om.Arch)
	imageInput := c.Source == pipeline.SourceROS
	var loop loopRef // the nodes exist before the loop (they are its sinks)
	hasDecoder := om.Arch.Decoder != ""
	if hasDecoder && (c.Predict || c.Reconstruction) {
		om.ShareDecodes() // the node's images and the monitor's are decoded once
	}
	n, err := ros2.NewNode(env.Ctx, ros2.Config{
		RTPS: rc, Node: node, Arch: om.Arch, Model: om.NewStepper(), Period: time.Duration(float64(time.Second) / c.Rate),
		FrameID: c.FrameID, ImageInput: imageInput, MaxHorizon: c.MaxHorizon, DiagPeriod: c.DiagnosticsPeriod,
		Predict: hasDecoder && c.Predict, Reconstruction: hasDecoder && c.Reconstruction,
		KernelPath: om.Label(), Source: c.Source, Hub: hub, GidSize: gid, Log: env.Log.With("component", "ros2"),
		LoopStats: loop.Stats, Reset: loop.Reset,
	})
	if err != nil {
		return pipeline.Summary{}, err
	}
	defer n.Close()
	deps := pipeline.Deps{Model: om, Actions: n.Actions(), Sinks: []tick.Sink{hub}}
	if imageInput {
		deps.Source, deps.SourceName = n.Images(), "ROS 2 "+node.FQN()+"/image"
	}
	p, err := pipeline.New(c, deps, env.Log)
	if err != nil {
		return pipeline.Summary{}, err
	}
	loop.Set(p.Loop())
	registerCollector(env, p, ros2.NewCollector(n))
	notify.Ready(fmt.Sprintf("running at %.1f Hz as ROS 2 node %s (domain %d)", c.Rate, node.FQN(), rc.DomainID))
	return runNotified(env, p, notify)
}
