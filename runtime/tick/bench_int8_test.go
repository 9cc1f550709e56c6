package tick

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rssmd/rssmd/calibration"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/runtime/frame"
)

// sharedTestdata returns <repo>/../shared/testdata, walking up from the package folder to the
// module root. Outside CI a missing folder skips; in CI (env CI set) it fails.
func sharedTestdata(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			tb.Fatal("no go.mod above the package folder")
		}
		dir = up
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("CI must provide %s: %v", td, err)
		}
		tb.Skipf("shared test data not present at %s: %v", td, err)
	}
	return td
}

// BenchmarkTickInt8Walker is the full-tick benchmark on the int8 path: a 640x480 YUYV
// frame → center crop + bilinear 64x64 → int8 walker posterior step (calibrated on seq-00) →
// published result. Besides ns/op and allocs/op it reports, in µs, the tick's median and p99,
// the model step's median and p99, beyond-model-p99-us (tick p99 − step p99: what the
// runtime adds on top of the model), preprocessing p50/p99, and the process RSS at the end.
// The numbers need ≥ 10,000 ticks: -bench TickInt8 -benchtime=10000x.
func BenchmarkTickInt8Walker(b *testing.B) {
	td := sharedTestdata(b)
	fm, err := model.Load(filepath.Join(td, "models", "walker-wm-synthetic"))
	if err != nil {
		b.Fatal(err)
	}
	seq, err := seqio.ReadSequenceFile(filepath.Join(td, "sequences", "seq-00.npz"))
	if err != nil {
		b.Fatal(err)
	}
	qm, err := calibration.Calibrate(fm, []*model.Sequence{seq}, calibration.Options{DecodeEvery: 4})
	if err != nil {
		b.Fatal(err)
	}
	sink := &stageSink{
		pre:   make([]time.Duration, 0, b.N+1),
		step:  make([]time.Duration, 0, b.N+1),
		total: make([]time.Duration, 0, b.N+1),
	}
	mb := NewActionMailbox(fm.Arch.ActionDim)
	act := make([]float32, fm.Arch.ActionDim)
	l, err := New(Config{Rate: 50, Model: qm.NewRunner(nil), Source: newYUYVSource(), Actions: mb,
		Clock: NewRealClock(), Log: quietLog(), Crop: frame.CenterSquare(640, 480), Sinks: []Sink{sink}})
	if err != nil {
		b.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for range 50 { // warm caches and branch predictors, as a running node is
		l.TickOnce()
	}
	sink.pre, sink.step, sink.total = sink.pre[:0], sink.step[:0], sink.total[:0]
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = mb.Put(act, time.Now())
		l.TickOnce()
	}
	b.StopTimer()
	if len(sink.total) != b.N {
		b.Fatalf("%d results published for %d ticks", len(sink.total), b.N)
	}
	sink.report(b)
	b.ReportMetric(vmRSSKiB()/1024, "RSS-MiB")
}
