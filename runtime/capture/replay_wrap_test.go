package capture

import (
	"context"
	"testing"
	"time"
)

// TestReplayLoopMarksEpisodes: a looping replay marks the first frame and the first of every
// loop IsFirst (a new episode for the filter, issue 14.18), and nothing else; Latest repeats
// Next's flag for the same frame.
func TestReplayLoopMarksEpisodes(t *testing.T) {
	for _, loop := range []bool{false, true} {
		r, err := NewReplay(ReplayConfig{Sequence: testSequence(3), Loop: loop})
		if err != nil {
			t.Fatal(err)
		}
		n := 3
		if loop {
			n = 8
		}
		for i := range n {
			f, err := r.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := i == 0 || (loop && i%3 == 0)
			if f.IsFirst != want || f.Seq != uint64(i) {
				t.Errorf("loop %v frame %d (seq %d): IsFirst %v, want %v", loop, i, f.Seq, f.IsFirst, want)
			}
			if l, _ := r.Latest(); l.IsFirst != f.IsFirst {
				t.Errorf("loop %v frame %d: Latest says IsFirst %v, Next said %v", loop, i, l.IsFirst, f.IsFirst)
			}
		}
		r.Close()
	}
}

// TestReplayWrapMarkedWhenSkipped: the consumer sees a wrap even when the loop's frame 0 was
// replaced by a newer frame before it looked.
func TestReplayWrapMarkedWhenSkipped(t *testing.T) {
	r := &Replay{seq: testSequence(3)}
	for _, tc := range []struct {
		seq  uint64
		want bool
	}{{1, true}, {2, false}, {2, false}, {4, true}, {5, false}, {9, true}, {9, true}, {10, false}} {
		f := Frame{Seq: tc.seq}
		r.markFirst(&f)
		if f.IsFirst != tc.want {
			t.Errorf("seq %d: IsFirst %v, want %v", tc.seq, f.IsFirst, tc.want)
		}
	}

	// And with a real playing replay and a slow consumer: a flag exactly where the loop number
	// changes between consecutive frames taken.
	rp, err := NewReplay(ReplayConfig{Sequence: testSequence(4), Rate: 2000, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	var prev uint64
	have, wraps := false, 0
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); time.Sleep(1300 * time.Microsecond) {
		f, ok := rp.Latest()
		if !ok || (have && f.Seq == prev) {
			continue
		}
		want := !have || f.Seq/4 != prev/4
		if f.IsFirst != want {
			t.Fatalf("seq %d after %d: IsFirst %v, want %v", f.Seq, prev, f.IsFirst, want)
		}
		if want && have {
			wraps++
		}
		prev, have = f.Seq, true
	}
	if wraps < 5 {
		t.Errorf("only %d wraps seen in 300 ms at 2000 fps over 4 frames", wraps)
	}
}
