package ros2

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/nodes/ros2/msg"
	"github.com/rssmd/rssmd/nodes/ros2/names"
	"github.com/rssmd/rssmd/nodes/ros2/peertest"
	"github.com/rssmd/rssmd/nodes/ros2/rtps"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/pipeline"
	"github.com/rssmd/rssmd/runtime/tick"
)

// These tests run rssmd's ROS 2 node against real DDS peers — a Cyclone DDS C program and a
// Fast DDS C++ program with types generated from IDL that follows the ROS 2 mapping
// (peertest) — inside a private network namespace with multicast on loopback.

func TestMain(m *testing.M) { os.Exit(peertest.InNetns(m)) }

var golden = filepath.Join("..", "..", "model", "testdata", "golden", "cnnha-actions")

// record is what rssmd itself computed for one tick: the reference the peers' samples are
// compared with.
type record struct {
	snap   *core.Snapshot
	image  []uint8 // the preprocessed 64x64 input frame
	action []float32
	status tick.ActionStatus
}

// recorder is a tick sink that keeps every tick, by capture stamp.
type recorder struct {
	mu      sync.Mutex
	byStamp map[int64]*record
	ticks   []uint64
	arch    func() *core.Snapshot
}

func (r *recorder) OnTick(res *tick.Result) {
	s := r.arch()
	s.CopyFrom(res)
	rec := &record{snap: s, image: slices.Clone(res.Image), action: slices.Clone(res.Action), status: res.ActionStatus}
	r.mu.Lock()
	r.byStamp[res.Captured.UnixNano()] = rec
	r.ticks = append(r.ticks, res.Tick)
	r.mu.Unlock()
}

func (r *recorder) get(stampNs int64) *record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byStamp[stampNs]
}

// getSource finds the tick of a DDS source timestamp: RTPS carries time in 2^-32 s units, and
// a peer may round its conversion back to nanoseconds either way (ticks are ms apart).
func (r *recorder) getSource(srcNs int64) *record {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec := r.byStamp[srcNs]; rec != nil {
		return rec
	}
	for stamp, rec := range r.byStamp {
		if d := stamp - srcNs; d >= -2 && d <= 2 {
			return rec
		}
	}
	return nil
}

func (r *recorder) all() []*record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*record, 0, len(r.byStamp))
	for _, v := range r.byStamp {
		out = append(out, v)
	}
	return out
}

// rig is rssmd's pipeline with the ROS 2 node on a replayed sequence (or on ~/image).
type rig struct {
	t      *testing.T
	node   *Node
	p      *pipeline.Pipeline
	rec    *recorder
	pred   *core.Predictor
	conf   pipeline.Config
	stop   context.CancelFunc
	done   chan struct{}
	resets atomic.Int32
}

