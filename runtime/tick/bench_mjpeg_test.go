package tick

import (
	"context"
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
//
// Two rows per size, the two values of the prepare setting:
//   - prepare=tick: the tick decodes the frame before its step;
//   - prepare=arrival (rssmd's default for live sources): a new frame is
//     published by the "camera" before each tick, capture.Prepared decodes
//     it on its own goroutine, and the tick starts once it is ready, as a
//     tick that finds a frame that arrived during the previous period does.
//     The decode is then not in the tick; prepare-median-us and
//     prepare-p99-us report it (it still adds to the frame's age).
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
		data, err := camsim.MJPEG(camsim.Scene(sz.w, sz.h, 42, 4), 85)
		if err != nil {
			b.Fatal(err)
		}
		cam := frame.Frame{Data: data, Format: frame.MJPEG, Width: sz.w, Height: sz.h}
		b.Run(fmt.Sprintf("%dx%d/prepare=tick", sz.w, sz.h), func(b *testing.B) {
			src := &yuyvSource{f: capture.Frame{Frame: cam}}
			benchTickMJPEG(b, fm, qm.NewRunner(nil), src, frame.CenterSquare(sz.w, sz.h), nil)
		})
		b.Run(fmt.Sprintf("%dx%d/prepare=arrival", sz.w, sz.h), func(b *testing.B) {
			live := &liveSource{mb: capture.NewMailbox()}
			prep := capture.NewPrepared(live, capture.PrepareConfig{Crop: frame.CenterSquare, Filter: frame.Area, Log: quietLog()})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- prep.Run(ctx) }()
			defer func() {
				cancel()
				<-done
			}()
			prepTimes := make([]time.Duration, 0, b.N+1)
			arrive := func(measure bool) { // the camera delivers; the tick starts once the frame is ready
				n := prep.Published()
				live.send(cam)
				for prep.Published() == n {
					if s := prep.Stats(); s.Refused != 0 {
						b.Fatalf("frame refused: %s", s.LastError)
					}
					runtime.Gosched()
				}
				if measure {
					prepTimes = append(prepTimes, prep.PrepareTime())
				}
			}
			benchTickMJPEG(b, fm, qm.NewRunner(nil), prep, frame.Rect{}, arrive)
			b.ReportMetric(pct(prepTimes, 50), "prepare-median-us")
			b.ReportMetric(pct(prepTimes, 99), "prepare-p99-us")
		})
	}
}

// benchTickMJPEG runs b.N timed ticks; arrive, when set, delivers the next
// frame before each tick (its time is outside the timer).
func benchTickMJPEG(b *testing.B, fm *model.Model, stepper model.Stepper, src Source, crop frame.Rect, arrive func(measure bool)) {
	sink := &stageSink{
		pre:   make([]time.Duration, 0, b.N+1),
		step:  make([]time.Duration, 0, b.N+1),
		total: make([]time.Duration, 0, b.N+1),
	}
	mb := NewActionMailbox(fm.Arch.ActionDim)
	act := make([]float32, fm.Arch.ActionDim)
	l, err := New(Config{Rate: 50, Model: stepper, Source: src, Actions: mb,
		Clock: NewRealClock(), Log: quietLog(), Crop: crop,
		Filter: frame.Area, Sinks: []Sink{sink}})
	if err != nil {
		b.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for range 50 { // warm caches and branch predictors, as a running node is
		if arrive != nil {
			arrive(false)
		}
		l.TickOnce()
	}
	sink.pre, sink.step, sink.total = sink.pre[:0], sink.step[:0], sink.total[:0]
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if arrive != nil {
			b.StopTimer()
			arrive(true)
			b.StartTimer()
		}
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
	sink.report(b)
}

// liveSource is a camera the benchmark drives: a mailbox it publishes into.
type liveSource struct {
	mb  *capture.Mailbox
	seq uint64
}

func (s *liveSource) Next(ctx context.Context) (capture.Frame, error) { return s.mb.Next(ctx) }
func (s *liveSource) Stats() capture.Stats                            { return capture.Stats{Frames: s.seq, Connected: true} }

func (s *liveSource) send(f frame.Frame) {
	s.seq++
	s.mb.Publish(capture.Frame{Frame: f, Seq: s.seq, Captured: time.Now()})
}
