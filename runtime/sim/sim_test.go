package sim

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
)

func newWorld(t testing.TB, c WorldConfig) *World {
	t.Helper()
	w, err := NewWorld(c)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func render(t testing.TB, w *World) []byte {
	t.Helper()
	b := make([]byte, w.FrameLen())
	if err := w.Render(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWorldConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    WorldConfig
	}{
		{"odd width", WorldConfig{Width: 321, Height: 240}},
		{"tiny", WorldConfig{Width: 8, Height: 8}},
		{"huge", WorldConfig{Width: 1 << 20, Height: 240}},
		{"format", WorldConfig{Format: frame.MJPEG}},
		{"negative dt", WorldConfig{DT: -1}},
		{"nan dt", WorldConfig{DT: math.NaN()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewWorld(tc.c); !errors.Is(err, ErrConfig) {
				t.Fatalf("got %v, want ErrConfig", err)
			}
		})
	}
}

func TestStepErrors(t *testing.T) {
	w := newWorld(t, WorldConfig{})
	for _, a := range [][]float32{nil, {1}, {1, 2, 3}, {float32(math.NaN()), 0}} {
		if err := w.Step(a); !errors.Is(err, ErrAction) {
			t.Errorf("Step(%v) = %v, want ErrAction", a, err)
		}
	}
	if err := w.Render(make([]byte, 10)); !errors.Is(err, ErrBuffer) {
		t.Errorf("Render into 10 bytes: %v, want ErrBuffer", err)
	}
}

// Same seed and actions give the same frames; another seed another pose.
func TestDeterministic(t *testing.T) {
	run := func(seed uint64) []byte {
		w := newWorld(t, WorldConfig{Seed: seed})
		ex := NewExplorer(seed)
		var all []byte
		for range 30 {
			if err := w.Step(ex.Next()); err != nil {
				t.Fatal(err)
			}
			all = append(all, render(t, w)...)
		}
		return all
	}
	a, b, c := run(7), run(7), run(8)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different frames")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same frames")
	}
}

func TestDynamics(t *testing.T) {
	w := newWorld(t, WorldConfig{Seed: 3})
	// A constant push ends at the joint limits, with the velocity stopped there.
	for range 200 {
		if err := w.Step([]float32{1, -1}); err != nil {
			t.Fatal(err)
		}
	}
	q, qd := w.Joints()
	if q[0] != q1Limit || q[1] != -q2Limit || qd[0] != 0 || qd[1] != 0 {
		t.Fatalf("after pushing into the limits: q=%v qd=%v", q, qd)
	}
	// Out-of-range actions are clipped, and reported clipped.
	if err := w.Step([]float32{-5, 0.5}); err != nil {
		t.Fatal(err)
	}
	if a := w.Action(); a != [2]float32{-1, 0.5} {
		t.Fatalf("applied action %v, want [-1 0.5]", a)
	}
	// With no action, damping brings a moving arm to rest.
	w.Reset(4)
	w.Shove(3, -3)
	_, qd0 := w.Joints()
	for range 100 {
		_ = w.Step([]float32{0, 0})
	}
	_, qd = w.Joints()
	if math.Abs(qd0[0]) < 2 || math.Abs(qd[0]) > 0.05 || math.Abs(qd[1]) > 0.05 {
		t.Fatalf("shove gave qd=%v, after 2 s of no action qd=%v", qd0, qd)
	}
	w.Shove(math.NaN(), math.Inf(1))
	if _, qd = w.Joints(); qd[1] != qd[1] || qd[1] > maxImpulse+1 {
		t.Fatalf("bad shove not contained: qd=%v", qd)
	}
}

func TestExplorerCoversRange(t *testing.T) {
	ex := NewExplorer(1)
	var lo, hi [ActionDim]float32
	for range 2000 {
		for i, v := range ex.Next() {
			if v < -1 || v > 1 {
				t.Fatalf("action %v outside [-1, 1]", v)
			}
			lo[i], hi[i] = min(lo[i], v), max(hi[i], v)
		}
	}
	for i := range lo {
		if lo[i] > -0.8 || hi[i] < 0.8 {
			t.Errorf("dim %d spans only [%v, %v]", i, lo[i], hi[i])
		}
	}
}

// YUYV frames, decoded by runtime/frame, show the same picture as RGB24 ones.
func TestYUYVMatchesRGB(t *testing.T) {
	for _, light := range []float64{1, 0.5} {
		var out [2][]byte
		for i, f := range []frame.PixelFormat{frame.RGB24, frame.YUYV} {
			w := newWorld(t, WorldConfig{Format: f, Seed: 5})
			w.SetDisturbances(Disturbances{Light: light})
			pre, err := frame.NewPreprocessor(PreprocessConfig(w.Config()))
			if err != nil {
				t.Fatal(err)
			}
			out[i] = make([]byte, pre.OutLen())
			if err := pre.Process(out[i], frame.Frame{Data: render(t, w), Format: f, Width: 320, Height: 240}); err != nil {
				t.Fatal(err)
			}
		}
		var sum float64
		for i := range out[0] {
			sum += math.Abs(float64(out[0][i]) - float64(out[1][i]))
		}
		if mad := sum / float64(len(out[0])); mad > 4 {
			t.Errorf("light %v: mean |RGB - YUYV| = %.2f levels", light, mad)
		}
	}
}

