package ros2

import (
	"context"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/nodes/ros2/names"
	"github.com/rssmd/rssmd/nodes/ros2/peertest"
	"github.com/rssmd/rssmd/nodes/ros2/rtps"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/pipeline"
	"github.com/rssmd/rssmd/runtime/tick"
)

func testResult(a *model.Arch) *tick.Result {
	r := &tick.Result{Tick: 9, Seq: 7, Captured: time.Unix(1000, 250), ActionStatus: tick.ActionHeld,
		Action: make([]float32, a.ActionDim), State: model.NewStateFor(a), Step: a.NewStepOutput(),
		Quality: tick.Quality{KL: 1.5, ELBO: -20, Reward: -3}}
	for i := range r.State.Deter {
		r.State.Deter[i] = float32(i)
	}
	return r
}

// newBenchNode is a node on domain d with its own hub, discovery on loopback.
func newBenchNode(tb testing.TB, d int, om *pipeline.Opened, predict bool) *Node {
	tb.Helper()
	nn, _ := names.NewNode(DefaultName, "/", nil)
	c := Config{RTPS: rtps.Config{DomainID: d, Range: rtps.Localhost, Logger: quiet()}, Node: nn, Arch: om.Arch,
		Period: 20 * time.Millisecond, Log: quiet()}
	if predict {
		c.Model, c.Predict = om.NewStepper(), true
	}
	n, err := NewNode(context.Background(), c)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(n.Close)
	return n
}

// TestPublishAllocs: the tick thread's part (OnTick) and the worker's publishing of the
// state messages allocate nothing per tick.
func TestPublishAllocs(t *testing.T) {
	peertest.RequireNetns(t)
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	om, err := pipeline.OpenModel(golden, false)
	if err != nil {
		t.Fatal(err)
	}
	n := newBenchNode(t, 60, om, true)
	r := testResult(om.Arch)
	if a := testing.AllocsPerRun(200, func() { n.OnTick(r) }); a != 0 {
		t.Errorf("OnTick allocates %v per tick", a)
	}
	// The worker's publish of a snapshot, run directly: encode and write every output.
	wk := n.newWorker()
	s := core.NewSnapshot(om.Arch)
	s.CopyFrom(r)
	if a := testing.AllocsPerRun(200, func() { wk.Publish(s) }); a != 0 {
		t.Errorf("publishing a tick allocates %v", a)
	}
}

// BenchmarkPublishTick is the node's cost per tick with real Cyclone DDS subscribers (reliable
// readers of ~/latent and, with prediction, ~/predicted_image): OnTick on the loop's
// goroutine plus the worker encoding and writing every message. The ROS 1 node's
// BenchmarkPublishTick (nodes/ros) is the row to compare with:
//
//	go test ./nodes/ros ./nodes/ros2 -run '^$' -bench PublishTick -benchtime 2000x
func BenchmarkPublishTick(b *testing.B) {
	peers := setup(b)
	om, err := pipeline.OpenModel(golden, false)
	if err != nil {
		b.Fatal(err)
	}
	for i, bc := range []struct {
		name    string
		predict bool
	}{{"latent+vector+quality", false}, {"with_predicted_image", true}} {
		b.Run(bc.name, func(b *testing.B) {
			d := 61 + i
			b.Setenv("ROS_DOMAIN_ID", strconv.Itoa(d))
			n := newBenchNode(b, d, om, bc.predict)
			topics := []string{"rt/rssmd/latent"}
			types := []string{"latent"}
			if bc.predict {
				topics, types = append(topics, "rt/rssmd/predicted_image"), append(types, "image")
			}
			for k, topic := range topics {
				s := peertest.Start(b, peers.Cyclone, "sub", "--topic", topic, "--type", types[k], "--reliability", "reliable",
					"--count", "100000000", "--timeout", "600", "--quiet-values")
				s.Next("matched", 15*time.Second)
			}
			r := testResult(om.Arch)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				want := n.published.Load() + 1
				r.Tick++
				n.OnTick(r)
				for n.published.Load() < want {
					runtime.Gosched()
				}
			}
		})
	}
}

// wallSource hands out a synthetic frame stamped with the wall clock when it is taken: the
// stamp a V4L2 capture gets, so receipt minus stamp is the whole latency.
type wallSource struct {
	mu  sync.Mutex
	seq uint64
	img []byte
}

func (s *wallSource) Latest() (capture.Frame, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return capture.Frame{Frame: frame.Frame{Data: s.img, Format: frame.RGB24, Width: 64, Height: 64}, Seq: s.seq, Captured: time.Now()}, true
}

func (s *wallSource) Stats() capture.Stats { return capture.Stats{Connected: true} }

// TestROS2Latency: capture stamp → Cyclone DDS subscriber (receipt time) on loopback, through
// the posterior step and the node, over 300 messages at 50 Hz; median and p99 are logged.
//
//	go test ./nodes/ros2 -run ROS2Latency -v
func TestROS2Latency(t *testing.T) {
	peers := setup(t)
	om, err := pipeline.OpenModel(golden, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ROS_DOMAIN_ID", "65")
	n := newBenchNode(t, 65, om, false)
	loop, err := tick.New(tick.Config{Rate: 50, Model: om.NewStepper(), Source: &wallSource{img: make([]byte, 64*64*3)},
		Actions: n.Actions(), Sinks: []tick.Sink{n}, MaxFrameAge: time.Second, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { loop.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	const count = 300
	s := peertest.Start(t, peers.Cyclone, "sub", "--topic", "rt/rssmd/latent_vector", "--type", "float32multiarray",
		"--reliability", "reliable", "--count", strconv.Itoa(count), "--timeout", "30", "--quiet-values")
	got := s.Collect("sample", 40*time.Second)
	if len(got) < count {
		t.Fatalf("%d samples, want %d", len(got), count)
	}
	lat := make([]float64, len(got))
	for i, ev := range got {
		lat[i] = float64(ev.TNs-ev.SrcNs) / 1e3
	}
	slices.Sort(lat)
	med, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("capture stamp → Cyclone DDS subscriber over %d messages: median %.0f µs, p99 %.0f µs, max %.0f µs", count, med, p99, lat[len(lat)-1])
	// The stamp precedes the receipt, and a loopback hop takes well under a second anywhere.
	if lat[0] <= 0 || math.IsNaN(med) || med > 1e6 {
		t.Errorf("latencies %v .. %v µs", lat[0], lat[len(lat)-1])
	}
}
