package pipeline

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/tick"
)

// TestRunAllocatesNothing: pipeline.Run ticking the demo's int8 model on a lockstep looping
// replay, with its sinks — Prometheus metrics (listening), the recorder keeping frames
// (queue and writer goroutine), the summary's quality sink — and the monitor decoding its
// prediction and the ELBO every tick, allocates nothing per tick once running: every
// goroutine's allocations over 300 ticks are counted, as testing.AllocsPerRun counts them.
func TestRunAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 400 int8 ticks")
	}
	demo := filepath.Join("..", "..", "models", "demo")
	conf := Defaults()
	conf.Model = filepath.Join(demo, "rssmo-arm", "rssmo-arm.int8.rssm")
	conf.Source, conf.Loop = "replay:"+filepath.Join(demo, "episodes", "heldout-0.npz"), true
	conf.MetricsAddr, conf.Record, conf.RecordFrames = "127.0.0.1:0", filepath.Join(t.TempDir(), "r.rec"), true
	conf.ELBO, conf.DecodeEvery = true, 1

	const warm, n = 100, 300
	var (
		ticks  int
		before runtime.MemStats
		after  runtime.MemStats
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &tick.FakeClock{T: time.Unix(1_700_000_000, 0)}
	clock.OnSleep = func(time.Time) {
		// On the loop goroutine, between ticks.
		switch ticks++; ticks {
		case warm:
			runtime.ReadMemStats(&before)
		case warm + n:
			runtime.ReadMemStats(&after)
			cancel()
		}
	}
	p, err := New(conf, Deps{Clock: clock}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Steps < warm+n-1 || s.RecordWritten == 0 || p.met == nil {
		t.Fatalf("%d steps, %d recorded, metrics %v: the sinks did not run", s.Steps, s.RecordWritten, p.met != nil)
	}
	if mallocs := after.Mallocs - before.Mallocs; mallocs/n != 0 {
		t.Errorf("%d allocations in %d ticks (%d per tick), want 0 per tick", mallocs, n, mallocs/n)
	} else {
		t.Logf("%d allocations in %d ticks (every goroutine)", mallocs, n)
	}
}
