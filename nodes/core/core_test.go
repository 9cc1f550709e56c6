package core

import (
	"math"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

func testArch() *model.Arch { return &model.Arch{Deter: 8, Stoch: 4, ActionDim: 2} }

func testResult(a *model.Arch, tickN uint64) *tick.Result {
	r := &tick.Result{
		Tick: tickN, Seq: tickN, Captured: time.Unix(1000, int64(tickN)), ActionStatus: tick.ActionHeld,
		Action: []float32{0.5, -1}, State: model.NewStateFor(a), Step: a.NewStepOutput(),
		Quality: tick.Quality{KL: 1.5, ELBO: math.NaN()},
	}
	r.State.Deter[0] = float32(tickN)
	return r
}

// TestHubFeeds: every feed gets every tick in order, feeds share the tick's one copy, a
// snapshot a consumer holds is not overwritten by later ticks, and a stalled consumer loses
// its oldest ticks (counted), never blocking or allocating on the control thread.
func TestHubFeeds(t *testing.T) {
	a := testArch()
	h := NewHub(a)
	f1, f2 := h.Subscribe(), h.Subscribe()
	if _, ok := f1.Acquire(); ok {
		t.Fatal("a snapshot before any tick")
	}
	h.OnTick(testResult(a, 1))
	h.OnTick(testResult(a, 2))
	s1, ok := f1.Acquire()
	if !ok || s1.Tick != 1 || s1.State.Deter[0] != 1 {
		t.Fatalf("feed 1 first: %v %+v", ok, s1)
	}
	s2, ok := f2.Acquire()
	if !ok || s2 != s1 {
		t.Error("feeds do not share the tick's one copy")
	}
	n1, ok := f1.Acquire()
	if !ok || n1.Tick != 2 {
		t.Fatalf("feed 1 second: %v %+v", ok, n1)
	}
	if _, ok := f1.Acquire(); ok {
		t.Error("a tick delivered twice")
	}
	// Feed 1 keeps up; feed 2 stalls holding tick 1 while 10 more ticks come.
	for i := uint64(3); i <= 12; i++ {
		h.OnTick(testResult(a, i))
		s, ok := f1.Acquire()
		if !ok || s.Tick != i {
			t.Fatalf("feed 1 at tick %d got %v %+v", i, ok, s)
		}
		f1.Release(s)
	}
	if s1.Tick != 1 || s1.State.Deter[0] != 1 {
		t.Errorf("held snapshot overwritten: tick %d", s1.Tick)
	}
	// Feed 2 gets the newest FeedDepth ticks, in order; the rest were dropped and counted.
	var got []uint64
	for s, ok := f2.Acquire(); ok; s, ok = f2.Acquire() {
		got = append(got, s.Tick)
		f2.Release(s)
	}
	if len(got) != FeedDepth || got[0] != 12-FeedDepth+1 || got[FeedDepth-1] != 12 {
		t.Errorf("stalled feed got ticks %v, want the last %d", got, FeedDepth)
	}
	if f2.Dropped() != 11-FeedDepth || f1.Dropped() != 0 {
		t.Errorf("dropped: feed 2 %d (want %d), feed 1 %d", f2.Dropped(), 11-FeedDepth, f1.Dropped())
	}
	f1.Release(s1)
	f1.Release(n1)
	f2.Release(s2)
	if h.Dropped() != 0 {
		t.Errorf("%d ticks found no free snapshot", h.Dropped())
	}
	select {
	case <-f2.Wake():
	default:
		t.Error("feed 2 not woken")
	}
	r := testResult(a, 13)
	if allocs := testing.AllocsPerRun(100, func() { h.OnTick(r) }); allocs != 0 {
		t.Errorf("OnTick allocates %v", allocs)
	}
}

// TestHubPoolExhaustion: a consumer that never releases cannot make the hub block or
// allocate; ticks are counted as dropped instead, and delivery resumes after release.
func TestHubPoolExhaustion(t *testing.T) {
	a := testArch()
	h := NewHub(a)
	f := h.Subscribe()
	var held []*Snapshot
	for i := uint64(1); i <= 20; i++ {
		h.OnTick(testResult(a, i))
		if s, ok := f.Acquire(); ok {
			held = append(held, s) // never released: a misbehaving consumer
		}
	}
	if h.Dropped() == 0 {
		t.Fatal("no tick dropped although every snapshot is held")
	}
	for _, s := range held {
		f.Release(s)
	}
	for s, ok := f.Acquire(); ok; s, ok = f.Acquire() {
		f.Release(s)
	}
	h.OnTick(testResult(a, 99))
	if s, ok := f.Acquire(); !ok || s.Tick != 99 {
		t.Errorf("after release: %v %+v", ok, s)
	}
}

func TestImageToRGB8(t *testing.T) {
	img := []float32{-0.2, 0.5, 1.7, float32(math.NaN()), 0.5 / 255, 1.5 / 255, float32(math.Inf(1))}
	dst := make([]uint8, len(img))
	ImageToRGB8(dst, img)
	want := []uint8{0, 128, 255, 0, 1, 2, 255}
	for i := range want {
		if dst[i] != want[i] {
			t.Errorf("%v → %d, want %d", img[i], dst[i], want[i])
		}
	}
}

func TestSnapshotVectorAndFlags(t *testing.T) {
	a := testArch()
	s := NewSnapshot(a)
	r := testResult(a, 3)
	r.State.Stoch[3] = 7
	s.CopyFrom(r)
	v := s.AppendVector(nil)
	if len(v) != 12 || v[0] != 3 || v[11] != 7 || s.VectorLen() != 12 {
		t.Errorf("vector %v", v)
	}
	if !s.StaleAction() || !math.IsNaN(float64(s.ELBO())) {
		t.Errorf("held action stale %v, elbo %v", s.StaleAction(), s.ELBO())
	}
	level, _, values := Diagnostics(DiagInput{Snap: s, Rate: 20, Want: 20, Link: []KeyValue{{"domain", "0"}}})
	if level != DiagOK || values[3] != (KeyValue{"domain", "0"}) {
		t.Errorf("diagnostics %d %v", level, values)
	}
	if level, msg, _ := Diagnostics(DiagInput{Want: 20}); level != DiagWarn || msg != "no frame yet" {
		t.Errorf("no frame: %d %q", level, msg)
	}
}

// TestDiagnosticsLive: the loop's live counters win over the newest snapshot, so a camera
// that vanished (no more ticks reach the node) shows as disconnected with a falling rate.
func TestDiagnosticsLive(t *testing.T) {
	a := testArch()
	s := NewSnapshot(a)
	r := testResult(a, 3)
	r.Stats.Ticks, r.Stats.Steps, r.Stats.Source.Connected = 3, 3, true
	s.CopyFrom(r)
	live := r.Stats
	live.Ticks, live.NoFrame, live.Source.Connected, live.Source.LastError = 50, 47, false, "ENODEV"
	live.FrameErrors, live.Source.PrepareTime = 2, 750*time.Microsecond
	level, msg, values := Diagnostics(DiagInput{Snap: s, Live: &live, Rate: 20, Want: 20})
	if level != DiagWarn || msg != "camera disconnected" {
		t.Errorf("level %d %q", level, msg)
	}
	want := map[string]string{"ticks": "50", "camera connected": "false", "camera last error": "ENODEV", "ticks without a frame": "47",
		"frame errors": "2", "decode on arrival (s)": "0.000750"}
	for _, kv := range values {
		if w, ok := want[kv.Key]; ok {
			if kv.Value != w {
				t.Errorf("%s = %q, want %q", kv.Key, kv.Value, w)
			}
			delete(want, kv.Key)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing values %v", want)
	}
	var m RateMeter
	m.Rate(nil, &live, time.Unix(0, 0))
	live.Steps += 10
	if got := m.Rate(s, &live, time.Unix(1, 0)); got != 10 {
		t.Errorf("rate %v, want 10 steps/s from the live counters", got)
	}
}
