package tick_test

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/rssmd/rssmd/calibration"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/monitor"
	"github.com/rssmd/rssmd/runtime/tick"
)

type rewardBenchSink struct {
	total, mon []time.Duration
	rewards    int
}

func (s *rewardBenchSink) OnTick(r *tick.Result) {
	s.total = append(s.total, r.Stages[tick.StageTotal])
	s.mon = append(s.mon, r.Stages[tick.StageMonitor])
	if r.Quality.Reward == r.Quality.Reward { // not NaN
		s.rewards++
	}
}

func p(d []time.Duration, pc int) float64 {
	d = slices.Clone(d)
	slices.Sort(d)
	return float64(d[min(len(d)-1, len(d)*pc/100)].Nanoseconds()) / 1e3
}

// BenchmarkTickReward is the full tick (640x480 YUYV → 64x64, posterior step, monitor with
// its one-step prediction decode) without and with the VIPER reward (the monitor's ELBO: a
// second decode, of the posterior, every tick), for the int8 walker (calibrated on seq-00) and
// the action-free golden model (float32 and int8). Reports tick and monitor-stage median/p99
// in µs. go test ./runtime/tick -run '^$' -bench TickReward -benchtime 2000x
func BenchmarkTickReward(b *testing.B) {
	root := filepath.Join("..", "..")
	type variant struct {
		name string
		load func(b *testing.B) model.Stepper
	}
	int8Of := func(b *testing.B, dir, seqPath string) model.Stepper {
		fm, err := model.Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		seq, err := seqio.ReadSequenceFile(seqPath)
		if err != nil {
			b.Fatal(err)
		}
		qm, err := calibration.Calibrate(fm, []*model.Sequence{seq}, calibration.Options{DecodeEvery: 4})
		if err != nil {
			b.Fatal(err)
		}
		return qm.NewRunner(nil)
	}
	af := filepath.Join(root, "model", "testdata", "golden", "cnnha-actionfree")
	shared := filepath.Join(root, "..", "shared", "testdata")
	variants := []variant{
		{"walker-int8", func(b *testing.B) model.Stepper {
			if _, err := os.Stat(shared); err != nil {
				if os.Getenv("CI") != "" {
					b.Fatalf("shared test data missing: %v", err)
				}
				b.Skipf("shared test data not present: %v", err)
			}
			return int8Of(b, filepath.Join(shared, "models", "walker-wm-synthetic"), filepath.Join(shared, "sequences", "seq-00.npz"))
		}},
		{"actionfree-f32", func(b *testing.B) model.Stepper {
			m, err := model.Load(af)
			if err != nil {
				b.Fatal(err)
			}
			return m.NewRunner()
		}},
		{"actionfree-int8", func(b *testing.B) model.Stepper { return int8Of(b, af, filepath.Join(af, "seq.npz")) }},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			st := v.load(b)
			for _, reward := range []bool{false, true} {
				name := "reward-off"
				if reward {
					name = "reward-on"
				}
				b.Run(name, func(b *testing.B) {
					mon, err := monitor.New(monitor.Config{Model: st, ELBO: reward})
					if err != nil {
						b.Fatal(err)
					}
					sink := &rewardBenchSink{total: make([]time.Duration, 0, b.N+50), mon: make([]time.Duration, 0, b.N+50)}
					mb := tick.NewActionMailbox(st.Arch().ActionDim)
					act := make([]float32, st.Arch().ActionDim)
					l, err := tick.New(tick.Config{Rate: 50, Model: st, Source: tick.NewYUYVSource(), Actions: mb,
						Clock: tick.NewRealClock(), Crop: frame.CenterSquare(640, 480), Monitor: mon,
						Sinks: []tick.Sink{sink}, MaxFrameAge: time.Hour})
					if err != nil {
						b.Fatal(err)
					}
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					for range 20 {
						l.TickOnce()
					}
					sink.total, sink.mon, sink.rewards = sink.total[:0], sink.mon[:0], 0
					b.ReportAllocs()
					b.ResetTimer()
					for range b.N {
						if len(act) > 0 {
							_ = mb.Put(act, time.Now())
						}
						l.TickOnce()
					}
					b.StopTimer()
					if reward != (sink.rewards == b.N) || (!reward && sink.rewards != 0) {
						b.Fatalf("reward %v: %d of %d ticks had one", reward, sink.rewards, b.N)
					}
					b.ReportMetric(p(sink.total, 50), "tick-p50-µs")
					b.ReportMetric(p(sink.total, 99), "tick-p99-µs")
					b.ReportMetric(p(sink.mon, 50), "monitor-p50-µs")
					b.ReportMetric(p(sink.mon, 99), "monitor-p99-µs")
				})
			}
		})
	}
}
