package capture

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rssmd/rssmd/runtime/frame"
)

// ReplayConfig configures a Replay source.
type ReplayConfig struct {
	// Path of the .npz sequence (required unless Sequence is set).
	Path string
	// Sequence, if set, is played instead of reading Path.
	Sequence *Sequence
	// Rate in frames per second. 0 (the default) means "as fast as asked":
	// every Next returns the following frame, none is skipped, which is what
	// offline filtering and tests want. With Rate > 0 a goroutine publishes
	// frames like a camera would, and a slow consumer skips frames.
	Rate float64
	// Lockstep (Rate 0 only) makes Latest, too, hand out the following frame
	// on every call: the tick loop then steps every frame exactly once, in
	// order, whatever its timing, so a run gives the numbers of `rssmd filter`
	// on the same file. Frames are stamped on the sequence's own timeline
	// (the file's stamp array, else Period apart) instead of with the clock.
	Lockstep bool
	// Period spaces the stamps of a lockstep replay without a stamp array:
	// frame n is stamped start + n·Period, start being when the first frame
	// was handed out (required > 0 with Lockstep).
	Period time.Duration
	// Loop restarts from frame 0 at the end instead of returning io.EOF.
	// Seq keeps counting across loops, and the first frame of every loop is
	// marked IsFirst: a new episode, not a jump in the middle of one.
	Loop bool
	// Now is the clock for Captured and Mono; nil means the real clock.
	Now func() time.Time
}

// Replay plays a recorded sequence as a Source of RGB24 frames, with each
// frame's pre_action in Frame.PreAction. Frames are views into the loaded
// sequence, so replay never copies or allocates per frame. Frames the file
// marks is_first are handed out as episode starts (IsFirst).
type Replay struct {
	conf  ReplayConfig
	seq   *Sequence
	start time.Time
	// Lockstep: the timeline's origin, set when the first frame is handed
	// out, and the span one loop adds to the file's stamps.
	started  bool
	loopSpan time.Duration
	// done is closed once no frame is left to hand out (a non-looping
	// replay's last frame was taken, or, with Rate > 0, published).
	done     chan struct{}
	doneOnce sync.Once

	// Rate 0: state owned by the consumer.
	pos  int
	last Frame
	have bool

	// Episode marking, owned by the consumer: the loop number and flag of the
	// last frame handed out.
	marked      bool
	markedSeq   uint64
	markedFirst bool

	// Rate > 0.
	mb     *Mailbox
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ended  atomic.Bool

	frames atomic.Uint64
	closed atomic.Bool
}

// NewReplay loads the sequence and, with Rate > 0, starts playing it.
func NewReplay(conf ReplayConfig) (*Replay, error) {
	if conf.Rate < 0 || conf.Rate > 1e6 {
		return nil, fmt.Errorf("replay: Rate %v fps out of range [0, 1e6]", conf.Rate)
	}
	if conf.Lockstep && conf.Rate != 0 {
		return nil, fmt.Errorf("replay: Lockstep with Rate %v fps: lockstep takes one frame per call, Rate must be 0", conf.Rate)
	}
	if conf.Lockstep && conf.Period <= 0 {
		return nil, fmt.Errorf("replay: Lockstep needs Period > 0 (the stamp spacing), got %v", conf.Period)
	}
	seq := conf.Sequence
	if seq == nil {
		if conf.Path == "" {
			return nil, fmt.Errorf("replay: Path is empty")
		}
		var err error
		if seq, err = LoadSequence(conf.Path); err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
	}
	if conf.Now == nil {
		conf.Now = time.Now
	}
	r := &Replay{conf: conf, seq: seq, start: conf.Now(), done: make(chan struct{})}
	if st := seq.Stamps; st != nil {
		// A loop goes on where the last one ended, one mean frame interval later.
		r.loopSpan = conf.Period
		if seq.T > 1 {
			d := st[seq.T-1].Sub(st[0])
			r.loopSpan = d + d/time.Duration(seq.T-1)
		}
	}
	if conf.Rate > 0 {
		r.mb = NewMailbox()
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel = cancel
		r.wg.Add(1)
		go r.play(ctx)
	}
	return r, nil
}

// Sequence returns the sequence being played.
func (r *Replay) Sequence() *Sequence { return r.seq }

