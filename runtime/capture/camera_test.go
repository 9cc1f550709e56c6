package capture

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/frame"
)

// fakeCam is a camera the test scripts: it produces frames on demand, can
// vanish (ENODEV) and refuse to reopen a number of times.
type fakeCam struct {
	mu        sync.Mutex
	ready     []rawBuffer // filled buffers waiting to be dequeued
	nextSeq   uint32
	vanished  bool
	failOpens int
	opens     int
	queued    map[int]bool // buffers the "driver" owns
	bufs      [][]byte
	frameCond chan struct{}
}

func newFakeCam(n int) *fakeCam {
	f := &fakeCam{queued: map[int]bool{}, frameCond: make(chan struct{}, 64)}
	for i := range n {
		f.bufs = append(f.bufs, make([]byte, 8))
		f.queued[i] = true
	}
	return f
}

// produce fills a free buffer with value v and sequence seq; skip > 0
// simulates frames the driver dropped.
func (f *fakeCam) produce(v byte, skip uint32) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextSeq += skip
	for i, q := range f.queued {
		if q {
			f.queued[i] = false
			for k := range f.bufs[i] {
				f.bufs[i][k] = v
			}
			f.ready = append(f.ready, rawBuffer{index: i, data: f.bufs[i], seq: f.nextSeq, mono: time.Duration(f.nextSeq) * time.Millisecond})
			f.nextSeq++
			select {
			case f.frameCond <- struct{}{}:
			default:
			}
			return true
		}
	}
	return false // driver starved: every buffer is out
}

func (f *fakeCam) open(*V4L2Config) (device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens++
	if f.failOpens > 0 {
		f.failOpens--
		return nil, syscall.ENOENT
	}
	f.vanished = false
	f.nextSeq = 0 // drivers restart the sequence after reopening
	return fakeDev{f}, nil
}

type fakeDev struct{ f *fakeCam }

func (d fakeDev) dequeue(timeout time.Duration) (rawBuffer, error) {
	deadline := time.Now().Add(timeout)
	for {
		d.f.mu.Lock()
		if d.f.vanished {
			d.f.mu.Unlock()
			return rawBuffer{}, syscall.ENODEV
		}
		if len(d.f.ready) > 0 {
			b := d.f.ready[0]
			n := copy(d.f.ready, d.f.ready[1:]) // keep capacity: no allocation
			d.f.ready = d.f.ready[:n]
			d.f.mu.Unlock()
			return b, nil
		}
		d.f.mu.Unlock()
		wait := time.Until(deadline)
		if wait <= 0 {
			return rawBuffer{}, errWouldBlock
		}
		select {
		case <-d.f.frameCond:
		case <-time.After(wait):
		}
	}
}

func (d fakeDev) requeue(i int) error {
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	if d.f.queued[i] {
		return errors.New("fake: buffer queued twice")
	}
	d.f.queued[i] = true
	return nil
}

func (d fakeDev) close() error { return nil }

func (d fakeDev) wallOffset() time.Duration { return time.Hour }

