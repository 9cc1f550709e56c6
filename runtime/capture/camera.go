package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rssmd/rssmd/runtime/frame"
)

// V4L2Config configures a V4L2 camera source. Zero fields take the defaults
// noted.
type V4L2Config struct {
	// Device is the video node; default "/dev/video0".
	Device string
	// Format requested from the driver: YUYV (default), UYVY or MJPEG.
	Format frame.PixelFormat
	// Width and Height requested; default 640x480. The driver must accept
	// them exactly (a silently different size would break preprocessing).
	Width, Height int
	// FPS requested with VIDIOC_S_PARM; 0 keeps the driver's default.
	FPS float64
	// Buffers is the number of mmap buffers; default 4, at least 2.
	Buffers int
	// Timeout without a frame after which the device counts as lost and is
	// reopened; default 2s.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the exponential delay between reopen
	// attempts; defaults 100ms and 1s. A failed attempt on a missing device
	// costs one open(2), so the cap is what bounds how long a camera that
	// came back stays unused: about MaxBackoff plus its set-up time.
	MinBackoff, MaxBackoff time.Duration
	// Logger; default slog.Default() with component=capture.
	Logger *slog.Logger
}

func (c *V4L2Config) setDefaults() error {
	if c.Device == "" {
		c.Device = "/dev/video0"
	}
	if c.Format == frame.FormatInvalid {
		c.Format = frame.YUYV
	}
	switch c.Format {
	case frame.YUYV, frame.UYVY, frame.MJPEG:
	default:
		return fmt.Errorf("V4L2Config.Format: %v is not a camera format (want YUYV, UYVY or MJPEG)", c.Format)
	}
	if c.Width == 0 && c.Height == 0 {
		c.Width, c.Height = 640, 480
	}
	if c.Width <= 0 || c.Height <= 0 || c.Width > 16384 || c.Height > 16384 {
		return fmt.Errorf("V4L2Config.Width x Height: %dx%d out of range", c.Width, c.Height)
	}
	if c.FPS < 0 || c.FPS > 10000 {
		return fmt.Errorf("V4L2Config.FPS: %v out of range", c.FPS)
	}
	if c.Buffers == 0 {
		c.Buffers = 4
	}
	if c.Buffers < 2 || c.Buffers > 32 {
		return fmt.Errorf("V4L2Config.Buffers: %d, want 2..32", c.Buffers)
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = time.Second
	}
	if c.Timeout < 0 || c.MinBackoff < 0 || c.MaxBackoff < c.MinBackoff {
		return fmt.Errorf("V4L2Config: Timeout %v, MinBackoff %v, MaxBackoff %v: want positive and Min ≤ Max", c.Timeout, c.MinBackoff, c.MaxBackoff)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("component", "capture", "device", c.Device)
	return nil
}

// ErrNoV4L2 is returned by NewV4L2 and ListModes in builds without V4L2
// support (not Linux, or CGO_ENABLED=0: go4vl needs cgo). It is defined in
// every build so callers can test for it.
var ErrNoV4L2 = errors.New("capture: built without V4L2 support (needs linux and cgo)")

// ErrTimeout is recorded when no frame arrives within V4L2Config.Timeout.
var ErrTimeout = errors.New("no frame within the timeout")

// device is what the capture loop needs from an open, streaming camera; the
// V4L2 implementation lives in v4l2_linux.go, tests use a fake that can
// vanish and come back.
type device interface {
	// dequeue waits up to timeout for a filled buffer (0: do not wait) and
	// returns it; errWouldBlock when none is ready. The buffer belongs to
	// the caller until requeue.
	dequeue(timeout time.Duration) (rawBuffer, error)
	requeue(index int) error
	close() error
	// wallOffset is the measured wall-clock minus monotonic-clock offset
	// used to turn a buffer's monotonic timestamp into wall time.
	wallOffset() time.Duration
}

// rawBuffer is one dequeued driver buffer.
type rawBuffer struct {
	index  int
	data   []byte // the mmap'ed bytes in use (bytesused)
	seq    uint32
	mono   time.Duration // CLOCK_MONOTONIC capture time
	stride int
}

var errWouldBlock = errors.New("no buffer ready")

type openFunc func(conf *V4L2Config) (device, error)

// Camera is a Source reading a V4L2 device. One goroutine owns the device:
// it dequeues, keeps only the newest buffer (re-queueing older ones at once
// so the driver never runs out), copies it into the mailbox and re-queues it;
// on errors it closes the device and reopens it with exponential backoff
// while the Source stays usable.
type Camera struct {
	conf   V4L2Config
	open   openFunc
	log    *slog.Logger
	mb     *Mailbox
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	frames, dropped, errs, reconnects atomic.Uint64
	connected, closed                 atomic.Bool
	lastErr                           atomic.Pointer[string]
	mode                              atomic.Pointer[string]

	// Owned by the loop goroutine.
	seq     uint64
	lastRaw uint32
	fresh   bool // no frame yet since (re)open
}

// NewV4L2 opens the device (failing fast on a bad device or configuration)
// and starts capturing. Use ListModes to see what a device offers.
func NewV4L2(conf V4L2Config) (*Camera, error) {
	return newCamera(conf, openV4L2)
}

func newCamera(conf V4L2Config, open openFunc) (*Camera, error) {
	if err := conf.setDefaults(); err != nil {
		return nil, err
	}
	dev, err := open(&conf)
	if err != nil {
		return nil, fmt.Errorf("capture: open %s: %w", conf.Device, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Camera{conf: conf, open: open, log: conf.Logger, mb: NewMailbox(), cancel: cancel, fresh: true}
	c.opened(dev)
	c.wg.Add(1)
	go c.run(ctx, dev)
	return c, nil
}

// Config returns the configuration with defaults filled in.
func (c *Camera) Config() V4L2Config { return c.conf }

func (c *Camera) run(ctx context.Context, dev device) {
	defer c.wg.Done()
	for {
		err := c.stream(ctx, dev)
		_ = dev.close()
		c.connected.Store(false)
		if ctx.Err() != nil {
			return
		}
		c.fail(err)
		c.log.Warn("camera lost, reopening", "err", err)
		dev = c.reopen(ctx)
		if dev == nil {
			return
		}
		c.reconnects.Add(1)
		c.opened(dev)
		c.fresh = true
		c.log.Info("camera reconnected", "reconnects", c.reconnects.Load(), "mode", c.Stats().Mode)
	}
}

// moder is implemented by devices that can say what mode they negotiated.
type moder interface{ mode() string }

// opened records a device that has just been opened and is streaming.
func (c *Camera) opened(dev device) {
	if m, ok := dev.(moder); ok {
		s := m.mode()
		c.mode.Store(&s)
	}
	c.connected.Store(true)
}

func (c *Camera) fail(err error) {
	c.errs.Add(1)
	s := err.Error()
	c.lastErr.Store(&s)
}

// reopen retries with exponential backoff until it succeeds or ctx ends.
func (c *Camera) reopen(ctx context.Context) device {
	backoff := c.conf.MinBackoff
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		dev, err := c.open(&c.conf)
		if err == nil {
			return dev
		}
		c.fail(err)
		c.log.Debug("reopen failed", "err", err, "backoff", backoff)
		backoff = min(2*backoff, c.conf.MaxBackoff)
	}
}

// pollSlice bounds one wait so that Close is noticed quickly.
const pollSlice = 100 * time.Millisecond

// stream runs until the device fails or ctx ends.
func (c *Camera) stream(ctx context.Context, dev device) error {
	last := time.Now()
	for ctx.Err() == nil {
		b, err := dev.dequeue(min(pollSlice, c.conf.Timeout))
		if errors.Is(err, errWouldBlock) {
			if time.Since(last) >= c.conf.Timeout {
				return fmt.Errorf("%w (%v)", ErrTimeout, c.conf.Timeout)
			}
			continue
		}
		if err != nil {
			return err
		}
		last = time.Now()
		if err := c.deliver(dev, b); err != nil {
			return err
		}
	}
	return nil
}

// deliver publishes the newest of b and whatever else is ready, and gives
// every buffer back to the driver.
func (c *Camera) deliver(dev device, b rawBuffer) error {
	// Keep only the newest: drain what else is ready, re-queueing the older
	// buffers straight away.
	for {
		nb, err := dev.dequeue(0)
		if err != nil {
			if errors.Is(err, errWouldBlock) {
				break
			}
			_ = dev.requeue(b.index)
			return err
		}
		c.count(b.seq)
		if err := dev.requeue(b.index); err != nil {
			return err
		}
		b = nb
	}
	c.count(b.seq)
	buf := c.mb.Buffer(len(b.data))
	copy(buf, b.data)
	f := Frame{
		Frame: frame.Frame{Data: buf, Format: c.conf.Format, Width: c.conf.Width, Height: c.conf.Height, Stride: b.stride},
		Seq:   c.seq, Mono: b.mono, Captured: time.Unix(0, int64(b.mono+dev.wallOffset())),
	}
	if err := dev.requeue(b.index); err != nil {
		return err
	}
	c.mb.Publish(f)
	return nil
}

// count widens the driver's 32-bit sequence number and counts gaps as
// drops. Seq stays strictly increasing across repeats (seen under emulation)
// and reconnects (the driver restarts at 0).
func (c *Camera) count(raw uint32) {
	c.frames.Add(1)
	switch d := raw - c.lastRaw; {
	case c.fresh:
		c.seq++
		c.fresh = false
	case d == 0 || d > 1<<31: // repeat or backwards
		c.seq++
	default:
		c.seq += uint64(d)
		c.dropped.Add(uint64(d - 1))
	}
	c.lastRaw = raw
}

// Next returns the newest frame not returned before, waiting for it.
func (c *Camera) Next(ctx context.Context) (Frame, error) {
	if c.closed.Load() {
		return Frame{}, ErrClosed
	}
	return c.mb.Next(ctx)
}

// Latest returns the newest frame without waiting.
func (c *Camera) Latest() (Frame, bool) { return c.mb.Take(false) }

// Stats returns the capture counters.
func (c *Camera) Stats() Stats {
	s := Stats{
		Frames: c.frames.Load(), Dropped: c.dropped.Load(), Skipped: c.mb.Skipped(),
		Errors: c.errs.Load(), Reconnects: c.reconnects.Load(), Connected: c.connected.Load(),
	}
	if p := c.lastErr.Load(); p != nil {
		s.LastError = *p
	}
	if p := c.mode.Load(); p != nil {
		s.Mode = *p
	}
	return s
}

// Close stops capturing and closes the device. Frames handed out before
// stay readable (they live in the mailbox, not in driver memory).
func (c *Camera) Close() error {
	c.once.Do(func() {
		c.closed.Store(true)
		c.cancel()
		c.wg.Wait()
		c.mb.Close()
	})
	return nil
}

var _ Source = (*Camera)(nil)

// Mode is one format, size and frame-rate set a device offers.
type Mode struct {
	Format string // FourCC, e.g. "YUYV", "MJPG"
	// Supported is the matching frame.PixelFormat, FormatInvalid if rssmd
	// cannot preprocess this format.
	Supported frame.PixelFormat
	Width     int
	Height    int
	// FPS lists the discrete frame rates (empty if the device reports a
	// continuous or stepwise range).
	FPS []float64
}

func (m Mode) String() string {
	return fmt.Sprintf("%s %dx%d @ %v fps", m.Format, m.Width, m.Height, m.FPS)
}
