package pipeline

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/frame/camsim"
	"github.com/rssmd/rssmd/runtime/tick"
)

// mjpegCamera is a live source (a capture.Waiter, as a V4L2 camera or a ROS
// image topic is) sending the same MJPEG frame every period until stopped.
type mjpegCamera struct {
	mb   *capture.Mailbox
	f    frame.Frame
	seq  uint64
	mu   sync.Mutex
	stop chan struct{}
}

func (c *mjpegCamera) run(period time.Duration) {
	tk := time.NewTicker(period)
	defer tk.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tk.C:
		}
		c.mu.Lock()
		c.seq++
		seq := c.seq
		c.mu.Unlock()
		c.mb.Publish(capture.Frame{Frame: c.f, Seq: seq, Captured: time.Now()})
	}
}

func (c *mjpegCamera) Next(ctx context.Context) (capture.Frame, error) { return c.mb.Next(ctx) }
func (c *mjpegCamera) Latest() (capture.Frame, bool)                   { return c.mb.Take(false) }
func (c *mjpegCamera) Stats() capture.Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return capture.Stats{Frames: c.seq, Connected: true}
}

// imageSink keeps every stepped image.
type imageSink struct {
	mu     sync.Mutex
	images [][]byte
}

func (s *imageSink) OnTick(r *tick.Result) {
	s.mu.Lock()
	s.images = append(s.images, bytes.Clone(r.Image))
	s.mu.Unlock()
}

// TestPrepareSetting: with prepare=arrival (the default) a live MJPEG source
// is decoded on arrival (the run holds a capture.Prepared) and with
// prepare=tick inside the tick; both step exactly the image the frame
// package makes of the frame with the configured crop and filter, and the
// run stops its preprocessing goroutine when it ends.
func TestPrepareSetting(t *testing.T) {
	data, err := camsim.MJPEG(camsim.Scene(640, 480, 5, 4), 85)
	if err != nil {
		t.Fatal(err)
	}
	f := frame.Frame{Data: data, Format: frame.MJPEG, Width: 640, Height: 480}
	pre, err := frame.NewPreprocessor(frame.Config{Format: frame.MJPEG, Width: 640, Height: 480,
		Crop: frame.CenterSquare(640, 480), Filter: frame.Area})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, pre.OutLen())
	if err := pre.Process(want, f); err != nil {
		t.Fatal(err)
	}
	om, err := OpenModel(golden, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{PrepareArrival, PrepareTick} {
		t.Run(mode, func(t *testing.T) {
			cam := &mjpegCamera{mb: capture.NewMailbox(), f: f, stop: make(chan struct{})}
			go cam.run(5 * time.Millisecond)
			defer close(cam.stop)
			conf := Defaults()
			conf.Model, conf.Source, conf.MetricsAddr, conf.Rate = golden, SourceROS, "127.0.0.1:0", 100
			conf.Crop, conf.Filter, conf.Prepare, conf.Duration = "center", "area", mode, 400*time.Millisecond
			sink := &imageSink{}
			p, err := New(conf, Deps{Model: om, Source: cam, Sinks: []tick.Sink{sink}, NoMetricsListener: true}, quiet())
			if err != nil {
				t.Fatal(err)
			}
			if got := p.prepared != nil; got != (mode == PrepareArrival) {
				t.Fatalf("prepare=%s: decoding on arrival is %v", mode, got)
			}
			s, err := p.Run(context.Background())
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
			if s.FrameErrors != 0 || s.Steps < 5 {
				t.Fatalf("prepare=%s: %d steps, %d frame errors; want ≥ 5 and none", mode, s.Steps, s.FrameErrors)
			}
			for i, img := range sink.images {
				if !bytes.Equal(img, want) {
					t.Fatalf("prepare=%s: step %d's image differs from the frame package's preprocessing", mode, i)
				}
			}
			rec := httptest.NewRecorder()
			p.Metrics().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			prepared := metricValue(t, rec.Body.String(), "rssmd_prepare_seconds_count")
			if mode == PrepareArrival && prepared < float64(s.Steps) {
				t.Errorf("rssmd_prepare_seconds counted %v frames for %d steps", prepared, s.Steps)
			}
			if mode == PrepareTick && prepared != 0 {
				t.Errorf("prepare=tick: rssmd_prepare_seconds counted %v frames, want 0", prepared)
			}
			if p.prepared != nil {
				select {
				case <-p.prepared.Done():
				default:
					t.Error("the preprocessing goroutine still runs after the run ended")
				}
			}
		})
	}
}