func quietConf() V4L2Config {
	return V4L2Config{
		Width: 4, Height: 1, Timeout: 300 * time.Millisecond,
		MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func TestCameraNewestFrame(t *testing.T) {
	cam := newFakeCam(4)
	c, err := newCamera(quietConf(), cam.open)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	cam.produce(1, 0)
	f, err := c.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Data[0] != 1 || f.Seq != 1 || f.Format != frame.YUYV {
		t.Fatalf("first frame: value %d seq %d format %v", f.Data[0], f.Seq, f.Format)
	}
	if want := time.Unix(0, int64(f.Mono+time.Hour)); !f.Captured.Equal(want) {
		t.Errorf("Captured %v, want mono + offset %v", f.Captured, want)
	}
	// Three frames at once (the second after a 2-frame gap): only the
	// newest is delivered, drops are counted, every buffer goes back.
	for i, skip := range []uint32{0, 2, 0} {
		if !cam.produce(byte(2+i), skip) {
			t.Fatal("driver starved: buffers were not re-queued")
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		f, err = c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Data[0] == 4 || time.Now().After(deadline) {
			break
		}
	}
	// Raw sequence 0, 1, 4, 5: widened 1, 2, 5, 6.
	if f.Data[0] != 4 || f.Seq != 6 {
		t.Fatalf("newest frame: value %d seq %d, want 4 and 6", f.Data[0], f.Seq)
	}
	st := c.Stats()
	if st.Frames != 4 || st.Dropped != 2 || !st.Connected {
		t.Errorf("stats %+v: want 4 frames, 2 dropped, connected", st)
	}
	if l, ok := c.Latest(); !ok || l.Seq != f.Seq {
		t.Errorf("Latest = %d, %v", l.Seq, ok)
	}
	// Nothing newer: Next must block until ctx ends.
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := c.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next without a new frame: %v, want deadline exceeded", err)
	}
}

func TestCameraReconnect(t *testing.T) {
	cam := newFakeCam(3)
	c, err := newCamera(quietConf(), cam.open)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cam.produce(7, 0)
	first, err := c.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}

	cam.mu.Lock()
	cam.vanished = true
	cam.failOpens = 3
	cam.mu.Unlock()
	waitFor(t, func() bool { return cam.opensDone() >= 5 }) // 1 + 3 failed + 1 good
	st := c.Stats()
	if st.Reconnects != 1 || st.Errors < 4 || st.LastError == "" {
		t.Errorf("after reconnect: %+v, want 1 reconnect, ≥ 4 errors", st)
	}
	cam.produce(8, 0)
	f, err := c.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Data[0] != 8 || f.Seq <= first.Seq {
		t.Fatalf("after reconnect: value %d seq %d (before: %d)", f.Data[0], f.Seq, first.Seq)
	}
	if !c.Stats().Connected {
		t.Error("not connected after reconnect")
	}
}

func TestCameraTimeoutReopens(t *testing.T) {
	cam := newFakeCam(2)
	conf := quietConf()
	conf.Timeout = 50 * time.Millisecond
	c, err := newCamera(conf, cam.open)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return c.Stats().Reconnects >= 2 })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Connected || !strings.Contains(st.LastError, ErrTimeout.Error()) {
		t.Errorf("after Close: %+v", st)
	}
	if _, err := c.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
}

func (f *fakeCam) opensDone() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opens
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCameraDeliverAllocs(t *testing.T) {
	cam := newFakeCam(3)
	conf := quietConf()
	if err := conf.setDefaults(); err != nil {
		t.Fatal(err)
	}
	c := &Camera{conf: conf, mb: NewMailbox(), fresh: true}
	dev, _ := cam.open(&conf)
	step := func() {
		cam.produce(1, 0)
		b, err := dev.dequeue(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.deliver(dev, b); err != nil {
			t.Fatal(err)
		}
		c.mb.Take(true)
	}
	step() // first use sizes the mailbox buffers
	step()
	step()
	if a := testing.AllocsPerRun(100, step); a != 0 {
		t.Errorf("deliver allocates %v per frame", a)
	}
}

func TestV4L2ConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		conf V4L2Config
	}{
		{"RGB24 from a camera", V4L2Config{Format: frame.RGB24}},
		{"negative size", V4L2Config{Width: -1, Height: 480}},
		{"fps", V4L2Config{FPS: -5}},
		{"one buffer", V4L2Config{Buffers: 1}},
		{"backoff order", V4L2Config{MinBackoff: time.Second, MaxBackoff: time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newCamera(tt.conf, newFakeCam(2).open); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := newCamera(V4L2Config{}, func(*V4L2Config) (device, error) { return nil, syscall.ENOENT }); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("open failure at start: %v, want ENOENT", err)
	}
}

func TestSeqWidening(t *testing.T) {
	tests := []struct {
		name        string
		raw         []uint32
		wantSeq     uint64
		wantDropped uint64
	}{
		{"consecutive", []uint32{0, 1, 2, 3}, 4, 0},
		{"gap", []uint32{10, 11, 15}, 6, 3},
		{"repeat", []uint32{5, 5, 6}, 3, 0},
		{"wrap", []uint32{1<<32 - 2, 1<<32 - 1, 0, 1}, 4, 0},
		{"backwards", []uint32{100, 3, 4}, 3, 0},
	}
	for _, tt := range tests {
		c := &Camera{fresh: true}
		for _, r := range tt.raw {
			c.count(r)
		}
		if c.seq != tt.wantSeq || c.dropped.Load() != tt.wantDropped {
			t.Errorf("%s: seq %d dropped %d, want %d and %d", tt.name, c.seq, c.dropped.Load(), tt.wantSeq, tt.wantDropped)
		}
	}
}
