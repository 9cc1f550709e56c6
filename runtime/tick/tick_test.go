package tick

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
)

// fakeSource hands out whatever frame the test last published.
type fakeSource struct {
	f    capture.Frame
	have bool
	conn bool
}

func (s *fakeSource) Latest() (capture.Frame, bool) { return s.f, s.have }
func (s *fakeSource) Stats() capture.Stats          { return capture.Stats{Connected: s.conn} }

func (s *fakeSource) publish(seq uint64, at time.Time) {
	s.f.Seq, s.f.Captured, s.have = seq, at, true
}

func rgbFrame() capture.Frame {
	return capture.Frame{Frame: frame.Frame{Data: make([]byte, model.ImageValues), Format: frame.RGB24, Width: 64, Height: 64}}
}

// fakeStepper records what the loop asked of the model; step can advance the fake clock.
type fakeStepper struct {
	arch    model.Arch
	clock   *FakeClock
	cost    func(call int) time.Duration
	calls   int
	isFirst []bool
	actions [][]float32
}

func (f *fakeStepper) Arch() *model.Arch { return &f.arch }
func (f *fakeStepper) PosteriorStep(s *model.State, a []float32, img []uint8, isFirst bool, out *model.StepOutput, _ model.Noise) error {
	if err := f.arch.CheckAction(a); err != nil {
		return err
	}
	f.isFirst = append(f.isFirst, isFirst)
	f.actions = append(f.actions, append([]float32(nil), a...))
	if f.cost != nil {
		f.clock.Advance(f.cost(f.calls))
	}
	f.calls++
	return nil
}
func (f *fakeStepper) PriorStep(*model.State, []float32, *model.StepOutput, model.Noise) error {
	return nil
}
func (f *fakeStepper) Decode([]float32, []float32, []float32) error { return nil }
func (f *fakeStepper) Evaluate([]float32, []float32, []uint8, []float32, float32, []float32, *model.Likelihood) error {
	return nil
}

type recordSink struct {
	seqs   []uint64
	status []ActionStatus
	first  []bool
	stale  []bool
}

func (r *recordSink) OnTick(res *Result) {
	r.seqs = append(r.seqs, res.Seq)
	r.status = append(r.status, res.ActionStatus)
	r.first = append(r.first, res.IsFirst)
	r.stale = append(r.stale, res.StaleFrame)
}

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// harness runs a loop at 100 Hz (10 ms) on a fake clock for n ticks; onTick(k, now) runs
// while the loop "sleeps" before tick k.
func harness(t *testing.T, conf Config, n int, onTick func(k int, now time.Time)) (*Loop, *fakeStepper, *recordSink) {
	t.Helper()
	clock := &FakeClock{T: t0}
	st := &fakeStepper{arch: model.Arch{ActionDim: 2, Deter: 4, Stoch: 2}, clock: clock}
	sink := &recordSink{}
	src, _ := conf.Source.(*fakeSource)
	if src == nil {
		src = &fakeSource{f: rgbFrame(), conn: true}
		conf.Source = src
	}
	conf.Rate, conf.Model, conf.Clock, conf.Log = 100, st, clock, quietLog()
	conf.Sinks = append(conf.Sinks, sink)
	l, err := New(conf)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := 0
	clock.OnSleep = func(now time.Time) {
		if k == n {
			cancel()
			return
		}
		onTick(k, now)
		k++
	}
	if err := l.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return l, st, sink
}

func TestFreshestFrame(t *testing.T) {
	src := &fakeSource{f: rgbFrame(), conn: true}
	seq := uint64(0)
	_, _, sink := harness(t, Config{Source: src}, 4, func(k int, now time.Time) {
		// three frames arrive between ticks; only the newest may be stepped
		for range 3 {
			seq++
			src.publish(seq, now)
		}
	})
	want := []uint64{3, 6, 9, 12}
	if len(sink.seqs) != len(want) {
		t.Fatalf("stepped frames %v, want %v", sink.seqs, want)
	}
	for i := range want {
		if sink.seqs[i] != want[i] {
			t.Fatalf("stepped frames %v, want %v", sink.seqs, want)
		}
	}
}

