//go:build v4l2vm && linux && cgo

package v4l2test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/tick"
	"github.com/vladimirvivien/go4vl/v4l2"
	"golang.org/x/sys/unix"
)

// stepper is a model that only checks what the loop hands it: the tick
// loop, not the network, is under test here.
type stepper struct{ arch model.Arch }

func (s *stepper) Arch() *model.Arch { return &s.arch }
func (s *stepper) PosteriorStep(_ *model.State, a []float32, img []uint8, _ bool, _ *model.StepOutput, _ model.Noise) error {
	if len(img) != model.ImageValues {
		return errors.New("image of the wrong size")
	}
	return s.arch.CheckAction(a)
}
func (s *stepper) PriorStep(*model.State, []float32, *model.StepOutput, model.Noise) error {
	return nil
}
func (s *stepper) Decode([]float32, []float32, []float32) error { return nil }
func (s *stepper) Evaluate([]float32, []float32, []uint8, []float32, float32, []float32, *model.Likelihood) error {
	return nil
}

// watch is the tick loop's source: the camera, with what the loop took
// from it recorded for the test.
type watch struct {
	cam  *capture.Camera
	mu   sync.Mutex
	last capture.Frame // metadata only: Data is not kept
}

func (w *watch) Latest() (capture.Frame, bool) {
	f, ok := w.cam.Latest()
	if ok {
		w.mu.Lock()
		w.last = f
		w.last.Data = nil
		w.mu.Unlock()
	}
	return f, ok
}

func (w *watch) Stats() capture.Stats { return w.cam.Stats() }

// steps records every step the loop publishes and its cumulative stats.
type steps struct {
	mu    sync.Mutex
	n     int
	first []uint64 // Seq of steps that started an episode
	stats tick.Stats
}

func (s *steps) OnTick(r *tick.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if r.IsFirst {
		s.first = append(s.first, r.Seq)
	}
	s.stats = r.Stats
}

// until polls cond every 10ms for up to d and returns how long it took.
func until(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func run(t *testing.T, name string, args ...string) error {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return errors.New(strings.TrimSpace(string(out)) + ": " + err.Error())
	}
	return nil
}

// driverDefault opens the node as a fresh client would and reports the
// format the driver starts with.
func driverDefault(t *testing.T, dev string) v4l2.PixFormat {
	t.Helper()
	fd, err := v4l2.OpenDevice(dev, unix.O_RDWR|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("open %s: %v", dev, err)
	}
	defer v4l2.CloseDevice(fd)
	f, err := v4l2.GetPixFormat(fd)
	if err != nil {
		t.Fatalf("VIDIOC_G_FMT: %v", err)
	}
	return f
}