type rigOpts struct {
	domain     int
	imageInput bool
	rate       float64
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	if o.rate == 0 {
		o.rate = 20
	}
	t.Setenv("ROS_DOMAIN_ID", strconv.Itoa(o.domain))
	c := pipeline.Defaults()
	c.Model, c.Rate, c.MetricsAddr, c.Loop = golden, o.rate, "off", true
	c.Source = "replay:" + filepath.Join(golden, "seq.npz")
	c.MaxFrameAge = time.Second
	if o.imageInput {
		c.Source = pipeline.SourceROS
	}
	om, err := pipeline.OpenModel(c.Model, false)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rtps.ConfigFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	rc.Logger = quiet()
	nn, err := names.NewNode(DefaultName, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	hub := core.NewHub(om.Arch)
	r := &rig{t: t, conf: c, done: make(chan struct{}),
		rec:  &recorder{byStamp: map[int64]*record{}, arch: func() *core.Snapshot { return core.NewSnapshot(om.Arch) }},
		pred: core.NewPredictor(om.NewStepper(), om.Arch, time.Duration(float64(time.Second)/c.Rate))}
	var loop *tick.Loop
	var mu sync.Mutex
	r.node, err = NewNode(context.Background(), Config{RTPS: rc, Node: nn, Arch: om.Arch, Model: om.NewStepper(),
		Period: time.Duration(float64(time.Second) / c.Rate), ImageInput: o.imageInput, Predict: true,
		KernelPath: om.Label(), Source: c.Source, Hub: hub, Log: quiet(),
		Reset: func() error {
			mu.Lock()
			defer mu.Unlock()
			if loop == nil {
				return fmt.Errorf("not running")
			}
			loop.RequestReset()
			r.resets.Add(1)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	deps := pipeline.Deps{Model: om, Actions: r.node.Actions(), Sinks: []tick.Sink{hub, r.rec}}
	if o.imageInput {
		deps.Source = r.node.Images()
	}
	r.p, err = pipeline.New(c, deps, quiet())
	if err != nil {
		r.node.Close()
		t.Fatal(err)
	}
	mu.Lock()
	loop = r.p.Loop()
	mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() {
		defer close(r.done)
		r.p.Run(ctx)
	}()
	t.Cleanup(r.close)
	return r
}

func (r *rig) close() {
	r.stop()
	<-r.done
	r.node.Close()
}

func setup(t testing.TB) peertest.Peers {
	t.Helper()
	peertest.RequireNetns(t)
	p, err := peertest.Build(t)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sub(t *testing.T, peer peertest.Impl, topic, typ, rel string, count int, extra ...string) *peertest.Proc {
	args := append([]string{"sub", "--topic", topic, "--type", typ, "--reliability", rel, "--count", strconv.Itoa(count)}, extra...)
	if !slices.Contains(extra, "--timeout") {
		args = append(args, "--timeout", "40")
	}
	return peertest.Start(t, peer.Path, args...)
}

// TestROS2Outputs: each peer receives ~/latent_vector, ~/latent and ~/predicted_image on a
// reliable and a best-effort reader, with the values and stamps of rssmd's own ticks.
func TestROS2Outputs(t *testing.T) {
	peers := setup(t)
	for i, peer := range peers.Impls() {
		for j, rel := range []string{"reliable", "best_effort"} {
			t.Run(peer.Name+"/"+rel, func(t *testing.T) {
				r := startRig(t, rigOpts{domain: 10 + 2*i + j})
				vec := sub(t, peer, "rt/rssmd/latent_vector", "float32multiarray", rel, 20)
				lat := sub(t, peer, "rt/rssmd/latent", "latent", rel, 10)
				img := sub(t, peer, "rt/rssmd/predicted_image", "image", rel, 5)
				checkVectors(t, r, vec.Collect("sample", 30*time.Second), 20)
				checkLatent(t, r, lat.Collect("sample", 30*time.Second), 10)
				checkImages(t, r, img.Collect("sample", 30*time.Second), 5)
			})
		}
	}
}

func checkVectors(t *testing.T, r *rig, got []peertest.Event, want int) {
	t.Helper()
	if len(got) < want {
		t.Fatalf("latent_vector: %d samples, want %d", len(got), want)
	}
	for _, ev := range got {
		// Float32MultiArray has no header: the DDS source timestamp is the capture stamp.
		rec := r.rec.getSource(ev.SrcNs)
		if rec == nil {
			t.Fatalf("latent_vector source timestamp %d is no tick's capture stamp", ev.SrcNs)
		}
		v := rec.snap.AppendVector(nil)
		if len(ev.Values) != len(v) || ev.N != len(v) {
			t.Fatalf("latent_vector has %d values (n %d), rssmd's tick %d has %d", len(ev.Values), ev.N, rec.snap.Tick, len(v))
		}
		for k := range v {
			if math.Float32bits(float32(ev.Values[k])) != math.Float32bits(v[k]) {
				t.Fatalf("latent_vector[%d] = %v, rssmd's tick %d has %v", k, ev.Values[k], rec.snap.Tick, v[k])
			}
		}
		if len(ev.Dims) != 1 || ev.Dims[0].Size != uint32(len(v)) {
			t.Errorf("layout %+v", ev.Dims)
		}
	}
}

func checkLatent(t *testing.T, r *rig, got []peertest.Event, want int) {
	t.Helper()
	if len(got) < want {
		t.Fatalf("latent: %d samples, want %d", len(got), want)
	}
	for _, ev := range got {
		rec := r.rec.get(ev.StampNs)
		if d := ev.SrcNs - ev.StampNs; rec == nil || rec.snap.Tick != ev.Tick || d < -2 || d > 2 {
			t.Fatalf("latent tick %d stamp %d (source time %d): no such tick in rssmd's record", ev.Tick, ev.StampNs, ev.SrcNs)
		}
		s := rec.snap
		for k, v := range s.State.Deter {
			if float32(ev.Deter[k]) != v {
				t.Fatalf("latent.deter[%d] = %v, want %v", k, ev.Deter[k], v)
			}
		}
		for k, v := range s.PostStd {
			if float32(ev.StochStd[k]) != v {
				t.Fatalf("latent.stoch_std[%d] = %v, want %v", k, ev.StochStd[k], v)
			}
		}
		if float32(ev.KL) != s.KL || ev.IsFirst != s.IsFirst || ev.FrameID != "camera" {
			t.Fatalf("latent kl %v is_first %v frame %q, want %v %v camera", ev.KL, ev.IsFirst, ev.FrameID, s.KL, s.IsFirst)
		}
	}
}

func checkImages(t *testing.T, r *rig, got []peertest.Event, want int) {
	t.Helper()
	if len(got) < want {
		t.Fatalf("predicted_image: %d samples, want %d", len(got), want)
	}
	period := time.Duration(float64(time.Second) / r.conf.Rate)
	buf := make([]uint8, core.ImageBytes)
	for _, ev := range got {
		// A prediction is stamped one period after the frame it was made from.
		rec := r.rec.get(ev.StampNs - period.Nanoseconds())
		if rec == nil {
			t.Fatalf("predicted_image stamp %d is not a capture stamp + one period", ev.StampNs)
		}
		if ev.Width != 64 || ev.Height != 64 || ev.Encoding != "rgb8" || ev.Step != 192 {
			t.Fatalf("image %dx%d %s step %d", ev.Width, ev.Height, ev.Encoding, ev.Step)
		}
		if _, err := r.pred.Predict(buf, rec.snap); err != nil {
			t.Fatal(err)
		}
		if want := peertest.FNV1a(buf); ev.FNV1a != want {
			t.Fatalf("predicted_image of tick %d: checksum %s, rssmd's prediction %s", rec.snap.Tick, ev.FNV1a, want)
		}
	}
}

// TestROS2Inputs: rssmd uses the actions a peer publishes on ~/action, and the fragmented
// 640x480 rgb8 frames a peer publishes on ~/image are what it filters.
func TestROS2Inputs(t *testing.T) {
	peers := setup(t)
	for i, peer := range peers.Impls() {
		t.Run(peer.Name, func(t *testing.T) {
			r := startRig(t, rigOpts{domain: 20 + i, imageInput: true})
			values := []float32{0.25, -0.5, 1, 0, 0.125, -1}
			vs := ""
			for k, v := range values {
				if k > 0 {
					vs += ","
				}
				vs += strconv.FormatFloat(float64(v), 'g', -1, 32)
			}
			act := peertest.Start(t, peer.Path, "pub", "--topic", "rt/rssmd/action", "--type", "float32multiarray",
				"--values", vs, "--rate", "50", "--count", "500", "--wait-readers", "1", "--timeout", "30")
			const frames = 40
			cam := peertest.Start(t, peer.Path, "pub", "--topic", "rt/rssmd/image", "--type", "image", "--width", "640",
				"--height", "480", "--encoding", "rgb8", "--rate", "10", "--count", strconv.Itoa(frames), "--wait-readers", "1",
				"--reliability", "best_effort", "--timeout", "30")
			sent := cam.Collect("sent", 30*time.Second)
			if len(sent) < frames {
				t.Fatalf("camera peer sent %d frames", len(sent))
			}
			act.Stop()
			// Every frame rssmd stepped on must be one of the peer's patterns, preprocessed.
			pre, err := frame.NewPreprocessor(frame.Config{Format: frame.RGB24, Width: 640, Height: 480})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			out := make([]uint8, core.ImageBytes)
			for k := 0; k < frames+5; k++ {
				data := peertest.Pattern(640, 480, peertest.EncodingBytes("rgb8"), int64(k))
				if err := pre.Process(out, frame.Frame{Data: data, Format: frame.RGB24, Width: 640, Height: 480, Stride: 1920}); err != nil {
					t.Fatal(err)
				}
				want[string(out)] = true
			}
			var stepped, matched, withAction int
			for _, rec := range r.rec.all() {
				if rec.image == nil || rec.snap.Seq == 0 {
					continue
				}
				stepped++
				if want[string(rec.image)] {
					matched++
				}
				if rec.status == tick.ActionFresh || rec.status == tick.ActionHeld {
					if !slices.Equal(rec.action, values) {
						t.Fatalf("tick %d used action %v, the peer published %v", rec.snap.Tick, rec.action, values)
					}
					withAction++
				}
			}
			t.Logf("%d steps on peer frames, %d match a sent pattern, %d with the peer's action", stepped, matched, withAction)
			if stepped < frames/2 || matched != stepped {
				t.Fatalf("%d of %d stepped frames match the peer's 640x480 patterns (%d sent)", matched, stepped, frames)
			}
			if withAction < stepped/2 {
				t.Fatalf("only %d of %d steps used the peer's action", withAction, stepped)
			}
		})
	}
}

// TestROS2ReliableUnderLoss: with 10% of loopback packets dropped, a reliable reader of
// ~/latent receives every tick rssmd published while it was matched, for 30 s.
func TestROS2ReliableUnderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s per peer (-short)")
	}
	peers := setup(t)
	how := peertest.SetLoss(t, 10)
	t.Logf("loss by %s", how)
	for i, peer := range peers.Impls() {
		t.Run(peer.Name, func(t *testing.T) {
			r := startRig(t, rigOpts{domain: 30 + i})
			// 30 s at 20 Hz; the replay gives a new frame on most ticks (a step, published).
			s := sub(t, peer, "rt/rssmd/latent", "latent", "reliable", 100000, "--quiet-values", "--timeout", "30")
			got := s.Collect("sample", 45*time.Second)
			if len(got) == 0 {
				t.Fatal("no sample")
			}
			seen := map[uint64]bool{}
			for _, ev := range got {
				seen[ev.Tick] = true
			}
			first, last := got[0].Tick, got[len(got)-1].Tick
			var missing []uint64
			published := 0
			for _, rec := range r.rec.all() {
				tk := rec.snap.Tick
				if tk < first || tk > last {
					continue
				}
				published++
				if !seen[tk] {
					missing = append(missing, tk)
				}
			}
			slices.Sort(missing)
			t.Logf("%s: %d samples over ticks %d..%d, %d published in that span; resent %d", peer.Name, len(got), first, last,
				published, r.node.Participant().Stats().SamplesResent)
			if len(missing) > 0 || len(got) < 300 {
				t.Fatalf("reliable reader lost %d samples under 10%% loss (ticks %v), got %d in 30 s", len(missing), missing[:min(10, len(missing))], len(got))
			}
		})
	}
}

// TestROS2LateJoinerAndLease: a subscriber that starts while rssmd runs is matched within
// 2 s; a peer killed with SIGKILL is dropped after its lease.
func TestROS2LateJoinerAndLease(t *testing.T) {
	peers := setup(t)
	for i, peer := range peers.Impls() {
		t.Run(peer.Name, func(t *testing.T) {
			r := startRig(t, rigOpts{domain: 40 + i})
			time.Sleep(3 * time.Second)
			s := sub(t, peer, "rt/rssmd/latent_vector", "float32multiarray", "reliable", 1000, "--quiet-values")
			ready := s.Next("ready", 10*time.Second)
			m := s.Next("matched", 10*time.Second)
			first := s.Next("sample", 10*time.Second)
			t.Logf("late joiner: matched %.0f ms, first sample %.0f ms after it started", float64(m.TNs-ready.TNs)/1e6, float64(first.TNs-ready.TNs)/1e6)
			if d := time.Duration(m.TNs - ready.TNs); d > 2*time.Second {
				t.Errorf("late joiner matched after %v, want ≤ 2 s", d)
			}
			before := r.node.Participant().Stats()
			if before.ParticipantsCurrent == 0 {
				t.Fatal("rssmd has not discovered the peer")
			}
			killed := time.Now()
			s.Kill()
			deadline := killed.Add(45 * time.Second)
			for r.node.Participant().Stats().ParticipantsLost == before.ParticipantsLost && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			after := r.node.Participant().Stats()
			if after.ParticipantsLost == before.ParticipantsLost {
				t.Fatalf("killed %s peer still known %v later", peer.Name, time.Since(killed))
			}
			t.Logf("killed peer dropped after %v (its lease)", time.Since(killed).Round(100*time.Millisecond))
		})
	}
}

// TestROS2ResetAndGraph: ~/reset answers through rq/rr with each RMW's convention and resets
// the filter; the node and its topics show in the ROS graph.
func TestROS2ResetAndGraph(t *testing.T) {
	peers := setup(t)
	for i, peer := range peers.Impls() {
		t.Run(peer.Name, func(t *testing.T) {
			r := startRig(t, rigOpts{domain: 50 + i})
			c := peertest.Start(t, peer.Path, "call-trigger", "--service", "/rssmd/reset", "--timeout", "20")
			rep := c.Next("reply", 25*time.Second)
			if !rep.Success || rep.Message == "" {
				t.Fatalf("reset reply %+v", rep)
			}
			if n := r.resets.Load(); n != 1 {
				t.Errorf("reset requests reached the loop %d times, want 1", n)
			}
			nodes := peertest.Start(t, peer.Path, "nodes", "--timeout", "15", "--expect", "/rssmd")
			found := false
			for end := time.Now().Add(15 * time.Second); !found && time.Now().Before(end); {
				ev, err := nodes.NextErr(context.Background(), "participant", time.Until(end))
				if err != nil {
					break
				}
				for _, n := range ev.Nodes {
					if n.Name == "rssmd" && n.Namespace == "/" && len(n.WriterGIDs) >= 5 && len(n.ReaderGIDs) >= 1 {
						found = true
					}
				}
			}
			if !found {
				t.Fatalf("node /rssmd with its endpoints not in ros_discovery_info:\n%v", nodes.Lines())
			}
		})
	}
}

// TestROS2StaticPeersWithoutMulticast: with the multicast route removed, discovery OFF and
// ROS_STATIC_PEERS on rssmd's side, and a Cyclone DDS peer configured with unicast peers only,
// the peer still receives ~/latent_vector.
func TestROS2StaticPeersWithoutMulticast(t *testing.T) {
	peers := setup(t)
	if out, err := exec.Command("ip", "route", "del", "224.0.0.0/4", "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("removing the multicast route: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "route", "add", "224.0.0.0/4", "dev", "lo").Run() })
	t.Setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "OFF")
	t.Setenv("ROS_STATIC_PEERS", "127.0.0.1")
	// The peer knows no one: only rssmd's unicast announcements to its static peer can start
	// discovery.
	t.Setenv("CYCLONEDDS_URI", `<General><Interfaces><NetworkInterface address="127.0.0.1"/></Interfaces>`+
		`<AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex></Discovery>`)
	r := startRig(t, rigOpts{domain: 70})
	s := sub(t, peertest.Impl{Name: "cyclone", Path: peers.Cyclone}, "rt/rssmd/latent_vector", "float32multiarray", "reliable", 10, "--timeout", "20")
	checkVectors(t, r, s.Collect("sample", 25*time.Second), 10)
}

