package ros

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	goroslib "github.com/bluenviron/goroslib/v2"
	"github.com/bluenviron/goroslib/v2/pkg/apimaster"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_srvs"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/nodes/ros/rssmd_msgs"
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

	hub     *core.Hub
	feed    *core.Feed
	imagine chan imagineCall
	warn    warnLimiter

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
// goroslib takes ROS_NAMESPACE from the environment in preference to its configuration, so
// NewNode rewrites that variable to the namespace Env resolved (__ns:= wins, as in ROS).
func NewNode(conf Config) (*Node, error) {
	switch {
	case conf.Env == nil:
		return nil, fmt.Errorf("%w: Env is nil", ErrConfig)
	case conf.Env.MasterAddr == "":
		return nil, fmt.Errorf("%w: no master (ROS_MASTER_URI unset)", ErrConfig)
	case conf.Arch == nil:
		return nil, fmt.Errorf("%w: Arch is nil", ErrConfig)
	case conf.Period <= 0:
		return nil, fmt.Errorf("%w: Period %v", ErrConfig, conf.Period)
	case conf.MaxHorizon < 0 || conf.MaxHorizon > 10000:
		return nil, fmt.Errorf("%w: MaxHorizon %d, want 0..10000", ErrConfig, conf.MaxHorizon)
	case (conf.Predict || conf.Reconstruction) && (conf.Model == nil || conf.Arch.Decoder == ""):
		return nil, fmt.Errorf("%w: Predict/Reconstruction need a Model with an image decoder", ErrConfig)
	}
	if conf.FrameID == "" {
		conf.FrameID = "camera"
	}
	if conf.MaxHorizon == 0 {
		conf.MaxHorizon = 50
	}
	if conf.DiagPeriod <= 0 {
		conf.DiagPeriod = time.Second
	}
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
	if v, ok := os.LookupEnv("ROS_NAMESPACE"); ok && v != conf.Env.Namespace {
		os.Setenv("ROS_NAMESPACE", conf.Env.Namespace)
	}
	n := &Node{
		conf:    conf,
		log:     conf.Log.With("node", conf.Env.NodeName()),
		actions: tick.NewActionMailbox(conf.Arch.ActionDim),
		hub:     conf.Hub,
		imagine: make(chan imagineCall),
		ready:   make(chan struct{}),
	}
	if n.hub == nil {
		n.hub = core.NewHub(conf.Arch)
	}
	n.feed = n.hub.Subscribe()
	n.images = NewImageSource(n.Now)
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(2)
	go n.supervise(ctx)
	go n.work(ctx)
	return n, nil
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

// supervise owns the goroslib node: connect with backoff, poll the master, re-create after a
// master restart (or any lost registration).
func (n *Node) supervise(ctx context.Context) {
	defer n.wg.Done()
	retry := n.conf.RetryMin
	httpc := &http.Client{Timeout: 2 * time.Second}
	name := n.conf.Env.NodeName()
	for ctx.Err() == nil {
		ep, err := n.connect()
		if err != nil {
			n.log.Warn("no ROS master; retrying", "master", n.conf.Env.MasterURI, "in", retry, "err", err)
			if sleepCtx(ctx, retry) != nil {
				break
			}
			retry = min(2*retry, n.conf.RetryMax)
			continue
		}
		retry = n.conf.RetryMin
		if n.connects.Add(1) > 1 {
			n.reconnects.Add(1)
			n.log.Info("re-registered with the ROS master", "reconnects", n.reconnects.Load())
		} else {
			n.log.Info("registered with the ROS master", "master", n.conf.Env.MasterURI)
		}
		n.ep.Store(ep)
		n.readyOnce.Do(func() { close(n.ready) })
		// Watch: the master forgets us when it restarts; lookupNode then fails.
		mc := apimaster.NewClient(n.conf.Env.MasterAddr, name, httpc)
		fails := 0
		for ctx.Err() == nil && fails < 2 {
			if sleepCtx(ctx, n.conf.MasterPoll) != nil {
				break
			}
			if _, err := mc.LookupNode(name); err != nil {
				fails++
				if fails == 2 {
					n.log.Warn("lost the ROS master registration; re-creating the node", "err", err)
				}
			} else {
				fails = 0
			}
		}
		n.ep.Store(nil)
		// Closing talks to the (maybe absent) master: do it aside so reconnection is not
		// delayed by timeouts.
		done := make(chan struct{})
		go func() { ep.close(); close(done) }()
		if ctx.Err() != nil {
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				n.log.Warn("goroslib node did not close in time")
			}
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// connect creates the goroslib node and every endpoint.
func (n *Node) connect() (ep *endpoints, err error) {
	env := n.conf.Env
	gn, err := goroslib.NewNode(goroslib.NodeConf{
		MasterAddress:   env.MasterAddr,
		Namespace:       env.Namespace,
		Name:            env.Name,
		Host:            env.Host,
		LogDestinations: goroslib.LogDestinationCallback | goroslib.LogDestinationRosout,
		OnLog: func(l goroslib.LogLevel, s string) {
			n.log.Debug("goroslib", "level", int(l), "msg", s)
		},
		ReadTimeout:  3 * time.Second,
		WriteTimeout: 3 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("node %s on %s: %w", env.NodeName(), env.MasterAddr, err)
	}
	ep = &endpoints{node: gn}
	defer func() {
		if err != nil {
			ep.close()
			ep = nil
		}
	}()
	if err := n.setParams(gn); err != nil {
		return nil, err
	}
	sim, err := gn.ParamIsSet("/use_sim_time")
	if err == nil && sim {
		sim, err = gn.ParamGetBool("/use_sim_time")
	}
	if err != nil {
		return nil, fmt.Errorf("reading /use_sim_time: %w", err)
	}
	n.simTime.Store(sim)

	pub := func(p **goroslib.Publisher, name string, msg any) error {
		topic, err := env.Resolve(name)
		if err != nil {
			return err
		}
		*p, err = goroslib.NewPublisher(goroslib.PublisherConf{Node: gn, Topic: topic, Msg: msg})
		if err != nil {
			return fmt.Errorf("publisher %s: %w", topic, err)
		}
		return nil
	}
	if err := pub(&ep.latent, "~latent", &rssmd_msgs.LatentState{}); err != nil {
		return nil, err
	}
	if err := pub(&ep.vector, "~latent_vector", &std_msgs.Float32MultiArray{}); err != nil {
		return nil, err
	}
	if err := pub(&ep.quality, "~quality", &rssmd_msgs.Quality{}); err != nil {
		return nil, err
	}
	// ~reward: a separate topic, so Quality.msg (and its MD5) stays as it was.
	if err := pub(&ep.reward, "~reward", &rssmd_msgs.Reward{}); err != nil {
		return nil, err
	}
	if err := pub(&ep.diag, "/diagnostics", &diagnostic_msgs.DiagnosticArray{}); err != nil {
		return nil, err
	}
	if n.conf.Predict {
		if err := pub(&ep.predicted, "~predicted_image", &sensor_msgs.Image{}); err != nil {
			return nil, err
		}
	}
	if n.conf.Reconstruction {
		if err := pub(&ep.recon, "~reconstruction", &sensor_msgs.Image{}); err != nil {
			return nil, err
		}
	}
	sub := func(name string, cb any) error {
		topic, err := env.Resolve(name)
		if err != nil {
			return err
		}
		s, err := goroslib.NewSubscriber(goroslib.SubscriberConf{Node: gn, Topic: topic, Callback: cb, QueueSize: 1})
		if err != nil {
			return fmt.Errorf("subscriber %s: %w", topic, err)
		}
		ep.subs = append(ep.subs, s)
		return nil
	}
	if n.conf.Arch.ActionDim > 0 {
		if err := sub("~action", n.onAction); err != nil {
			return nil, err
		}
	}
	if n.conf.ImageInput {
		if err := sub("~image", n.onImage); err != nil {
			return nil, err
		}
		if err := sub("~image/compressed", n.onCompressed); err != nil {
			return nil, err
		}
	}
	srv := func(name string, typ any, cb any) error {
		s, err := env.Resolve(name)
		if err != nil {
			return err
		}
		sp, err := goroslib.NewServiceProvider(goroslib.ServiceProviderConf{Node: gn, Name: s, Srv: typ, Callback: cb})
		if err != nil {
			return fmt.Errorf("service %s: %w", s, err)
		}
		ep.srvs = append(ep.srvs, sp)
		return nil
	}
	if err := srv("~reset", &std_srvs.Trigger{}, n.onReset); err != nil {
		return nil, err
	}
	if err := srv("~imagine", &rssmd_msgs.Imagine{}, n.onImagine); err != nil {
		return nil, err
	}
	return ep, nil
}

// setParams writes the command line's _param:=value private parameters to the parameter
// server, as rospy and roscpp do at start-up, so that `rosparam get` shows what runs.
func (n *Node) setParams(gn *goroslib.Node) error {
	for _, k := range n.conf.Env.ParamKeys() {
		var err error
		switch v := n.conf.Env.Params[k].(type) {
		case bool:
			err = gn.ParamSetBool(k, v)
		case int:
			err = gn.ParamSetInt(k, v)
		case float64:
			err = gn.ParamSetFloat64(k, v)
		case string:
			err = gn.ParamSetString(k, v)
		default:
			err = gn.ParamSetString(k, fmt.Sprint(v))
		}
		if err != nil {
			return fmt.Errorf("setting %s: %w", k, err)
		}
	}
	return nil
}

// warnLimiter rate-limits per-message warnings (bad inputs can arrive at camera rate).
type warnLimiter struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (w *warnLimiter) ok(kind string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	if now.Sub(w.last[kind]) < time.Second {
		return false
	}
	w.last[kind] = now
	return true
}

func (n *Node) onAction(m *std_msgs.Float32MultiArray) {
	if err := n.actions.Put(m.Data, n.Now()); err != nil && n.warn.ok("action") {
		n.log.Warn("~action rejected", "err", err, "rejected", n.actions.Rejected())
	}
}

func (n *Node) onImage(m *sensor_msgs.Image) {
	if err := n.images.HandleImage(m); err != nil && n.warn.ok("image") {
		r, _ := n.images.Rejected()
		n.log.Warn("~image rejected", "err", err, "rejected", r)
	}
}

func (n *Node) onCompressed(m *sensor_msgs.CompressedImage) {
	if err := n.images.HandleCompressed(m); err != nil && n.warn.ok("compressed") {
		r, _ := n.images.Rejected()
		n.log.Warn("~image/compressed rejected", "err", err, "rejected", r)
	}
}

func (n *Node) onReset(*std_srvs.TriggerReq) (*std_srvs.TriggerRes, bool) {
	if n.conf.Reset == nil {
		return &std_srvs.TriggerRes{Success: false, Message: "reset is not available in this configuration"}, true
	}
	if err := n.conf.Reset(); err != nil {
		return &std_srvs.TriggerRes{Success: false, Message: err.Error()}, true
	}
	n.log.Info("filter reset by ~reset")
	return &std_srvs.TriggerRes{Success: true, Message: "filter state reset; the next step starts a new episode"}, true
}

type imagineCall struct {
	req *rssmd_msgs.ImagineReq
	res chan *rssmd_msgs.ImagineRes
}

func (n *Node) onImagine(req *rssmd_msgs.ImagineReq) (*rssmd_msgs.ImagineRes, bool) {
	c := imagineCall{req: req, res: make(chan *rssmd_msgs.ImagineRes, 1)}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	select {
	case n.imagine <- c:
	case <-timeout.C:
		return &rssmd_msgs.ImagineRes{Message: "busy"}, true
	}
	select {
	case r := <-c.res:
		return r, true
	case <-timeout.C:
		return &rssmd_msgs.ImagineRes{Message: "timed out"}, true
	}
}

// worker owns the newest published snapshot (the "current state" for ~imagine and
// /diagnostics) and the predictor's model.
type worker struct {
	n    *Node
	cur  *core.Snapshot // a hub reference, released when a newer one is taken
	pred *core.Predictor
	rate core.RateMeter
}

func (n *Node) work(ctx context.Context) {
	defer n.wg.Done()
	w := &worker{n: n, pred: core.NewPredictor(n.conf.Model, n.conf.Arch, n.conf.Period)}
	w.rate.Rate(nil, time.Now())
	defer func() { n.feed.Release(w.cur) }()
	diag := time.NewTicker(n.conf.DiagPeriod)
	defer diag.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.feed.Wake():
			for s, ok := n.feed.Acquire(); ok; s, ok = n.feed.Acquire() {
				n.feed.Release(w.cur)
				w.cur = s
				w.publish()
			}
		case c := <-n.imagine:
			c.res <- w.imagine(c.req)
		case <-diag.C:
			w.diagnostics()
		}
	}
}

func (w *worker) publish() {
	n, s := w.n, w.cur
	ep := n.ep.Load()
	if ep == nil {
		n.unsent.Add(1)
		return
	}
	fid := n.conf.FrameID
	ep.latent.Write(latentMsg(s, fid))
	ep.vector.Write(latentVectorMsg(s))
	ep.quality.Write(qualityMsg(s, fid))
	if !math.IsNaN(s.Quality.Reward) { // ~reward carries rewards only: none while the ELBO is off
		ep.reward.Write(rewardMsg(s, fid))
	}
	if ep.predicted != nil {
		// A new buffer per message: goroslib serialises it later, on another goroutine.
		data := make([]uint8, core.ImageBytes)
		if stamp, err := w.pred.Predict(data, s); err == nil {
			ep.predicted.Write(imageMsg(data, stamp, fid, s.Seq+1))
		}
	}
	if ep.recon != nil {
		data := make([]uint8, core.ImageBytes)
		if err := w.pred.Reconstruct(data, s); err == nil {
			ep.recon.Write(imageMsg(data, s.Captured, fid, s.Seq))
		}
	}
	n.published.Add(1)
}

func (w *worker) diagnostics() {
	n := w.n
	rate := w.rate.Rate(w.cur, time.Now())
	ep := n.ep.Load()
	if ep == nil {
		return
	}
	st := n.Stats()
	level, msg, values := core.Diagnostics(core.DiagInput{
		Snap: w.cur, Rate: rate, Want: 1 / n.conf.Period.Seconds(),
		Link: []core.KeyValue{
			{Key: "master", Value: n.conf.Env.MasterURI},
			{Key: "master connected", Value: fmt.Sprint(st.Connected)},
			{Key: "master reconnects", Value: fmt.Sprint(st.Reconnects)},
		},
		ActionsRej: st.ActionsRejected, ImagesRej: st.ImagesRejected,
		KernelPath: n.conf.KernelPath, Source: n.conf.Source,
	})
	ep.diag.Write(diagnosticsMsg(n.conf.Env.NodeName(), n.Now(), level, msg, values))
}

// imagine rolls the prior out from the newest state.
func (w *worker) imagine(req *rssmd_msgs.ImagineReq) *rssmd_msgs.ImagineRes {
	n, a := w.n, w.n.conf.Arch
	res := &rssmd_msgs.ImagineRes{DeterDim: uint32(a.Deter), StochDim: uint32(a.Stoch)}
	r, err := w.pred.Imagine(w.cur, core.ImagineRequest{Horizon: int(req.Horizon), Actions: req.Actions, Images: req.Images}, n.conf.MaxHorizon)
	if err != nil {
		if errors.Is(err, core.ErrUnavailable) {
			res.Message = "imagine is not available in this configuration"
		} else {
			res.Message = err.Error()
		}
		return res
	}
	res.Header = header(w.cur.Captured, n.conf.FrameID, w.cur.Seq)
	res.Deter, res.StochMean, res.StochStd = r.Deter, r.StochMean, r.StochStd
	for k, im := range r.Images {
		res.Images = append(res.Images, *imageMsg(im, r.Stamps[k], n.conf.FrameID, w.cur.Seq+uint64(k)+1))
	}
	res.Success = true
	res.Message = fmt.Sprintf("%d steps from tick %d", req.Horizon, w.cur.Tick)
	return res
}
