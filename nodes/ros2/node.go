package ros2

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/nodes/ros"
	"github.com/rssmd/rssmd/nodes/ros2/msg"
	"github.com/rssmd/rssmd/nodes/ros2/names"
	"github.com/rssmd/rssmd/nodes/ros2/rtps"
	"github.com/rssmd/rssmd/runtime/tick"
)

// DefaultName is the node name without a __node remap.
const DefaultName = "rssmd"

// Config configures a Node. Zero values take the documented defaults.
type Config struct {
	// RTPS configures the participant (domain, discovery range, static peers); see
	// rtps.ConfigFromEnv.
	RTPS rtps.Config
	// Node is the node's name, namespace and remap rules (names.NewNode; required).
	Node *names.Node
	// Arch is the model's architecture (required): the sizes of every message.
	Arch *model.Arch
	// Model is a stepper for ~predicted_image, ~reconstruction and ~imagine, used only by the
	// node's worker (never the tick loop's); nil disables them.
	Model model.Stepper
	// Period is the tick period (required): ~predicted_image is stamped capture + Period.
	Period time.Duration
	// FrameID is the header frame_id of every stamped output (default "camera").
	FrameID string
	// ImageInput subscribes ~image and ~image/compressed; Images() is then the frame source.
	ImageInput bool
	// Predict and Reconstruction publish ~predicted_image and ~reconstruction.
	Predict, Reconstruction bool
	// MaxHorizon bounds an ~imagine request (default 50).
	MaxHorizon int
	// DiagPeriod is the /diagnostics period (default 1s).
	DiagPeriod time.Duration
	// Reset serves ~reset; nil answers success=false.
	Reset func() error
	// KernelPath and Source are reported in /diagnostics.
	KernelPath, Source string
	// LoopStats, when set, gives /diagnostics the loop's live counters (ok false until the
	// loop exists), so a vanished camera shows while no tick reaches the node.
	LoopStats func() (s tick.Stats, ok bool)
	// Hub is the tick sink shared with other nodes; nil: the node has its own (OnTick).
	Hub *core.Hub
	// GidSize is the rmw_dds_common Gid length of ros_discovery_info: msg.GidSizeIron
	// (default; Iron, Jazzy and later) or msg.GidSizeHumble.
	GidSize int
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("ros2: invalid config")

// Node is rssmd's ROS 2 node: an RTPS participant with ROS 2's naming, QoS and graph
// conventions. It is fed by a core.Hub (OnTick); its Actions and Images are the loop's action
// input and frame source. The worker goroutine builds and writes every output message and
// owns Config.Model; reader callbacks run on the participant's reader goroutines.
type Node struct {
	conf    Config
	log     *slog.Logger
	part    *rtps.Participant
	actions *tick.ActionMailbox
	images  *ros.ImageSource
	hub     *core.Hub
	feed    *core.Feed
	warn    core.WarnLimiter

	pub      publishers
	services []*service
	graph    *graph

	worker    *core.Worker
	published atomic.Uint64
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	ctx       context.Context // ends at Close
	// Replies held until the client's reply reader matches (services.go): counted so Close
	// waits for them, refused once closing.
	replyMu  sync.Mutex
	closing  bool
	deferred sync.WaitGroup
}

// publishers are the node's output writers.
type publishers struct {
	latent, vector, quality, reward *rtps.Writer
	predicted, recon, diag          *rtps.Writer
}

// QoS of rssmd's endpoints (see README.md). Outputs are reliable, so that both reliable
// and best-effort subscribers match, with a short history: a controller wants the newest
// state, not a backlog. Camera input is best effort (sensor-data QoS), so it matches every
// camera driver; ~action is best effort too, so both kinds of publisher match it. Services
// use ROS 2's service default (reliable, volatile, keep last 10). ros_discovery_info is
// reliable, transient local, keep last 1, as rmw_dds_common publishes it.
var (
	qosOutput    = rtps.QoS{Reliability: rtps.Reliable, Durability: rtps.Volatile, Depth: 10}
	qosImageOut  = rtps.QoS{Reliability: rtps.Reliable, Durability: rtps.Volatile, Depth: 2}
	qosSensorIn  = rtps.QoS{Reliability: rtps.BestEffort, Durability: rtps.Volatile, Depth: 5}
	qosCommandIn = rtps.QoS{Reliability: rtps.BestEffort, Durability: rtps.Volatile, Depth: 10}
	qosService   = rtps.QoS{Reliability: rtps.Reliable, Durability: rtps.Volatile, Depth: 10}
	qosGraph     = rtps.QoS{Reliability: rtps.Reliable, Durability: rtps.TransientLocal, Depth: 1}
)

// NewNode validates conf, starts the participant and creates every endpoint; discovery and
// matching go on in the background.
func NewNode(ctx context.Context, conf Config) (*Node, error) {
	switch {
	case conf.Node == nil:
		return nil, fmt.Errorf("%w: Node is nil", ErrConfig)
	case conf.GidSize != 0 && conf.GidSize != msg.GidSizeIron && conf.GidSize != msg.GidSizeHumble:
		return nil, fmt.Errorf("%w: GidSize %d, want %d or %d", ErrConfig, conf.GidSize, msg.GidSizeIron, msg.GidSizeHumble)
	}
	if err := core.CheckOutputs(conf.Arch, conf.Model, conf.Period, conf.MaxHorizon, conf.Predict, conf.Reconstruction); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	core.OutputDefaults(&conf.FrameID, &conf.MaxHorizon, &conf.DiagPeriod)
	if conf.Log == nil {
		conf.Log = slog.Default()
	}
	if conf.RTPS.UserData == nil {
		conf.RTPS.UserData = []byte("enclave=/;")
	}
	if conf.RTPS.Name == "" {
		conf.RTPS.Name = conf.Node.FQN()
	}
	if conf.RTPS.Logger == nil {
		conf.RTPS.Logger = conf.Log.With("component", "rtps")
	}
	n := &Node{
		conf:    conf,
		log:     conf.Log.With("node", conf.Node.FQN()),
		actions: tick.NewActionMailbox(conf.Arch.ActionDim),
		hub:     conf.Hub,
	}
	if n.hub == nil {
		n.hub = core.NewHub(conf.Arch)
	}
	n.feed = n.hub.Subscribe()
	n.worker = n.newWorker()
	n.images = ros.NewImageSource(time.Now)
	part, err := rtps.NewParticipant(ctx, conf.RTPS)
	if err != nil {
		return nil, fmt.Errorf("ROS 2 participant (domain %d): %w", conf.RTPS.DomainID, err)
	}
	n.part = part
	n.graph = newGraph(part, conf.Node, conf.GidSize)
	if err := n.createEndpoints(); err != nil {
		part.Close() // removes the endpoints created so far
		return nil, err
	}
	if err := n.graph.publish(); err != nil {
		n.log.Warn("ros_discovery_info not published", "err", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.ctx, n.cancel = ctx, cancel
	n.wg.Add(1)
	go n.work(ctx)
	n.log.Info("ROS 2 node up", "domain", conf.RTPS.DomainID, "discovery", conf.RTPS.Range,
		"static_peers", conf.RTPS.StaticPeers, "guid", part.GUID())
	return n, nil
}

// Close stops the worker, then removes the endpoints and the participant (peers see them go).
func (n *Node) Close() {
	n.replyMu.Lock()
	n.closing = true
	n.replyMu.Unlock()
	n.cancel()
	n.wg.Wait()
	n.deferred.Wait()
	n.part.Close() // removes every endpoint and announces their end
}

// Actions is the ~action subscription's mailbox (the loop's tick.ActionInput).
func (n *Node) Actions() *tick.ActionMailbox { return n.actions }

// Images is the ~image frame source (used when Config.ImageInput is set).
func (n *Node) Images() *ros.ImageSource { return n.images }

// OnTick implements tick.Sink for a node with its own hub (Config.Hub nil).
func (n *Node) OnTick(r *tick.Result) { n.hub.OnTick(r) }

var _ tick.Sink = (*Node)(nil)

// Participant is the node's RTPS participant.
func (n *Node) Participant() *rtps.Participant { return n.part }

// Stats are the node's counters.
type Stats struct {
	Published                       uint64 // ticks published
	ActionsRejected, ImagesRejected uint64
	ServiceCalls                    uint64
	Subscribers                     int // matched readers of ~latent_vector
}

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	ir, _ := n.images.Rejected()
	var calls uint64
	for _, s := range n.services {
		calls += s.calls.Load()
	}
	return Stats{Published: n.published.Load(), ActionsRejected: n.actions.Rejected(), ImagesRejected: ir,
		ServiceCalls: calls, Subscribers: n.pub.vector.Matched()}
}

// writer creates a writer for a ROS topic name (resolved for this node) and records its GID
// for the graph.
func (n *Node) writer(name string, t *msg.TypeInfo, q rtps.QoS) (*rtps.Writer, error) {
	fqn, err := n.conf.Node.Resolve(name)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", name, err)
	}
	return n.rawWriter(names.Topic(fqn), t, q)
}

func (n *Node) rawWriter(topic string, t *msg.TypeInfo, q rtps.QoS) (*rtps.Writer, error) {
	w, err := n.part.NewWriter(rtps.WriterConfig{Topic: topic, TypeName: t.DDSName, QoS: q, UserData: typeHashData(t)})
	if err != nil {
		return nil, fmt.Errorf("writer %s: %w", topic, err)
	}
	n.graph.addWriter(w.GUID())
	return w, nil
}

func (n *Node) reader(name string, t *msg.TypeInfo, q rtps.QoS, on func(rtps.Sample)) (*rtps.Reader, error) {
	fqn, err := n.conf.Node.Resolve(name)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", name, err)
	}
	return n.rawReader(names.Topic(fqn), t, q, on)
}

