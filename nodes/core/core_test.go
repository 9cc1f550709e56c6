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

// TestHubFeeds: every feed sees the newest tick (not a queue), shares one copy, and a
// snapshot it holds is not overwritten by later ticks.
func TestHubFeeds(t *testing.T) {
	a := testArch()
	h := NewHub(a)
	f1, f2 := h.Subscribe(), h.Subscribe()
	if _, ok := f1.Acquire(); ok {
		t.Fatal("a snapshot before any tick")
	}
	h.OnTick(testResult(a, 1))
	s1, ok := f1.Acquire()
	if !ok || s1.Tick != 1 || s1.State.Deter[0] != 1 {
		t.Fatalf("feed 1: %v %+v", ok, s1)
	}
	if _, ok := f1.Acquire(); ok {
		t.Error("the same tick taken twice")
	}
	s2, ok := f2.Acquire()
	if !ok || s2 != s1 {
		t.Error("feeds do not share the tick's one copy")
	}
	// Later ticks while both feeds hold tick 1: it stays intact.
	for i := uint64(2); i <= 10; i++ {
		h.OnTick(testResult(a, i))
	}
	if s1.Tick != 1 || s1.State.Deter[0] != 1 {
		t.Errorf("held snapshot overwritten: tick %d", s1.Tick)
	}
	n, ok := f1.Acquire()
	if !ok || n.Tick != 10 {
		t.Fatalf("newest: %v %+v", ok, n)
	}
	f1.Release(s1)
	f2.Release(s2)
	f1.Release(n)
	if h.Dropped() != 0 {
		t.Errorf("%d ticks dropped with a free pool", h.Dropped())
	}
	select {
	case <-f2.Wake():
	default:
		t.Error("feed 2 not woken")
	}
	r := testResult(a, 11)
	if allocs := testing.AllocsPerRun(100, func() { h.OnTick(r) }); allocs != 0 {
		t.Errorf("OnTick allocates %v", allocs)
	}
}

// TestHubPoolExhaustion: a consumer that holds snapshots cannot make the hub block or
// allocate; ticks are counted as dropped instead, and the newest is delivered again after.
func TestHubPoolExhaustion(t *testing.T) {
	a := testArch()
	h := NewHub(a)
	f := h.Subscribe()
	var held []*Snapshot
	for i := uint64(1); i <= 10; i++ {
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
