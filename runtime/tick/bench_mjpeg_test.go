package tick

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rssmd/rssmd/calibration"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/frame/camsim"
)

// BenchmarkTickMJPEG is BenchmarkTickInt8Walker with an MJPEG camera: each
// tick takes a camera-like frame (camsim: textured scene, sensor noise σ=4,
// quality 85, no Huffman tables, as the frame package's BenchmarkMJPEG uses)
// → reduced decode, centre crop, area 64x64 → int8 walker step → published
// result. It reports the same metrics; beyond-model-p99-us is the issue's
// figure (tick p99 − step p99). Run with -benchtime=10000x for its ≥ 10,000
// ticks.
func BenchmarkTickMJPEG(b *testing.B) {
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
	for _, sz := range []struct{ w, h int }{{640, 480}, {1280, 720}} {
		b.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(b *testing.B) {
			data, err := camsim.MJPEG(camsim.Scene(sz.w, sz.h, 42, 4), 85)
			if err != nil {
				b.Fatal(err)
			}
			src := &yuyvSource{f: capture.Frame{Frame: frame.Frame{Data: data, Format: frame.MJPEG, Width: sz.w, Height: sz.h}}}
			sink := &stageSink{
				pre:   make([]time.Duration, 0, b.N+1),
				step:  make([]time.Duration, 0, b.N+1),
				total: make([]time.Duration, 0, b.N+1),
			}
			mb := NewActionMailbox(fm.Arch.ActionDim)
			act := make([]float32, fm.Arch.ActionDim)
			l, err := New(Config{Rate: 50, Model: qm.NewRunner(nil), Source: src, Actions: mb,
				Clock: NewRealClock(), Log: quietLog(), Crop: frame.CenterSquare(sz.w, sz.h),
				Filter: frame.Area, Sinks: []Sink{sink}})
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
			if s := l.Stats(); s.FrameErrors != 0 {
				b.Fatalf("%d frame errors: the MJPEG frames did not decode", s.FrameErrors)
			}
			tickP99, stepP99 := pct(sink.total, 99), pct(sink.step, 99)
			b.ReportMetric(pct(sink.total, 50), "median-us")
			b.ReportMetric(tickP99, "p99-us")
			b.ReportMetric(pct(sink.step, 50), "step-median-us")
			b.ReportMetric(stepP99, "step-p99-us")
			b.ReportMetric(tickP99-stepP99, "beyond-model-p99-us")
			b.ReportMetric(pct(sink.pre, 50), "pre-median-us")
			b.ReportMetric(pct(sink.pre, 99), "pre-p99-us")
		})
	}
}
