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

// Waiter is a live source the Prepared stage can follow: it blocks for the
// next frame. Camera and the ROS image sources are Waiters.
type Waiter interface {
	Next(ctx context.Context) (Frame, error)
	Stats() Stats
}

// PrepareConfig configures a Prepared stage.
type PrepareConfig struct {
	// Crop gives the region of interest of a width x height frame; nil is the
	// full frame. A function, not a Rect, because a camera that comes back in
	// another mode (or a ROS topic that changes size) needs its own crop.
	Crop func(width, height int) frame.Rect
	// Filter is the resampling kernel (default Bilinear).
	Filter frame.Filter
	// Log receives the rate-limited warnings for refused frames; nil means
	// slog.Default().
	Log *slog.Logger
}

// Prepared preprocesses every frame of a live source when it arrives, on its
// own goroutine (Run), and hands the tick loop frames that are already the
// model's 64x64 RGB input. Decoding a 640x480 MJPEG frame takes longer than
// the walker's filter step; done on arrival it runs while the tick waits for
// its period (on another core on a robot's multi-core CPU), so the tick's
// work and its jitter no longer depend on the camera's format and size. The
// decode still shows, honestly, as frame age (Result.FrameAge): Captured is
// the camera's stamp, not the time the frame was ready.
//
// Frames are cropped and resampled as the tick would have done them: the
// images, and so every model output, are bit-identical either way
// (TestPreparedMatchesTickPreprocessing). A frame preprocessing refuses
// (corrupt MJPEG, a size the preprocessor rejects) is dropped, counted in
// Stats().Refused and warned about at most once per second.
type Prepared struct {
	src  Waiter
	conf PrepareConfig
	log  *slog.Logger
	mb   *Mailbox

	pre        *frame.Preprocessor
	preFmt     frame.PixelFormat
	preW, preH int
	lastWarn   time.Time // Run's goroutine only

	refused   atomic.Uint64
	published atomic.Uint64
	lastErr   atomic.Pointer[string]
	prepNs    atomic.Int64 // last frame's preprocessing time
	readyOnce sync.Once
	ready     chan struct{} // closed when Run has ended
	observe   func(time.Duration)
}

// SetObserver makes f receive every prepared frame's preprocessing time (a metrics
// histogram), on Run's goroutine; call it before Run.
func (p *Prepared) SetObserver(f func(time.Duration)) { p.observe = f }

// NewPrepared wraps src; call Run on a goroutine of its own.
func NewPrepared(src Waiter, conf PrepareConfig) *Prepared {
	if conf.Log == nil {
		conf.Log = slog.Default()
	}
	return &Prepared{src: src, conf: conf, log: conf.Log, mb: NewMailbox(), ready: make(chan struct{})}
}

// Run follows the source until ctx ends or the source closes (then nil), or
// the source fails otherwise (its error). The tick sees the end as a silent
// source.
func (p *Prepared) Run(ctx context.Context) error {
	defer p.readyOnce.Do(func() { close(p.ready) })
	defer p.mb.Close()
	for ctx.Err() == nil { // checked here too: Next returns a waiting frame before it looks at ctx
		f, err := p.src.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrClosed) {
				return nil
			}
			return fmt.Errorf("prepared source: %w", err)
		}
		p.prepare(f)
	}
	return nil
}

// prepare preprocesses f into the mailbox's write buffer and publishes it.
func (p *Prepared) prepare(f Frame) {
	t0 := time.Now()
	if err := p.ensure(f.Frame); err != nil {
		p.refuse(f.Seq, err)
		return
	}
	buf := p.mb.Buffer(p.pre.OutLen())
	if err := p.pre.Process(buf, f.Frame); err != nil {
		p.refuse(f.Seq, err)
		return
	}
	out := f
	c := p.pre.Config()
	out.Frame = frame.Frame{Data: buf, Format: frame.RGB24, Width: c.OutWidth, Height: c.OutHeight}
	// PreAction belongs to the source's buffer, reused at its next Next; live
	// sources have none (replay, which has, is never prepared ahead).
	out.PreAction = nil
	took := time.Since(t0)
	p.prepNs.Store(int64(took))
	if p.observe != nil {
		p.observe(took)
	}
	p.mb.Publish(out)
	p.published.Add(1)
}

// ensure (re)builds the preprocessor for f's format and size: the only
// allocation, when a camera comes back in another mode.
func (p *Prepared) ensure(f frame.Frame) error {
	if p.pre != nil && f.Format == p.preFmt && f.Width == p.preW && f.Height == p.preH {
		return nil
	}
	var crop frame.Rect
	if p.conf.Crop != nil && f.Width > 0 && f.Height > 0 {
		crop = p.conf.Crop(f.Width, f.Height)
	}
	pre, err := frame.NewPreprocessor(frame.Config{
		Format: f.Format, Width: f.Width, Height: f.Height, Crop: crop, Filter: p.conf.Filter, Log: p.log,
	})
	if err != nil {
		return fmt.Errorf("preprocessor for %v %dx%d: %w", f.Format, f.Width, f.Height, err)
	}
	p.pre, p.preFmt, p.preW, p.preH = pre, f.Format, f.Width, f.Height
	return nil
}

func (p *Prepared) refuse(seq uint64, err error) {
	n := p.refused.Add(1)
	msg := err.Error()
	p.lastErr.Store(&msg)
	if now := time.Now(); p.lastWarn.IsZero() || now.Sub(p.lastWarn) >= time.Second {
		p.lastWarn = now
		p.log.Warn("frame refused", "seq", seq, "refused", n, "err", err)
	}
}

// Latest returns the newest prepared frame without waiting (tick.Source). Its
// Data stays valid until the next Latest or Next.
func (p *Prepared) Latest() (Frame, bool) { return p.mb.Take(false) }

// Next waits for a prepared frame newer than the last one taken.
func (p *Prepared) Next(ctx context.Context) (Frame, error) { return p.mb.Next(ctx) }

// Stats are the source's counters with this stage's added: Refused counts the
// frames preprocessing dropped, Skipped also the prepared frames a slower tick
// never took.
func (p *Prepared) Stats() Stats {
	s := p.src.Stats()
	s.Skipped += p.mb.Skipped()
	s.Refused += p.refused.Load()
	s.PrepareTime = p.PrepareTime()
	if s.LastError == "" {
		if e := p.lastErr.Load(); e != nil {
			s.LastError = *e
		}
	}
	return s
}

// Published counts the frames prepared and handed on.
func (p *Prepared) Published() uint64 { return p.published.Load() }

// PrepareTime is how long the last frame's preprocessing took.
func (p *Prepared) PrepareTime() time.Duration { return time.Duration(p.prepNs.Load()) }

// Done is closed when Run has returned.
func (p *Prepared) Done() <-chan struct{} { return p.ready }
