package tick

import (
	"fmt"
	"math"
	"testing"

	"github.com/rssmd/rssmd/model"
)

// TestSourceMarksEpisodeStart: a frame the source marks IsFirst (a looping replay's wrap)
// starts an episode; a marked frame that preprocessing refuses passes the start on to the next
// step. The loop's own Quality says "no reward" (NaN) when no monitor runs.
func TestSourceMarksEpisodeStart(t *testing.T) {
	clock := &FakeClock{T: t0}
	st := &fakeStepper{arch: model.Arch{ActionDim: 2, Deter: 4, Stoch: 2}, clock: clock}
	src := &fakeSource{f: rgbFrame(), conn: true}
	sink := &recordSink{}
	var rewards []float64
	l, err := New(Config{Rate: 100, Model: st, Clock: clock, Log: quietLog(), Source: src,
		Sinks: []Sink{sink, sinkFunc(func(r *Result) { rewards = append(rewards, r.Quality.Reward) })}})
	if err != nil {
		t.Fatal(err)
	}
	good := src.f.Data
	for k := 0; k < 7; k++ {
		src.f.IsFirst = k == 2 || k == 4
		src.f.Data = good
		if k == 4 {
			src.f.Data = good[:10] // refused: the start must not be lost
		}
		src.publish(uint64(k+1), clock.Now())
		l.TickOnce()
		clock.Advance(l.Period())
	}
	want := []bool{true, false, true, false, true, false}
	if fmt.Sprint(sink.first) != fmt.Sprint(want) || fmt.Sprint(st.isFirst) != fmt.Sprint(want) {
		t.Fatalf("IsFirst per step %v (model saw %v), want %v", sink.first, st.isFirst, want)
	}
	if got := l.Stats().Resets; got != 2 {
		t.Errorf("resets = %d, want 2", got)
	}
	for i, r := range rewards {
		if !math.IsNaN(r) {
			t.Errorf("step %d: reward %v without a monitor, want NaN", i, r)
		}
	}
}

type sinkFunc func(r *Result)

func (f sinkFunc) OnTick(r *Result) { f(r) }