func TestDeadlineMisses(t *testing.T) {
	tests := []struct {
		name            string
		cost            time.Duration // of step #2
		misses, skipped uint64
	}{
		{"on time", 5 * time.Millisecond, 0, 0},
		{"one period late", 15 * time.Millisecond, 1, 1},
		{"three periods late", 35 * time.Millisecond, 1, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{f: rgbFrame(), conn: true}
			var starts []time.Time
			l, st, _ := harness(t, Config{Source: src}, 6, func(k int, now time.Time) {
				starts = append(starts, now)
				src.publish(uint64(k+1), now)
			})
			_ = st
			s := l.Summary()
			if s.DeadlineMisses != 0 || s.SkippedTicks != 0 {
				t.Fatalf("no-cost run missed deadlines: %+v", s.Stats)
			}
			// Again with a slow step.
			src = &fakeSource{f: rgbFrame(), conn: true}
			starts = starts[:0]
			clock := &FakeClock{T: t0}
			fs := &fakeStepper{arch: model.Arch{ActionDim: 0}, clock: clock, cost: func(c int) time.Duration {
				if c == 2 {
					return tc.cost
				}
				return time.Millisecond
			}}
			l, err := New(Config{Rate: 100, Model: fs, Source: src, Clock: clock, Log: quietLog()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			k := 0
			clock.OnSleep = func(now time.Time) {
				if k == 6 {
					cancel()
					return
				}
				starts = append(starts, now)
				src.publish(uint64(k+1), now)
				k++
			}
			_ = l.Run(ctx)
			cancel()
			s = l.Summary()
			if s.DeadlineMisses != tc.misses || s.SkippedTicks != tc.skipped {
				t.Fatalf("misses %d skipped %d, want %d %d", s.DeadlineMisses, s.SkippedTicks, tc.misses, tc.skipped)
			}
			// Every tick starts on a period boundary and never two in one period (no backlog).
			for i, st := range starts {
				if d := st.Sub(t0); d%(10*time.Millisecond) != 0 {
					t.Fatalf("tick %d starts at %v, off the 10ms grid", i, d)
				}
				if i > 0 && !st.After(starts[i-1]) {
					t.Fatalf("tick %d at %v not after tick %d at %v (backlog)", i, st, i-1, starts[i-1])
				}
			}
			if last := starts[len(starts)-1].Sub(t0); last != time.Duration(5+tc.skipped)*10*time.Millisecond {
				t.Fatalf("last tick at %v, want %v", last, time.Duration(5+tc.skipped)*10*time.Millisecond)
			}
		})
	}
}

func TestActions(t *testing.T) {
	type put struct {
		a   []float32
		age time.Duration // how long before the tick it was applied
	}
	nan := float32(math.NaN())
	tests := []struct {
		name     string
		policy   ActionPolicy
		puts     []*put // per tick; nil = nothing new
		want     []ActionStatus
		wantAct  [][]float32
		rejected uint64
	}{
		{"hold then stale", HoldLast,
			[]*put{{[]float32{1, 2}, 0}, nil, nil, {[]float32{3, 4}, 600 * time.Millisecond}},
			[]ActionStatus{ActionFresh, ActionHeld, ActionHeld, ActionStale},
			[][]float32{{1, 2}, {1, 2}, {1, 2}, {0, 0}}, 0},
		{"zeros policy", Zeros,
			[]*put{nil, {[]float32{1, 2}, 0}, nil},
			[]ActionStatus{ActionMissing, ActionFresh, ActionMissing},
			[][]float32{{0, 0}, {1, 2}, {0, 0}}, 0},
		{"NaN and wrong length rejected", HoldLast,
			[]*put{{[]float32{1, 2}, 0}, {[]float32{nan, 2}, 0}, {[]float32{1, 2, 3}, 0}, {[]float32{5, 6}, 0}},
			[]ActionStatus{ActionFresh, ActionHeld, ActionHeld, ActionFresh},
			[][]float32{{1, 2}, {1, 2}, {1, 2}, {5, 6}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mb := NewActionMailbox(2)
			src := &fakeSource{f: rgbFrame(), conn: true}
			var putErrs int
			l, st, sink := harness(t, Config{Source: src, Actions: mb, ActionPolicy: tc.policy}, len(tc.puts), func(k int, now time.Time) {
				src.publish(uint64(k+1), now)
				if p := tc.puts[k]; p != nil {
					if err := mb.Put(p.a, now.Add(-p.age)); err != nil {
						if !errors.Is(err, ErrAction) {
							t.Errorf("Put error %v does not wrap ErrAction", err)
						}
						putErrs++
					}
				}
			})
			if uint64(putErrs) != tc.rejected || l.Summary().ActionsRejected != tc.rejected {
				t.Fatalf("rejected: Put errors %d, stats %d, want %d", putErrs, l.Summary().ActionsRejected, tc.rejected)
			}
			for i := range tc.want {
				if sink.status[i] != tc.want[i] {
					t.Fatalf("statuses %v, want %v", sink.status, tc.want)
				}
				for j := range tc.wantAct[i] {
					if st.actions[i][j] != tc.wantAct[i][j] {
						t.Fatalf("actions %v, want %v", st.actions, tc.wantAct)
					}
				}
			}
		})
	}
}

func TestFrameActionsNaNRejected(t *testing.T) {
	src := &fakeSource{f: rgbFrame(), conn: true}
	acts := [][]float32{{1, 1}, {float32(math.Inf(1)), 0}, {2, 2}}
	l, st, sink := harness(t, Config{Source: src, FrameActions: true}, 3, func(k int, now time.Time) {
		src.publish(uint64(k+1), now)
		src.f.PreAction = acts[k]
	})
	if got := l.Summary().ActionsRejected; got != 1 {
		t.Fatalf("rejected %d, want 1", got)
	}
	if sink.status[1] != ActionHeld || st.actions[1][0] != 1 || st.actions[2][0] != 2 {
		t.Fatalf("statuses %v actions %v", sink.status, st.actions)
	}
}

func TestCameraLossAndReturn(t *testing.T) {
	src := &fakeSource{f: rgbFrame(), conn: true}
	// 100 Hz, ResetAfter 50ms: frames for 3 ticks, silent for 10, back for 3.
	l, _, sink := harness(t, Config{Source: src, ResetAfter: 50 * time.Millisecond}, 16, func(k int, now time.Time) {
		lost := k >= 3 && k < 13
		src.conn = !lost
		if !lost {
			src.publish(uint64(k+1), now)
		}
	})
	s := l.Summary()
	if s.Steps != 6 || s.NoFrame != 10 || s.Resets != 1 {
		t.Fatalf("steps %d noframe %d resets %d, want 6 10 1", s.Steps, s.NoFrame, s.Resets)
	}
	wantFirst := []bool{true, false, false, true, false, false}
	for i := range wantFirst {
		if sink.first[i] != wantFirst[i] {
			t.Fatalf("isFirst %v, want %v", sink.first, wantFirst)
		}
	}
}

func TestStaleFrameFlagged(t *testing.T) {
	src := &fakeSource{f: rgbFrame(), conn: true}
	ages := []time.Duration{0, 50 * time.Millisecond, 150 * time.Millisecond}
	l, _, sink := harness(t, Config{Source: src, MaxFrameAge: 100 * time.Millisecond}, 3, func(k int, now time.Time) {
		src.publish(uint64(k+1), now.Add(-ages[k]))
	})
	if got := l.Summary().StaleFrames; got != 1 || !sink.stale[2] || sink.stale[1] {
		t.Fatalf("stale %d flags %v", got, sink.stale)
	}
}

func TestConfigErrors(t *testing.T) {
	st := &fakeStepper{}
	src := &fakeSource{}
	tests := []struct {
		name string
		conf Config
	}{
		{"zero rate", Config{Model: st, Source: src}},
		{"NaN rate", Config{Rate: math.NaN(), Model: st, Source: src}},
		{"no model", Config{Rate: 10, Source: src}},
		{"no source", Config{Rate: 10, Model: st}},
		{"priority", Config{Rate: 10, Model: st, Source: src, RealtimePriority: 100}},
		{"huge window", Config{Rate: 10, Model: st, Source: src, LatencyWindow: 1 << 30}},
	}
	for _, tc := range tests {
		if _, err := New(tc.conf); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err %v, want ErrConfig", tc.name, err)
		}
	}
}

