package capture

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/frame/camsim"
)

// fakeLive is a live source fed by the test: a mailbox and its counters.
type fakeLive struct {
	mb  *Mailbox
	seq uint64
}

func newFakeLive() *fakeLive { return &fakeLive{mb: NewMailbox()} }

func (s *fakeLive) Next(ctx context.Context) (Frame, error) { return s.mb.Next(ctx) }
func (s *fakeLive) Stats() Stats                            { return Stats{Frames: s.seq, Skipped: s.mb.Skipped()} }

func (s *fakeLive) send(f frame.Frame) {
	s.seq++
	s.mb.Publish(Frame{Frame: f, Seq: s.seq, Captured: time.Unix(100, int64(s.seq))})
}

func mjpegFrame(t testing.TB, w, h int, seed uint64) frame.Frame {
	t.Helper()
	data, err := camsim.MJPEG(camsim.Scene(w, h, seed, 4), 85)
	if err != nil {
		t.Fatal(err)
	}
	return frame.Frame{Data: data, Format: frame.MJPEG, Width: w, Height: h}
}

// direct is what the tick's own preprocessing makes of f: the reference.
func direct(t testing.TB, f frame.Frame, crop frame.Rect, filter frame.Filter) []byte {
	t.Helper()
	p, err := frame.NewPreprocessor(frame.Config{Format: f.Format, Width: f.Width, Height: f.Height, Crop: crop, Filter: filter})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, p.OutLen())
	if err := p.Process(out, f); err != nil {
		t.Fatal(err)
	}
	return out
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(discard{}, nil)) }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestPreparedMatchesTickPreprocessing: frames prepared on arrival are the
// bytes the tick would have made (so every model output is the same), with a
// centre crop recomputed when the camera comes back at another size, and the
// capture metadata passed through.
func TestPreparedMatchesTickPreprocessing(t *testing.T) {
	src := newFakeLive()
	p := NewPrepared(src, PrepareConfig{Crop: frame.CenterSquare, Filter: frame.Area, Log: quiet()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a frame that never comes fails, not hangs
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(ctx) }()

	for i, sz := range []struct{ w, h int }{{640, 480}, {640, 480}, {1280, 720}, {320, 240}} {
		f := mjpegFrame(t, sz.w, sz.h, uint64(i))
		src.send(f)
		got, err := p.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Format != frame.RGB24 || got.Width != 64 || got.Height != 64 {
			t.Fatalf("frame %d: prepared as %v %dx%d, want RGB24 64x64", i, got.Format, got.Width, got.Height)
		}
		if got.Seq != src.seq || !got.Captured.Equal(time.Unix(100, int64(src.seq))) {
			t.Errorf("frame %d: seq %d captured %v; the source's were %d, %v", i, got.Seq, got.Captured, src.seq, time.Unix(100, int64(src.seq)))
		}
		want := direct(t, f, frame.CenterSquare(sz.w, sz.h), frame.Area)
		if !bytes.Equal(got.Data, want) {
			t.Fatalf("frame %d (%dx%d): prepared image differs from the tick's preprocessing", i, sz.w, sz.h)
		}
		// What the tick then does with it: the identity path gives the same bytes.
		if again := direct(t, got.Frame, frame.Rect{}, frame.Bilinear); !bytes.Equal(again, want) {
			t.Fatalf("frame %d: the tick's pass over a prepared frame changed it", i)
		}
	}
	if s := p.Stats(); s.Refused != 0 || s.Frames != 4 {
		t.Errorf("stats %+v, want 4 frames and none refused", s)
	}
	cancel()
	waitRun(t, runErr, "its context ended")
}

// TestPreparedRefusesCorruptFrames: a truncated MJPEG frame and a frame whose
// size the preprocessor rejects are dropped and counted, never published, and
// the next good frame goes through.
func TestPreparedRefusesCorruptFrames(t *testing.T) {
	src := newFakeLive()
	p := NewPrepared(src, PrepareConfig{Filter: frame.Area, Log: quiet()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() { _ = p.Run(ctx) }()

	good := mjpegFrame(t, 640, 480, 1)
	bad := good
	bad.Data = good.Data[:len(good.Data)/3]
	src.send(bad)
	waitFor(t, func() bool { return p.Stats().Refused == 1 })
	src.send(frame.Frame{Data: make([]byte, 10), Format: frame.YUYV, Width: 3, Height: 2}) // odd YUYV width
	waitFor(t, func() bool { return p.Stats().Refused == 2 })
	if _, ok := p.Latest(); ok {
		t.Fatal("a refused frame was published")
	}
	if s := p.Stats(); s.LastError == "" {
		t.Error("LastError is empty after refused frames")
	}
	src.send(good)
	f, err := p.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Seq != 3 || !bytes.Equal(f.Data, direct(t, good, frame.Rect{}, frame.Area)) {
		t.Errorf("after refusals: seq %d, want 3 with the good frame's image", f.Seq)
	}
}

// TestPreparedStopsWithItsSource: a closed source ends Run with nil, and
// consumers waiting in Next get ErrClosed instead of hanging.
func TestPreparedStopsWithItsSource(t *testing.T) {
	src := newFakeLive()
	p := NewPrepared(src, PrepareConfig{Log: quiet()})
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(context.Background()) }()
	src.mb.Close()
	waitRun(t, runErr, "its source closed")
	<-p.Done()
	if _, err := p.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after the end: %v, want ErrClosed", err)
	}
}

// TestPreparedAllocatesNothing: after the first frame of a mode, preparing
// one allocates nothing (the decode-on-arrival goroutine runs at the camera's
// rate for hours).
func TestPreparedAllocatesNothing(t *testing.T) {
	src := newFakeLive()
	p := NewPrepared(src, PrepareConfig{Crop: frame.CenterSquare, Filter: frame.Area, Log: quiet()})
	f := Frame{Frame: mjpegFrame(t, 640, 480, 7), Seq: 1}
	p.prepare(f) // builds the preprocessor and the mailbox's buffers
	p.prepare(f)
	p.prepare(f)
	if n := testing.AllocsPerRun(50, func() {
		f.Seq++
		p.prepare(f)
		if _, ok := p.mb.Take(true); !ok {
			t.Fatal("nothing published")
		}
	}); n != 0 {
		t.Errorf("%v allocations per prepared frame, want 0", n)
	}
	if p.PrepareTime() <= 0 {
		t.Error("PrepareTime is not set")
	}
}

// busySource always has a new frame: Next never waits (a fast camera).
type busySource struct {
	f   frame.Frame
	seq uint64
}

func (s *busySource) Next(context.Context) (Frame, error) {
	s.seq++
	return Frame{Frame: s.f, Seq: s.seq}, nil
}
func (s *busySource) Stats() Stats { return Stats{Frames: s.seq} }

// TestPreparedStopsWhileFramesKeepComing: the end of Run's context stops it
// even when the source never makes it wait (Next hands a waiting frame out
// before it looks at the context).
func TestPreparedStopsWhileFramesKeepComing(t *testing.T) {
	p := NewPrepared(&busySource{f: mjpegFrame(t, 320, 240, 3)}, PrepareConfig{Log: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(ctx) }()
	waitFor(t, func() bool { return p.Published() > 2 })
	cancel()
	waitRun(t, runErr, "its context ended while frames kept coming")
}

// waitRun fails t unless Run returns nil within 2 s of what ended it.
func waitRun(t *testing.T, runErr <-chan error, after string) {
	t.Helper()
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run after %s: %v, want nil", after, err)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("Run did not return after %s", after)
	}
}
