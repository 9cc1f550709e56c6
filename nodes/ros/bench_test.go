package ros

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/tick"
)

// BenchmarkPublishTick is the node's cost per tick with a real master and rospy subscribers
// on ~latent (and ~predicted_image): OnTick in the loop's goroutine plus the worker building
// and writing every message, until the tick counts as published.
//
//	go test ./nodes/ros -run '^$' -bench PublishTick -benchtime 200x
func BenchmarkPublishTick(b *testing.B) {
	needROS(b)
	m := startMaster(b)
	mdl := goldenModel(b)
	for _, bc := range []struct {
		name    string
		predict bool
	}{{"latent+vector+quality", false}, {"with_predicted_image", true}} {
		b.Run(bc.name, func(b *testing.B) {
			conf := Config{Env: testEnv(b, m), Arch: mdl.Arch, Period: 20 * time.Millisecond,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if bc.predict {
				conf.Model, conf.Predict = mdl.NewRunner(), true
			}
			n, err := NewNode(conf)
			if err != nil {
				b.Fatal(err)
			}
			defer n.Close()
			<-n.Ready()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			subs := []string{"/rssmd/latent"}
			if bc.predict {
				subs = append(subs, "/rssmd/predicted_image")
			}
			for _, topic := range subs {
				sub := m.client(ctx, sysPython, "testdata/client.py", "echo", topic, "1000000", "600")
				if err := sub.Start(); err != nil {
					b.Fatal(err)
				}
				defer func() { cancel(); sub.Wait() }()
			}
			// Until the subscribers are connected, writes cost nothing: give rospy time to
			// start, register and connect.
			time.Sleep(4 * time.Second)
			r := testResult(mdl.Arch)
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

// wallSource hands out a synthetic frame stamped with the wall clock at the moment it is
// taken: the stamp a V4L2 capture gets, so receipt minus stamp is the node's whole latency.
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

// TestIntegrationLatency measures end-to-end latency on loopback: from a frame's capture
// stamp (the wall clock when the loop takes it) through the posterior step and the node to a
// rospy subscriber's callback, for a few hundred messages at 50 Hz, and reports the median,
// p90 and p99 (README's performance table quotes them from this log).
//
//	go test ./nodes/ros -run 'TestIntegrationLatency$' -v
//
// The bounds hold on a loaded 2-core CI machine (measured under load ~6: latent median 1.8 ms,
// p99 7 ms; predicted_image median 3 ms, p99 53 ms; under load 9 predicted_image p90 25 ms and
// p99 1.1 s, the tail being the scheduler) and still fail a node that publishes a tick's
// outputs a tick late: median under half the 20 ms period; p90 under five periods and p99
// under a hundred only catch a stalled node.
func TestIntegrationLatency(t *testing.T) {
	needROS(t)
	m := startMaster(t)
	mdl := goldenModel(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := NewNode(Config{Env: testEnv(t, m), Arch: mdl.Arch, Model: mdl.NewRunner(), Predict: true,
		Period: 20 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	loop, err := tick.New(tick.Config{Rate: 50, Model: mdl.NewRunner(), Source: &wallSource{img: make([]byte, 64*64*3)},
		Actions: n.Actions(), Sinks: []tick.Sink{n}, Clock: n.Clock(), MaxFrameAge: time.Second, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { loop.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	<-n.Ready()

	const count = 300
	for _, topic := range []string{"/rssmd/latent", "/rssmd/predicted_image"} {
		res, err := m.py(60*time.Second, "latency", topic, "300", "30")
		if err != nil || len(res) != 1 {
			t.Fatalf("%s: %v %v", topic, res, err)
		}
		raw, _ := res[0]["latency_us"].([]any)
		if len(raw) != count {
			t.Fatalf("%s: %d latencies, want %d", topic, len(raw), count)
		}
		// predicted_image is stamped one period after its frame: add the period back.
		var offset float64
		if topic == "/rssmd/predicted_image" {
			offset = 20e3
		}
		lat := make([]float64, len(raw))
		for i, v := range raw {
			lat[i] = num(v) + offset
		}
		slices.Sort(lat)
		med, p90, p99 := lat[len(lat)/2], lat[len(lat)*90/100], lat[len(lat)*99/100]
		t.Logf("%s: capture stamp → rospy callback over %d messages: median %.0f µs, p90 %.0f µs, p99 %.0f µs, max %.0f µs",
			topic, count, med, p90, p99, lat[len(lat)-1])
		const period = 20e3 // µs
		if lat[0] <= 0 {
			t.Errorf("%s: latency %.0f µs: received before its frame was captured", topic, lat[0])
		}
		if med > period/2 || p90 > 5*period || p99 > 100*period {
			t.Errorf("%s: median %.0f µs (bound %.0f), p90 %.0f µs (bound %.0f), p99 %.0f µs (bound %.0f)",
				topic, med, period/2, p90, 5*period, p99, 100*period)
		}
	}
}