func TestDisturbances(t *testing.T) {
	w := newWorld(t, WorldConfig{Format: frame.RGB24, Seed: 2})
	base := render(t, w)
	mean := func(b []byte) float64 {
		var s float64
		for _, v := range b {
			s += float64(v)
		}
		return s / float64(len(b))
	}
	w.SetDisturbances(Disturbances{Light: 0.5})
	if r := mean(render(t, w)) / mean(base); math.Abs(r-0.5) > 0.02 {
		t.Errorf("light 0.5 scaled brightness by %.3f", r)
	}
	rect := frame.Rect{X: 10, Y: 20, W: 30, H: 40}
	w.SetDisturbances(Disturbances{Occluder: true, OccluderRect: rect})
	occ := render(t, w)
	for y := range 240 {
		for x := range 320 {
			in := x >= rect.X && x < rect.X+rect.W && y >= rect.Y && y < rect.Y+rect.H
			i := 3 * (y*320 + x)
			px := [3]byte{occ[i], occ[i+1], occ[i+2]}
			patch := px == [3]byte{220, 30, 200} || px == [3]byte{20, 20, 20}
			if in != patch || (!in && !bytes.Equal(occ[i:i+3], base[i:i+3])) {
				t.Fatalf("pixel (%d,%d) inside=%v: %v, without occluder %v", x, y, in, px, base[i:i+3])
			}
		}
	}
}

func TestRecordEpisodeRoundTrip(t *testing.T) {
	w := newWorld(t, WorldConfig{})
	pre, err := frame.NewPreprocessor(PreprocessConfig(w.Config()))
	if err != nil {
		t.Fatal(err)
	}
	ep, err := RecordEpisode(w, pre, 11, 20, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "0.npz")
	if err := ep.WriteNPZ(path); err != nil {
		t.Fatal(err)
	}
	seq, err := seqio.ReadSequenceFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if seq.T != 20 || seq.ActionDim != ActionDim || !bytes.Equal(seq.Images, ep.Image) {
		t.Fatalf("read back T=%d A=%d, images equal %v", seq.T, seq.ActionDim, bytes.Equal(seq.Images, ep.Image))
	}
	if !seq.IsFirst[0] || seq.IsFirst[1] {
		t.Errorf("is_first = %v", seq.IsFirst[:2])
	}
	if a := seq.Action(0); a[0] != 0 || a[1] != 0 {
		t.Errorf("pre_action row 0 = %v, want zeros", a)
	}
	var moved bool
	for i := range seq.PreAction {
		if seq.PreAction[i] != ep.PreAction[i] {
			t.Fatalf("pre_action[%d] = %v, want %v", i, seq.PreAction[i], ep.PreAction[i])
		}
		moved = moved || seq.PreAction[i] != 0
	}
	if !moved {
		t.Error("all actions are zero")
	}
	if cs, err := capture.LoadSequence(path); err != nil || cs.T != 20 {
		t.Errorf("capture.LoadSequence: %v", err)
	}
	// The episode is reproducible from its seed.
	ep2, _ := RecordEpisode(w, pre, 11, 20, nil)
	if !bytes.Equal(ep2.Image, ep.Image) {
		t.Error("re-recording the same seed differs")
	}
	if _, err := RecordEpisode(w, pre, 1, 0, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("T=0: %v", err)
	}
}