// frameAt builds frame number n (counting across loops); ok is false at the
// end of a non-looping sequence.
func (r *Replay) frameAt(n int) (Frame, bool) {
	t := n
	if r.conf.Loop {
		t = n % r.seq.T
	} else if n >= r.seq.T {
		return Frame{}, false
	}
	f := Frame{
		Frame: frame.Frame{
			Data: r.seq.Image(t), Format: frame.RGB24,
			Width: r.seq.W, Height: r.seq.H, Stride: r.seq.W * 3,
		},
		Seq:       uint64(n),
		PreAction: r.seq.PreAction(t),
	}
	if !r.conf.Lockstep {
		now := r.conf.Now()
		f.Captured, f.Mono = now, now.Sub(r.start)
		return f, true
	}
	// Lockstep: the sequence's timeline, never the clock, so a stall of the
	// consumer shows as frame age instead of moving the stamps.
	if !r.started {
		r.start, r.started = r.conf.Now(), true
	}
	if st := r.seq.Stamps; st != nil {
		loops := time.Duration(n / r.seq.T)
		f.Captured = st[t].Add(loops * r.loopSpan)
		f.Mono = f.Captured.Sub(st[0])
	} else {
		f.Mono = time.Duration(n) * r.conf.Period
		f.Captured = r.start.Add(f.Mono)
	}
	return f, true
}

func (r *Replay) play(ctx context.Context) {
	defer r.wg.Done()
	period := time.Duration(float64(time.Second) / r.conf.Rate)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for n := 0; ; n++ {
		f, ok := r.frameAt(n)
		if !ok {
			r.ended.Store(true)
			r.mb.Close()
			r.finish()
			return
		}
		r.mb.Publish(f)
		r.frames.Add(1)
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// Next returns the next frame (Rate 0) or the newest unseen one (Rate > 0);
// io.EOF at the end of a non-looping sequence.
func (r *Replay) Next(ctx context.Context) (Frame, error) {
	if r.closed.Load() {
		return Frame{}, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	if r.mb != nil {
		f, err := r.mb.Next(ctx)
		if err == ErrClosed && r.ended.Load() && !r.closed.Load() {
			return Frame{}, io.EOF
		}
		if err == nil {
			r.markFirst(&f)
		}
		return f, err
	}
	f, ok := r.take()
	if !ok {
		return Frame{}, io.EOF
	}
	return f, nil
}

// take hands out the following frame (Rate 0).
func (r *Replay) take() (Frame, bool) {
	f, ok := r.frameAt(r.pos)
	if !ok {
		r.finish()
		return Frame{}, false
	}
	r.pos++
	r.frames.Add(1)
	r.markFirst(&f)
	r.last, r.have = f, true
	if !r.conf.Loop && r.pos == r.seq.T {
		r.finish()
	}
	return f, true
}

func (r *Replay) finish() { r.doneOnce.Do(func() { close(r.done) }) }

// Done is closed once the replay has nothing more to hand out: the last
// frame of a non-looping sequence was taken (Rate 0) or published (Rate >
// 0). A looping replay is never done.
func (r *Replay) Done() <-chan struct{} { return r.done }

// Latest returns the newest frame without blocking. In lockstep it hands out
// the following frame on every call, and the last one again at the end of a
// non-looping sequence.
func (r *Replay) Latest() (Frame, bool) {
	if r.mb != nil {
		f, ok := r.mb.Take(false)
		if ok {
			r.markFirst(&f)
		}
		return f, ok
	}
	if r.conf.Lockstep && !r.closed.Load() {
		if f, ok := r.take(); ok {
			return f, true
		}
	}
	return r.last, r.have
}

// markFirst sets f.IsFirst on the first frame handed out, on the first one
// of each later loop and where the file's is_first starts an episode. It
// works on what the consumer receives, so a start is marked even when its
// frame itself was skipped (Rate > 0, a consumer slower than the replay);
// the same frame handed out twice keeps its flag.
func (r *Replay) markFirst(f *Frame) {
	if r.marked && f.Seq == r.markedSeq {
		f.IsFirst = r.markedFirst
		return
	}
	T := uint64(r.seq.T)
	f.IsFirst = !r.marked || f.Seq/T != r.markedSeq/T
	if !f.IsFirst && r.seq.IsFirst != nil {
		// Same loop as the last frame handed out: any recorded start since then.
		for s := r.markedSeq + 1; s <= f.Seq; s++ {
			if r.seq.IsFirst[s%T] {
				f.IsFirst = true
				break
			}
		}
	}
	r.marked, r.markedSeq, r.markedFirst = true, f.Seq, f.IsFirst
}

// Stats reports frames played and, with Rate > 0, frames skipped.
func (r *Replay) Stats() Stats {
	s := Stats{Frames: r.frames.Load(), Connected: !r.closed.Load()}
	if r.mb != nil {
		s.Skipped = r.mb.Skipped()
	}
	return s
}

// Close stops playback.
func (r *Replay) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	if r.mb != nil {
		r.cancel()
		r.wg.Wait()
		r.mb.Close()
	}
	return nil
}

var _ Source = (*Replay)(nil)