func (n *Node) rawReader(topic string, t *msg.TypeInfo, q rtps.QoS, on func(rtps.Sample)) (*rtps.Reader, error) {
	r, err := n.part.NewReader(rtps.ReaderConfig{Topic: topic, TypeName: t.DDSName, QoS: q, UserData: typeHashData(t), OnSample: on})
	if err != nil {
		return nil, fmt.Errorf("reader %s: %w", topic, err)
	}
	n.graph.addReader(r.GUID())
	return r, nil
}

// typeHashData is an endpoint's USER_DATA as rmw_dds_common writes it (Iron and later;
// Humble ignores it).
func typeHashData(t *msg.TypeInfo) []byte {
	if t.Hash == "" {
		return nil
	}
	return []byte("typehash=" + t.Hash + ";")
}

func (n *Node) createEndpoints() error {
	var err error
	p := &n.pub
	for _, e := range []struct {
		w    **rtps.Writer
		name string
		t    msg.Message
		q    rtps.QoS
		on   bool
	}{
		{&p.latent, "~/latent", &msg.LatentState{}, qosOutput, true},
		{&p.vector, "~/latent_vector", &msg.Float32MultiArray{}, qosOutput, true},
		{&p.quality, "~/quality", &msg.Quality{}, qosOutput, true},
		{&p.reward, "~/reward", &msg.Reward{}, qosOutput, true},
		{&p.diag, "/diagnostics", &msg.DiagnosticArray{}, qosOutput, true},
		{&p.predicted, "~/predicted_image", &msg.Image{}, qosImageOut, n.conf.Predict},
		{&p.recon, "~/reconstruction", &msg.Image{}, qosImageOut, n.conf.Reconstruction},
	} {
		if !e.on {
			continue
		}
		if *e.w, err = n.writer(e.name, e.t.Type(), e.q); err != nil {
			return err
		}
	}
	if n.conf.Arch.ActionDim > 0 {
		if _, err := n.reader("~/action", (&msg.Float32MultiArray{}).Type(), qosCommandIn, n.onAction); err != nil {
			return err
		}
	}
	if n.conf.ImageInput {
		if _, err := n.reader("~/image", (&msg.Image{}).Type(), qosSensorIn, n.onImage); err != nil {
			return err
		}
		if _, err := n.reader("~/image/compressed", (&msg.CompressedImage{}).Type(), qosSensorIn, n.onCompressed); err != nil {
			return err
		}
	}
	if err := n.addService("~/reset", msg.TriggerService, (&msg.TriggerRequest{}).Type(), (&msg.TriggerResponse{}).Type(), n.onReset); err != nil {
		return err
	}
	if err := n.addService("~/imagine", msg.ImagineService, (&msg.ImagineRequest{}).Type(), (&msg.ImagineResponse{}).Type(), n.onImagine); err != nil {
		return err
	}
	return nil
}