func TestCameraAsFastAsAsked(t *testing.T) {
	c, err := NewCamera(CameraConfig{World: WorldConfig{Seed: 9}, Explore: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.Latest(); ok {
		t.Fatal("Latest before the first frame")
	}
	w := newWorld(t, WorldConfig{Seed: 9})
	ex := NewExplorer(9)
	ctx := context.Background()
	for n := range 5 {
		f, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			_ = w.Step(ex.Next())
		}
		a := w.Action()
		if f.Seq != uint64(n) || f.Format != frame.YUYV || f.Width != 320 || !bytes.Equal(f.Data, render(t, w)) ||
			f.PreAction[0] != a[0] || f.PreAction[1] != a[1] {
			t.Fatalf("frame %d: seq %d, pre_action %v (want %v), data equal %v", n, f.Seq, f.PreAction, a, bytes.Equal(f.Data, render(t, w)))
		}
	}
	if s := c.Stats(); s.Frames != 5 || s.Skipped != 0 {
		t.Errorf("stats %+v", s)
	}
	allocs := testing.AllocsPerRun(50, func() { _, _ = c.Next(ctx) })
	if allocs != 0 {
		t.Errorf("Next allocates %v per frame", allocs)
	}
	c.Close()
	if _, err := c.Next(ctx); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestCameraRealTime(t *testing.T) {
	c, err := NewCamera(CameraConfig{Rate: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	f0, err := c.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond) // about 12 frame periods: the next Next skips
	f1, err := c.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f1.Seq < f0.Seq+5 || !f1.Captured.After(f0.Captured) || c.Stats().Skipped == 0 {
		t.Fatalf("after sleeping: seq %d -> %d, stats %+v", f0.Seq, f1.Seq, c.Stats())
	}
	f2, err := c.Next(ctx) // waits for the next due frame
	if err != nil || f2.Seq != f1.Seq+1 {
		t.Fatalf("next frame: seq %d, %v", f2.Seq, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Next(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	slow, _ := NewCamera(CameraConfig{Rate: 0.001})
	defer slow.Close()
	_, _ = slow.Next(ctx) // frame 0 is due at once
	go func() { time.Sleep(5 * time.Millisecond); slow.Close() }()
	if _, err := slow.Next(ctx); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("Close during a wait: %v", err)
	}
	if _, err := NewCamera(CameraConfig{Rate: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("negative rate: %v", err)
	}
}

func TestWorldAllocs(t *testing.T) {
	w := newWorld(t, WorldConfig{})
	buf := make([]byte, w.FrameLen())
	a := []float32{0.3, -0.2}
	w.SetDisturbances(Disturbances{Occluder: true, Light: 1.4})
	if n := testing.AllocsPerRun(20, func() { _ = w.Step(a); _ = w.Render(buf) }); n != 0 {
		t.Errorf("Step+Render allocate %v", n)
	}
}

func BenchmarkRender(b *testing.B) {
	for _, f := range []frame.PixelFormat{frame.YUYV, frame.RGB24} {
		b.Run(f.String()+"/320x240", func(b *testing.B) {
			w := newWorld(b, WorldConfig{Format: f})
			buf := make([]byte, w.FrameLen())
			ex := NewExplorer(1)
			b.ReportAllocs()
			for b.Loop() {
				_ = w.Step(ex.Next())
				_ = w.Render(buf)
			}
		})
	}
}

func TestScript(t *testing.T) {
	s := Script{{Kind: Occlude, Start: 3, Frames: 2}, {Kind: ShoveArm, Start: 4, Frames: 3}, {Kind: Dim, Start: 8, Frames: 1}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []Kind{0, 0, 0, Occlude, Occlude | ShoveArm, ShoveArm, ShoveArm, 0, Dim, 0}
	for n, k := range want {
		if got := s.Active(uint64(n)); got != k {
			t.Errorf("frame %d: %v, want %v", n, got, k)
		}
	}
	for _, bad := range []Script{{{Kind: 0, Frames: 1}}, {{Kind: Occlude | Dim, Frames: 1}}, {{Kind: Dim}}, {{Kind: 1 << 6, Frames: 1}}} {
		if err := bad.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if p := Periodic([]Kind{Occlude, Dim}, 10, 100, 20, 3); len(p) != 3 || p[2].Kind != Occlude || p[2].Start != 210 {
		t.Errorf("Periodic: %+v", p)
	}
	// A camera with the script shows the occluder only while it is active
	// and gets shoved at the shove's first frame.
	plain, _ := NewCamera(CameraConfig{World: WorldConfig{Seed: 1}})
	scripted, err := NewCamera(CameraConfig{World: WorldConfig{Seed: 1}, Script: s})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for n := range 10 {
		a, _ := plain.Next(ctx)
		b, _ := scripted.Next(ctx)
		differ := !bytes.Equal(a.Data, b.Data)
		if wantDiff := n >= 3; differ != wantDiff {
			t.Errorf("frame %d: differs %v, want %v (active %v)", n, differ, wantDiff, scripted.Disturbed(uint64(n)))
		}
	}
	if _, err := NewCamera(CameraConfig{Script: Script{{}}}); !errors.Is(err, ErrConfig) {
		t.Errorf("bad script: %v", err)
	}
}

func TestRecordScripted(t *testing.T) {
	w := newWorld(t, WorldConfig{})
	pre, _ := frame.NewPreprocessor(PreprocessConfig(w.Config()))
	s := Script{{Kind: Occlude, Start: 5, Frames: 3}, {Kind: ShoveArm, Start: 10, Frames: 2}}
	ep, err := RecordEpisode(w, pre, 3, 15, s)
	if err != nil {
		t.Fatal(err)
	}
	clean, _ := RecordEpisode(w, pre, 3, 15, nil)
	for n := range 15 {
		if ep.Disturbed[n] != uint8(s.Active(uint64(n))) {
			t.Errorf("frame %d: disturbed %d", n, ep.Disturbed[n])
		}
		same := bytes.Equal(ep.Image[n*64*64*3:(n+1)*64*64*3], clean.Image[n*64*64*3:(n+1)*64*64*3])
		if want := n < 5 || (n >= 8 && n < 10); same != want {
			t.Errorf("frame %d: equal to the clean episode %v, want %v", n, same, want)
		}
	}
	var buf bytes.Buffer
	if err := ep.EncodeNPZ(&buf); err != nil {
		t.Fatal(err)
	}
	arr, err := seqio.ReadArrays(buf.Bytes())
	if err != nil || arr["disturbed"] == nil {
		t.Fatalf("disturbed array not written: %v", err)
	}
	if clean.Disturbed != nil {
		t.Error("clean episode has disturbed flags")
	}
}
