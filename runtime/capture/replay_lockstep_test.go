package capture

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// TestReplayLockstep: every Latest hands out the following frame, stamped start + n·Period
// on the sequence's timeline whatever the clock does; at the end Latest repeats the last
// frame and Done is closed; a looping lockstep replay goes on, marking each wrap.
func TestReplayLockstep(t *testing.T) {
	clock := time.Unix(1000, 0)
	now := func() time.Time { clock = clock.Add(7 * time.Millisecond); return clock } // a clock that runs on its own
	const period = 20 * time.Millisecond
	r, err := NewReplay(ReplayConfig{Sequence: testSequence(4), Lockstep: true, Period: period, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var start time.Time
	for i := range 4 {
		select {
		case <-r.Done():
			t.Fatalf("Done before frame %d", i)
		default:
		}
		f, ok := r.Latest()
		if !ok || f.Seq != uint64(i) || f.Data[0] != byte(i) || f.PreAction[0] != float32(i) {
			t.Fatalf("Latest %d: ok %v seq %d pixel %d action %v", i, ok, f.Seq, f.Data[0], f.PreAction)
		}
		if i == 0 {
			start = f.Captured
		}
		if want := start.Add(time.Duration(i) * period); !f.Captured.Equal(want) || f.Mono != time.Duration(i)*period {
			t.Errorf("frame %d stamped %v (mono %v), want %v (%v)", i, f.Captured, f.Mono, want, time.Duration(i)*period)
		}
		if f.IsFirst != (i == 0) {
			t.Errorf("frame %d IsFirst %v", i, f.IsFirst)
		}
	}
	select {
	case <-r.Done():
	default:
		t.Fatal("Done not closed after the last frame was taken")
	}
	for range 3 {
		if f, ok := r.Latest(); !ok || f.Seq != 3 {
			t.Fatalf("after the end Latest = seq %d, %v; want the last frame again", f.Seq, ok)
		}
	}
	if st := r.Stats(); st.Frames != 4 || st.Skipped != 0 {
		t.Errorf("stats %+v, want 4 frames, 0 skipped", st)
	}
	if _, err := r.Next(context.Background()); err != io.EOF {
		t.Errorf("Next at the end: %v, want io.EOF", err)
	}

	r, err = NewReplay(ReplayConfig{Sequence: testSequence(3), Lockstep: true, Period: period, Loop: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range 10 {
		f, _ := r.Latest()
		if i == 0 {
			start = f.Captured
		}
		if f.Seq != uint64(i) || f.Data[0] != byte(i%3) || f.IsFirst != (i%3 == 0) || !f.Captured.Equal(start.Add(time.Duration(i)*period)) {
			t.Fatalf("loop frame %d: seq %d pixel %d first %v stamp %v", i, f.Seq, f.Data[0], f.IsFirst, f.Captured.Sub(start))
		}
	}
	select {
	case <-r.Done():
		t.Fatal("a looping replay is done")
	default:
	}
	allocs := testing.AllocsPerRun(100, func() { r.Latest() })
	if allocs != 0 {
		t.Errorf("lockstep Latest allocates %v per frame", allocs)
	}
}

// TestReplayLockstepFileStamps: a sequence with a stamp array is stamped with it (float64
// seconds or int64 ns), a loop continuing one mean interval after the last stamp; the file's
// is_first marks episode starts, in lockstep and when a free-running consumer skipped the
// marked frame.
func TestReplayLockstepFileStamps(t *testing.T) {
	img := make([]uint8, 4*64*64*3)
	secs := []float64{1.7e9 + 0.5, 1.7e9 + 0.6, 1.7e9 + 0.75, 1.7e9 + 0.8}
	ns := make([]int64, 4)
	for i, s := range secs {
		ns[i] = int64(math.Round(s * 1e9))
	}
	for _, stamp := range []any{wrap(secs, []int{4}), wrap(ns, []int{4})} {
		data := npzBytes(t, map[string]any{
			"image":    wrap(img, []int{4, 64, 64, 3}),
			"is_first": wrap([]bool{true, false, true, false}, []int{4}),
			StampArray: stamp,
		})
		seq, err := sequenceBytes(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(seq.Stamps) != 4 {
			t.Fatalf("%d stamps read", len(seq.Stamps))
		}
		r, err := NewReplay(ReplayConfig{Sequence: seq, Lockstep: true, Period: time.Second, Loop: true})
		if err != nil {
			t.Fatal(err)
		}
		span := time.Duration(ns[3]-ns[0]) * 4 / 3 // 300 ms over 3 intervals, plus one
		for i := range 8 {
			f, _ := r.Latest()
			want := time.Unix(0, ns[i%4]).Add(time.Duration(i/4) * span)
			if d := f.Captured.Sub(want); d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("frame %d stamped %v, want %v", i, f.Captured.UnixNano(), want.UnixNano())
			}
			if f.IsFirst != (i%2 == 0) {
				t.Errorf("frame %d IsFirst %v, want %v (file is_first, wraps)", i, f.IsFirst, i%2 == 0)
			}
		}
		r.Close()
	}

	// Free-running consumer that skips frame 2 (marked is_first): frame 3 starts the episode.
	seq := testSequence(5)
	seq.IsFirst = []bool{true, false, true, false, false}
	r := &Replay{seq: seq}
	for _, tc := range []struct {
		seq  uint64
		want bool
	}{{0, true}, {1, false}, {3, true}, {3, true}, {4, false}} {
		f := Frame{Seq: tc.seq}
		r.markFirst(&f)
		if f.IsFirst != tc.want {
			t.Errorf("seq %d: IsFirst %v, want %v", tc.seq, f.IsFirst, tc.want)
		}
	}
}

func TestReplayStampErrors(t *testing.T) {
	img := make([]uint8, 2*64*64*3)
	for _, tc := range []struct {
		stamp any
		want  string
	}{
		{wrap([]float64{2, 1}, []int{2}), "goes back in time"},
		{wrap([]float64{1, math.NaN()}, []int{2}), "not a time"},
		{wrap([]float64{1, 1e300}, []int{2}), "not a time"},
		{wrap([]float32{1, 2}, []int{2}), "want float64 seconds or int64 nanoseconds"},
	} {
		_, err := sequenceBytes(npzBytes(t, map[string]any{"image": wrap(img, []int{2, 64, 64, 3}), StampArray: tc.stamp}))
		if err == nil || !errors.Is(err, ErrSequence) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "`stamp`") {
			t.Errorf("stamp %v: %v, want ErrSequence naming `stamp` and saying %q", tc.stamp, err, tc.want)
		}
	}
	for _, c := range []ReplayConfig{
		{Sequence: testSequence(2), Lockstep: true},
		{Sequence: testSequence(2), Lockstep: true, Period: time.Millisecond, Rate: 10},
	} {
		if _, err := NewReplay(c); err == nil || !strings.Contains(err.Error(), "Lockstep") {
			t.Errorf("NewReplay(%+v): %v, want an error about Lockstep", c, err)
		}
	}
}
