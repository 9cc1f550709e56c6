package ros

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	goroslib "github.com/bluenviron/goroslib/v2"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/runtime/tick"
)

// Config configures a Node. Zero values take the documented defaults.
type Config struct {
	// Env is the ROS environment (required; MasterAddr must be set).
	Env *Env
	// Arch is the model's architecture (required): the sizes of every message.
	Arch *model.Arch
	// Model is a step runner used only by the node's own goroutine for ~predicted_image,
	// ~reconstruction and ~imagine. It must not be the tick loop's instance (runners keep
	// scratch buffers); nil disables those outputs and ~imagine answers with an error.
	Model model.Stepper
	// Period is the tick period (required): ~predicted_image is stamped capture + Period.
	Period time.Duration
	// FrameID is the header frame_id of every stamped output (default "camera").
	FrameID string
	// ImageInput subscribes ~image and ~image/compressed; Images() is then the frame source.
	ImageInput bool
	// Predict publishes ~predicted_image: the prior one period ahead, decoded.
	Predict bool
	// Reconstruction publishes ~reconstruction: the posterior state, decoded.
	Reconstruction bool
	// MaxHorizon bounds an ~imagine request (default 50).
	MaxHorizon int
	// DiagPeriod is the /diagnostics period (default 1s).
	DiagPeriod time.Duration
	// MasterPoll is how often the node checks it is still registered (default 1s).
	MasterPoll time.Duration
	// RetryMin and RetryMax bound the reconnection backoff (defaults 250ms and 5s).
	RetryMin, RetryMax time.Duration
	// Reset serves ~reset: it must put the filter back to its initial state. nil: the service
	// answers success=false.
	Reset func() error
	// KernelPath and Source are reported in /diagnostics.
	KernelPath, Source string
	// LoopStats, when set, gives /diagnostics the loop's live counters (ok false until the
	// loop exists), so a vanished camera shows while no tick reaches the node.
	LoopStats func() (s tick.Stats, ok bool)
	// Hub is the tick sink shared with other nodes (ROS 2); nil: the node has its own and
	// its OnTick feeds it.
	Hub *core.Hub
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("ros: invalid config")

// Node is rssmd's ROS node. It is a tick.Sink (OnTick) and its Actions and Images are the
// loop's action input and frame source; the goroslib node behind it is re-created whenever the
// master forgets it, while the tick loop goes on. One goroutine (the worker) builds and writes
// every message and owns Config.Model; another (the supervisor) owns the goroslib node.
type Node struct {
	conf    Config
	log     *slog.Logger
	actions *tick.ActionMailbox
	images  *ImageSource

	hub    *core.Hub
	feed   *core.Feed
	worker *core.Worker
	warn   core.WarnLimiter

	ep         atomic.Pointer[endpoints]
	reconnects atomic.Uint64
	connects   atomic.Uint64
	published  atomic.Uint64
	unsent     atomic.Uint64 // results dropped while no master was reachable
	simTime    atomic.Bool
	ready      chan struct{}
	readyOnce  sync.Once

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// endpoints is one incarnation of the goroslib node and everything registered on it.
type endpoints struct {
	node                    *goroslib.Node
	latent, vector, quality *goroslib.Publisher
	reward                  *goroslib.Publisher
	predicted, recon, diag  *goroslib.Publisher
	subs                    []*goroslib.Subscriber
	srvs                    []*goroslib.ServiceProvider
}

func (e *endpoints) close() {
	// Endpoints first (they unregister), then the node; goroslib closes in any order, but
	// this keeps the master's view clean when it is still up.
	for _, s := range e.srvs {
		s.Close()
	}
	for _, s := range e.subs {
		s.Close()
	}
	for _, p := range []*goroslib.Publisher{e.latent, e.vector, e.quality, e.reward, e.predicted, e.recon, e.diag} {
		if p != nil {
			p.Close()
		}
	}
	e.node.Close()
}

// NewNode validates conf and starts the node: it returns at once and connects in the
// background (Ready reports the first registration), retrying with backoff while no master is
// reachable. Close stops it.
//
// goroslib takes ROS_NAMESPACE from the environment in preference to its configuration, so a
// ROS_NAMESPACE that disagrees with Env's namespace (__ns:= wins, as in ROS) is an error here:
// the command settles it once for the process (AlignNamespaceEnv) instead of a library
// rewriting the environment behind its caller.
func NewNode(conf Config) (*Node, error) {
	switch {
	case conf.Env == nil:
		return nil, fmt.Errorf("%w: Env is nil", ErrConfig)
	case conf.Env.MasterAddr == "":
		return nil, fmt.Errorf("%w: no master (ROS_MASTER_URI unset)", ErrConfig)
	}
	if err := core.CheckOutputs(conf.Arch, conf.Model, conf.Period, conf.MaxHorizon, conf.Predict, conf.Reconstruction); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	core.OutputDefaults(&conf.FrameID, &conf.MaxHorizon, &conf.DiagPeriod)
	if conf.MasterPoll <= 0 {
		conf.MasterPoll = time.Second
	}
	if conf.RetryMin <= 0 {
		conf.RetryMin = 250 * time.Millisecond
	}
	if conf.RetryMax < conf.RetryMin {
		conf.RetryMax = max(5*time.Second, conf.RetryMin)
	}
	if conf.Log == nil {
		conf.Log = slog.Default()
	}
	if v, ok := os.LookupEnv("ROS_NAMESPACE"); ok && v != "" && !sameNamespace(v, conf.Env.Namespace) {
		return nil, fmt.Errorf("%w: ROS_NAMESPACE=%q disagrees with the node's namespace %q (call AlignNamespaceEnv first)", ErrConfig, v, conf.Env.Namespace)
	}
	n := &Node{
		conf:    conf,
		log:     conf.Log.With("node", conf.Env.NodeName()),
		actions: tick.NewActionMailbox(conf.Arch.ActionDim),
		hub:     conf.Hub,
		ready:   make(chan struct{}),
	}
	if n.hub == nil {
		n.hub = core.NewHub(conf.Arch)
	}
	n.feed = n.hub.Subscribe()
	n.worker = n.newWorker()
	n.images = NewImageSource(n.Now)
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(2)
	go n.supervise(ctx)
	go n.work(ctx)
	return n, nil
}

// AlignNamespaceEnv makes the process's ROS_NAMESPACE agree with env's namespace (which
// __ns:= may have changed), because goroslib reads the variable itself. Commands call it once,
// before NewNode.
func AlignNamespaceEnv(env *Env) error {
	if v, ok := os.LookupEnv("ROS_NAMESPACE"); ok && v != "" && !sameNamespace(v, env.Namespace) {
		return os.Setenv("ROS_NAMESPACE", env.Namespace)
	}
	return nil
}

func sameNamespace(written, resolved string) bool {
	ns, err := CleanNamespace(written)
	return err == nil && ns == resolved
}

// Close unregisters and stops the node.
func (n *Node) Close() {
	n.cancel()
	n.wg.Wait()
}

// Actions is the ~action subscription's mailbox (the loop's tick.ActionInput).
func (n *Node) Actions() *tick.ActionMailbox { return n.actions }

// Images is the ~image frame source (used when Config.ImageInput is set).
func (n *Node) Images() *ImageSource { return n.images }

// Ready is closed once the node registered with a master for the first time.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Stats are the node's counters.
type Stats struct {
	Connected                       bool
	Connects                        uint64 // successful registrations (first one included)
	Reconnects                      uint64 // registrations after a lost master
	Published                       uint64 // ticks published
	Unsent                          uint64 // ticks not published because no master was reachable
	SimTime                         bool
	ActionsRejected, ImagesRejected uint64
}

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	ir, _ := n.images.Rejected()
	return Stats{
		Connected: n.ep.Load() != nil, Connects: n.connects.Load(), Reconnects: n.reconnects.Load(),
		Published: n.published.Load(), Unsent: n.unsent.Load(), SimTime: n.simTime.Load(),
		ActionsRejected: n.actions.Rejected(), ImagesRejected: ir,
	}
}

// Now is ROS time: /clock when use_sim_time is set, else the wall clock.
func (n *Node) Now() time.Time {
	if n.simTime.Load() {
		if ep := n.ep.Load(); ep != nil {
			return ep.node.TimeNow()
		}
	}
	return time.Now()
}

// OnTick implements tick.Sink for a node with its own hub (Config.Hub nil): the hub copies
// the result (no allocation, no blocking) and wakes the worker, which publishes the newest
// result only. With a shared hub, the hub is the loop's sink instead.
func (n *Node) OnTick(r *tick.Result) { n.hub.OnTick(r) }

var _ tick.Sink = (*Node)(nil)