// TestROS2ReplyWaitsForClientReader: a client that sends its request before rssmd has matched
// its reply reader (discovery is not symmetric; here the reader does not even exist yet) still
// gets the reply once the reader appears: the server holds it instead of writing to nobody.
func TestROS2ReplyWaitsForClientReader(t *testing.T) {
	peertest.RequireNetns(t)
	r := startRig(t, rigOpts{domain: 73})
	client, err := rtps.NewParticipant(context.Background(), rtps.Config{DomainID: 73, Range: rtps.Localhost, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	reqType, respType := (&msg.TriggerRequest{}).Type(), (&msg.TriggerResponse{}).Type()
	w, err := client.NewWriter(rtps.WriterConfig{Topic: "rq/rssmd/resetRequest", TypeName: reqType.DDSName, QoS: qosService})
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); w.Matched() == 0 && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if w.Matched() == 0 {
		t.Fatal("rssmd's ~/reset request reader never matched")
	}
	sn, err := w.Write(msg.Encode(nil, &msg.TriggerRequest{}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); r.resets.Load() == 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if r.resets.Load() != 1 {
		t.Fatalf("the request reached the loop %d times, want 1", r.resets.Load())
	}
	time.Sleep(200 * time.Millisecond) // the reply is ready and has nobody to go to
	replies := make(chan msg.TriggerResponse, 2)
	if _, err := client.NewReader(rtps.ReaderConfig{Topic: "rr/rssmd/resetReply", TypeName: respType.DDSName, QoS: qosService,
		OnSample: func(s rtps.Sample) {
			if s.RelatedSampleIdentity == nil || s.RelatedSampleIdentity.Writer != w.GUID() || s.RelatedSampleIdentity.SN != sn {
				return
			}
			var m msg.TriggerResponse
			if err := msg.Decode(s.Data, &m); err == nil {
				replies <- m
			}
		}}); err != nil {
		t.Fatal(err)
	}
	select {
	case rep := <-replies:
		if !rep.Success {
			t.Errorf("reset reply %+v", rep)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reply never reached the reader created after the request")
	}
}

// TestROS2Imagine: an ~/imagine request from a client participant (our own RTPS, so the
// related-sample-identity convention) is answered with the rollout rssmd's model makes from
// the state of the tick it names.
func TestROS2Imagine(t *testing.T) {
	peertest.RequireNetns(t)
	r := startRig(t, rigOpts{domain: 72})
	client, err := rtps.NewParticipant(context.Background(), rtps.Config{DomainID: 72, Range: rtps.Localhost, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	replies := make(chan msg.ImagineResponse, 4)
	reqType, respType := (&msg.ImagineRequest{}).Type(), (&msg.ImagineResponse{}).Type()
	w, err := client.NewWriter(rtps.WriterConfig{Topic: "rq/rssmd/imagineRequest", TypeName: reqType.DDSName, QoS: qosService})
	if err != nil {
		t.Fatal(err)
	}
	var mine atomic.Uint64
	if _, err := client.NewReader(rtps.ReaderConfig{Topic: "rr/rssmd/imagineReply", TypeName: respType.DDSName, QoS: qosService,
		OnSample: func(s rtps.Sample) {
			if s.RelatedSampleIdentity == nil || s.RelatedSampleIdentity.Writer != w.GUID() || uint64(s.RelatedSampleIdentity.SN) != mine.Load() {
				return // another client's reply
			}
			var m msg.ImagineResponse
			if err := msg.Decode(s.Data, &m); err == nil {
				replies <- m
			}
		}}); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); w.Matched() == 0 && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the reply reader's match, and a few ticks
	const H = 3
	sn, err := w.Write(msg.Encode(nil, &msg.ImagineRequest{Horizon: H, Images: true}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	mine.Store(uint64(sn))
	var rep msg.ImagineResponse
	select {
	case rep = <-replies:
	case <-time.After(10 * time.Second):
		t.Fatal("no reply to ~/imagine")
	}
	a := r.p.Model().Arch
	if !rep.Success || len(rep.Deter) != H*a.Deter || len(rep.StochMean) != H*a.Stoch || len(rep.Images) != H {
		t.Fatalf("reply %q success %v: %d deter, %d stoch, %d images", rep.Message, rep.Success, len(rep.Deter), len(rep.StochMean), len(rep.Images))
	}
	// The rollout is the model's prior from the state of the tick the reply is stamped with.
	rec := r.rec.get(rep.Header.Stamp.Time().UnixNano())
	if rec == nil {
		t.Fatalf("reply stamp %v is no tick's capture stamp", rep.Header.Stamp.Time())
	}
	want, err := r.pred.Imagine(rec.snap, core.ImagineRequest{Horizon: H, Images: true}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Deter, want.Deter) || !slices.Equal(rep.Images[H-1].Data, want.Images[H-1]) {
		t.Error("rollout differs from the model's prior from that tick's state")
	}
}
