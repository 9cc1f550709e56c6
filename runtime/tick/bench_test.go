package tick

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/frame"
)

// stageSink keeps each tick's stage durations for percentiles.
type stageSink struct {
	pre, step, total []time.Duration
}

func (s *stageSink) OnTick(r *Result) {
	s.pre = append(s.pre, r.Stages[StagePreprocess])
	s.step = append(s.step, r.Stages[StageStep])
	s.total = append(s.total, r.Stages[StageTotal])
}

// report adds the tick benchmarks' latency metrics: tick, step and preprocessing medians and
// p99s, and the beyond-model-p99-us (tick p99 − step p99).
func (s *stageSink) report(b *testing.B) {
	tickP99, stepP99 := pct(s.total, 99), pct(s.step, 99)
	b.ReportMetric(pct(s.total, 50), "median-us")
	b.ReportMetric(tickP99, "p99-us")
	b.ReportMetric(pct(s.step, 50), "step-median-us")
	b.ReportMetric(stepP99, "step-p99-us")
	b.ReportMetric(tickP99-stepP99, "beyond-model-p99-us")
	b.ReportMetric(pct(s.pre, 50), "pre-median-us")
	b.ReportMetric(pct(s.pre, 99), "pre-p99-us")
}

func pct(d []time.Duration, p int) float64 {
	d = slices.Clone(d)
	slices.Sort(d)
	return float64(d[min(len(d)-1, len(d)*p/100)].Nanoseconds()) / 1e3
}

func vmRSSKiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}

// BenchmarkTickYUYV640 is a full tick from a 640x480 YUYV frame to a published result
// (center crop, bilinear, float32 posterior step, no monitor). Reports median/p99 of the
// whole tick, of preprocessing and of the step, in µs, and the process RSS.
// Run with -benchtime=10000x for the issue's ≥ 10,000 ticks.
func BenchmarkTickYUYV640(b *testing.B) {
	models := map[string]string{
		"cnnha":  filepath.Join("..", "..", "model", "testdata", "golden", "cnnha-actions"),
		"walker": filepath.Join("..", "..", "..", "shared", "testdata", "models", "walker-wm-synthetic"),
	}
	for _, name := range []string{"cnnha", "walker"} {
		b.Run(name, func(b *testing.B) {
			if _, err := os.Stat(models[name]); err != nil {
				if os.Getenv("CI") != "" {
					b.Fatalf("model %s missing: %v", name, err)
				}
				b.Skipf("model %s not present: %v", name, err)
			}
			m, err := model.Load(models[name])
			if err != nil {
				b.Fatal(err)
			}
			sink := &stageSink{}
			sink.pre = make([]time.Duration, 0, b.N+1)
			sink.step = make([]time.Duration, 0, b.N+1)
			sink.total = make([]time.Duration, 0, b.N+1)
			mb := NewActionMailbox(m.Arch.ActionDim)
			act := make([]float32, m.Arch.ActionDim)
			l, err := New(Config{Rate: 50, Model: m.NewRunner(), Source: newYUYVSource(), Actions: mb,
				Clock: NewRealClock(), Log: quietLog(), Crop: frame.CenterSquare(640, 480), Sinks: []Sink{sink}})
			if err != nil {
				b.Fatal(err)
			}
			l.TickOnce()
			sink.pre, sink.step, sink.total = sink.pre[:0], sink.step[:0], sink.total[:0]
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				_ = mb.Put(act, time.Now())
				l.TickOnce()
			}
			b.StopTimer()
			b.ReportMetric(pct(sink.total, 50), "tick-p50-µs")
			b.ReportMetric(pct(sink.total, 99), "tick-p99-µs")
			b.ReportMetric(pct(sink.pre, 50), "pre-p50-µs")
			b.ReportMetric(pct(sink.pre, 99), "pre-p99-µs")
			b.ReportMetric(pct(sink.step, 50), "step-p50-µs")
			b.ReportMetric(pct(sink.step, 99), "step-p99-µs")
			b.ReportMetric(vmRSSKiB()/1024, "RSS-MiB")
		})
	}
}
