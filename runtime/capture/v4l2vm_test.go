//go:build v4l2vm && linux && cgo

// This test needs a real V4L2 device (vivid) and runs inside the VM that
// v4l2test/run.sh boots (make test-v4l2). Build tag v4l2vm keeps it out of
// ordinary test runs.

package capture

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/frame"
)

func vmDevice(t *testing.T) string {
	dev := os.Getenv("RSSMD_V4L2_DEVICE")
	if dev == "" {
		dev = "/dev/video0"
	}
	if _, err := os.Stat(dev); err != nil {
		t.Fatalf("no V4L2 device: %v", err)
	}
	return dev
}

func TestV4L2VMCapture(t *testing.T) {
	dev := vmDevice(t)
	modes, err := ListModes(dev)
	if err != nil {
		t.Fatal(err)
	}
	best := 0.0
	t.Logf("%d modes", len(modes))
	for _, m := range modes {
		if m.Supported != frame.FormatInvalid {
			t.Logf("mode %v", m)
		}
		if m.Supported == frame.YUYV && m.Width == 640 && m.Height == 480 {
			for _, f := range m.FPS {
				best = max(best, f)
			}
		}
	}
	if best == 0 {
		t.Fatalf("device offers no YUYV 640x480 mode with a discrete rate: %v", modes)
	}
	t.Logf("capturing YUYV 640x480 at %v fps", best)

	conf := V4L2Config{Device: dev, Format: frame.YUYV, Width: 640, Height: 480, FPS: best, Timeout: 5 * time.Second}
	start := time.Now()
	cam, err := NewV4L2(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("open+streamon took %v", time.Since(start))
	pre, err := frame.NewPreprocessor(frame.Config{Format: frame.YUYV, Width: 640, Height: 480})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	const n = 24
	var (
		prev        Frame
		first       []byte
		differs     bool
		outs        [][]byte
		firstAt     time.Time
		prevCapture time.Time
	)
	for i := range n {
		f, err := cam.Next(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v (stats %+v)", i, err, cam.Stats())
		}
		now := time.Now()
		if i == 0 {
			firstAt = now
			first = bytes.Clone(f.Data)
		} else {
			if f.Seq <= prev.Seq {
				t.Errorf("frame %d: seq %d after %d", i, f.Seq, prev.Seq)
			}
			if f.Mono <= prev.Mono || !f.Captured.After(prevCapture) {
				t.Errorf("frame %d: timestamp did not increase (mono %v after %v)", i, f.Mono, prev.Mono)
			}
			if !bytes.Equal(f.Data, first) {
				differs = true
			}
		}
		if age := now.Sub(f.Captured); age < -time.Second || age > 5*time.Second {
			t.Errorf("frame %d: captured %v ago; the wall-time mapping is off", i, age)
		}
		// vivid stamps frames on its nominal schedule, which can run up to
		// a frame period ahead of the moment we dequeue; real cameras stamp
		// in the past.
		if mono := monoNow() - f.Mono; mono < -100*time.Millisecond || mono > 5*time.Second {
			t.Errorf("frame %d: monotonic age %v", i, mono)
		}
		if len(f.Data) < 640*480*2 {
			t.Fatalf("frame %d: %d bytes", i, len(f.Data))
		}
		out := make([]byte, pre.OutLen())
		if err := pre.Process(out, f.Frame); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
		prev, prevCapture = f, f.Captured
	}
	el := time.Since(firstAt)
	st := cam.Stats()
	t.Logf("%d frames in %v (%.1f fps delivered), stats %+v", n-1, el, float64(n-1)/el.Seconds(), st)
	if !differs {
		t.Error("all frames are identical")
	}
	if o := outs[len(outs)-1]; bytes.Count(o, o[:1]) == len(o) {
		t.Error("preprocessed frame is constant")
	}
	if !st.Connected || st.Frames < n || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
	if err := cam.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cam.Next(ctx); err == nil {
		t.Error("Next after Close succeeded")
	}

	// The wrong size must be refused clearly, not captured silently.
	bad := conf
	bad.Width, bad.Height = 641, 479
	if c, err := NewV4L2(bad); err == nil {
		c.Close()
		t.Error("641x479 accepted")
	} else {
		t.Logf("641x479 refused: %v", err)
	}

	// Close must have released the device: open it again and capture.
	start = time.Now()
	cam, err = NewV4L2(conf)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer cam.Close()
	for i := range 3 {
		if _, err := cam.Next(ctx); err != nil {
			t.Fatalf("after reopen, frame %d: %v", i, err)
		}
	}
	t.Logf("reopen and 3 frames took %v", time.Since(start))

	// Steady state allocates nothing per frame, in the capture goroutine
	// (dequeue, copy, publish) or in Next: AllocsPerRun counts every
	// goroutine's allocations.
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := cam.Next(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per frame, all goroutines: %v", allocs)
	if allocs > 0.5 {
		t.Errorf("%v allocations per captured frame", allocs)
	}

}

// TestV4L2VMUYVY60 captures the other packed format at vivid's fastest mode.
func TestV4L2VMUYVY60(t *testing.T) {
	dev := vmDevice(t)
	cam, err := NewV4L2(V4L2Config{Device: dev, Format: frame.UYVY, Width: 320, Height: 180, FPS: 60, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	pre, err := frame.NewPreprocessor(frame.Config{Format: frame.UYVY, Width: 320, Height: 180, Crop: frame.CenterSquare(320, 180)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := make([]byte, pre.OutLen())
	var last uint64
	start := time.Now()
	const n = 30
	for i := range n {
		f, err := cam.Next(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if i > 0 && f.Seq <= last {
			t.Errorf("frame %d: seq %d after %d", i, f.Seq, last)
		}
		last = f.Seq
		if err := pre.Process(out, f.Frame); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("UYVY 320x180: %d frames in %v, stats %+v", n, time.Since(start), cam.Stats())
}