// TestV4L2VMUnplug removes the vivid device while the tick loop streams
// from it and brings it back, twice: the loop keeps ticking, the camera
// reopens within 2s of the device's return, and the counters tell the
// story. The second time the driver comes back with other parameters and
// another default mode, which the camera must set again.
func TestV4L2VMUnplug(t *testing.T) {
	ko, params := os.Getenv("RSSMD_VIVID_KO"), os.Getenv("RSSMD_VIVID_PARAMS")
	if ko == "" {
		t.Fatal("RSSMD_VIVID_KO is not set: this test runs inside the VM of run.sh")
	}
	altParams := os.Getenv("RSSMD_VIVID_ALT_PARAMS")
	const dev = "/dev/video0"
	if _, err := os.Stat(dev); err != nil {
		t.Fatalf("no V4L2 device: %v", err)
	}
	def0 := driverDefault(t, dev)
	t.Logf("driver default at boot (%s): %s %dx%d", params, fourCC(def0.PixelFormat), def0.Width, def0.Height)

	// The camera as rssmd opens it: defaults for timeout and backoff.
	cam, err := capture.NewV4L2(capture.V4L2Config{Device: dev, Format: frame.YUYV, Width: 640, Height: 480, FPS: 25,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	t.Logf("opened: %s", cam.Stats().Mode)
	src := &watch{cam: cam}
	rec := &steps{}
	const rate = 20
	loop, err := tick.New(tick.Config{Rate: rate, Model: &stepper{arch: model.Arch{Deter: 8, Stoch: 4, Hidden: 8, EmbDim: 8}},
		Source: src, Sinks: []tick.Sink{rec}, MaxFrameAge: 500 * time.Millisecond, ResetAfter: 500 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("loop: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("loop did not stop within 5s of cancel")
		}
	}()
	nSteps := func() int { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.n }
	until(t, 20*time.Second, "10 steps from the camera", func() bool { return nSteps() >= 10 })

	for round, p := range []string{params, altParams} {
		// Unplug: unbind the platform device, as a USB disconnect would.
		// vivid cannot be unloaded while a client holds it open, so rmmod
		// succeeding below also proves the camera let go of the device.
		before := loop.Stats()
		stepsBefore := nSteps()
		t0 := time.Now()
		if err := os.WriteFile("/sys/bus/platform/drivers/vivid/unbind", []byte("vivid.0"), 0); err != nil {
			t.Fatalf("round %d: unbind: %v", round, err)
		}
		lost := until(t, 3*time.Second, "camera noticing the unplug", func() bool { return !cam.Stats().Connected })
		var rmErr error
		until(t, 3*time.Second, "rmmod vivid (the camera still holds the device?)", func() bool {
			rmErr = run(t, "rmmod", "vivid")
			return rmErr == nil
		})
		t.Logf("round %d: unplugged; camera noticed after %v, last error %q", round, lost, cam.Stats().LastError)

		// Gone for a while: the loop keeps ticking, without steps.
		time.Sleep(1500 * time.Millisecond)
		gone := loop.Stats()
		if dt := gone.Ticks - before.Ticks; dt < rate { // ≥ ~1.5s of 20 Hz ticks, with slack
			t.Errorf("round %d: %d ticks while the camera was gone for %v; the loop stalled", round, dt, time.Since(t0))
		}
		if got := nSteps() - stepsBefore; got > 3 {
			t.Errorf("round %d: %d steps while the camera was gone", round, got)
		}
		if gone.NoFrame-before.NoFrame < rate {
			t.Errorf("round %d: only %d ticks without a frame", round, gone.NoFrame-before.NoFrame)
		}
		if gone.Source.Connected || gone.Source.Errors <= before.Source.Errors {
			t.Errorf("round %d: source stats while gone: %+v", round, gone.Source)
		}

		// Plug back in.
		args := append([]string{ko}, strings.Fields(p)...)
		if err := run(t, "insmod", args...); err != nil {
			t.Fatalf("round %d: insmod %v: %v", round, args, err)
		}
		back := time.Now()
		until(t, 2*time.Second, "device node back", func() bool { _, err := os.Stat(dev); return err == nil })
		reopen := until(t, 2*time.Second-time.Since(back), "camera reopened", func() bool { return cam.Stats().Reconnects == uint64(round+1) })
		reopen = time.Since(back)
		fresh := until(t, 5*time.Second, "a step on a new frame", func() bool { return nSteps() > stepsBefore+1 })
		st := loop.Stats()
		t.Logf("round %d: back with %q; reopened %v after insmod, first step %v later; stats %+v", round, p, reopen, fresh, st)
		t.Logf("round %d: camera mode %q", round, st.Source.Mode)
		if st.Source.Reconnects != uint64(round+1) || !st.Source.Connected {
			t.Errorf("round %d: source stats %+v", round, st.Source)
		}
		// The driver restarts its sequence numbers; that is not a gap of
		// lost frames.
		if d := st.Source.Dropped - before.Source.Dropped; d > 5 {
			t.Errorf("round %d: %d frames counted as dropped across the reconnect", round, d)
		}
		if st.Resets <= before.Resets {
			t.Errorf("round %d: the first step after the outage did not start a new episode (resets %d)", round, st.Resets)
		}
		src.mu.Lock()
		f := src.last
		src.mu.Unlock()
		if f.Format != frame.YUYV || f.Width != 640 || f.Height != 480 {
			t.Errorf("round %d: frames after the reconnect are %v %dx%d", round, f.Format, f.Width, f.Height)
		}
		if !strings.HasPrefix(st.Source.Mode, "YUYV 640x480") {
			t.Errorf("round %d: mode %q", round, st.Source.Mode)
		}
		if round == 1 {
			// The driver came back with another default, and the camera
			// set its own mode again.
			if !strings.Contains(st.Source.Mode, "driver default was") || strings.Contains(st.Source.Mode, "default was YUYV 640x480") {
				t.Errorf("mode %q: the alternative parameters %q did not change the default, or the camera did not notice", st.Source.Mode, p)
			}
		}
	}
	final := loop.Stats()
	if final.StepErrors != 0 || final.FrameErrors != 0 {
		t.Errorf("step errors %d, frame errors %d", final.StepErrors, final.FrameErrors)
	}
	t.Logf("final: %+v", final)
}

func fourCC(cc uint32) string {
	return string([]byte{byte(cc), byte(cc >> 8), byte(cc >> 16), byte(cc >> 24)})
}