// testdataModel finds the committed tiny model.
func testdataModel(t testing.TB) *model.Model {
	t.Helper()
	m, err := model.Load(filepath.Join("..", "..", "model", "testdata", "golden", "cnnha-actions"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// yuyvSource publishes a new 640x480 YUYV frame (same buffer, new seq) on every Latest.
type yuyvSource struct{ f capture.Frame }

func newYUYVSource() *yuyvSource {
	buf := make([]byte, 640*480*2)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	return &yuyvSource{f: capture.Frame{Frame: frame.Frame{Data: buf, Format: frame.YUYV, Width: 640, Height: 480}}}
}

func (s *yuyvSource) Latest() (capture.Frame, bool) {
	s.f.Seq++
	s.f.Captured = t0
	return s.f, true
}
func (s *yuyvSource) Stats() capture.Stats { return capture.Stats{Connected: true} }

func TestTickAllocatesNothing(t *testing.T) {
	m := testdataModel(t)
	mb := NewActionMailbox(m.Arch.ActionDim)
	act := make([]float32, m.Arch.ActionDim)
	l, err := New(Config{Rate: 50, Model: m.NewRunner(), Source: newYUYVSource(), Actions: mb,
		Clock: &FakeClock{T: t0}, Log: quietLog(), Crop: frame.CenterSquare(640, 480)})
	if err != nil {
		t.Fatal(err)
	}
	l.TickOnce() // builds the preprocessor
	allocs := testing.AllocsPerRun(50, func() {
		_ = mb.Put(act, t0)
		l.TickOnce()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per tick, want 0", allocs)
	}
	if s := l.Stats(); s.Steps != 52 || s.StepErrors != 0 || s.FrameErrors != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRealClockSleeps(t *testing.T) {
	c := NewRealClock()
	start := time.Now()
	if err := c.SleepUntil(context.Background(), start.Add(5*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 5*time.Millisecond {
		t.Fatalf("slept %v, want ≥ 5ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.SleepUntil(ctx, time.Now().Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled sleep returned %v", err)
	}
}

// TestRequestReset: a reset requested from another goroutine makes the next step an episode
// start (isFirst), exactly once, and is counted.
func TestRequestReset(t *testing.T) {
	clock := &FakeClock{T: t0}
	st := &fakeStepper{arch: model.Arch{ActionDim: 2, Deter: 4, Stoch: 2}, clock: clock}
	src := &fakeSource{f: rgbFrame(), conn: true}
	l, err := New(Config{Rate: 100, Model: st, Clock: clock, Log: quietLog(), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 6; k++ {
		if k == 3 {
			done := make(chan struct{})
			go func() { l.RequestReset(); close(done) }()
			<-done
		}
		src.publish(uint64(k+1), clock.Now())
		l.TickOnce()
		clock.Advance(l.Period())
	}
	want := []bool{true, false, false, true, false, false}
	if fmt.Sprint(st.isFirst) != fmt.Sprint(want) {
		t.Fatalf("isFirst per step %v, want %v", st.isFirst, want)
	}
	if got := l.Stats().Resets; got != 1 {
		t.Fatalf("resets = %d, want 1", got)
	}
}

// refusingSource is a YUYV source whose stage before the tick (capture.Prepared) refuses
// some frames: its Stats().Refused grows by the test.
type refusingSource struct {
	*yuyvSource
	refused uint64
}

func (s *refusingSource) Stats() capture.Stats {
	st := s.yuyvSource.Stats()
	st.Refused = s.refused
	return st
}

// Frames refused before the tick (decoded on arrival) are counted as the loop's frame
// errors, each once.
func TestTickCountsRefusedBeforeIt(t *testing.T) {
	m := testdataModel(t)
	src := &refusingSource{yuyvSource: newYUYVSource()}
	l, err := New(Config{Rate: 50, Model: m.NewRunner(), Source: src, Clock: &FakeClock{T: t0}, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	l.TickOnce()
	src.refused = 2
	l.TickOnce()
	l.TickOnce()
	src.refused = 3
	l.TickOnce()
	if s := l.Stats(); s.FrameErrors != 3 || s.Steps != 4 {
		t.Fatalf("FrameErrors %d Steps %d, want 3 refused before the tick and 4 steps", s.FrameErrors, s.Steps)
	}
}
