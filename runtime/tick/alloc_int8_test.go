package tick_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/calibration"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/quant"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/monitor"
	"github.com/rssmd/rssmd/runtime/tick"
)

// TestTickInt8AllocatesNothing holds README's "0 allocs" for the int8 full tick (what
// BenchmarkTickInt8Walker prints): 640x480 YUYV → 64x64 → int8 posterior step → sink, on the
// kernel this machine selects, bare and with the monitor decoding its prediction and the
// ELBO every tick. The demo's shipped int8 bundle always runs; the walker (calibrated on
// seq-00, as the benchmark does) where the shared test data is present and not -short.
func TestTickInt8AllocatesNothing(t *testing.T) {
	type variant struct {
		name string
		load func(t *testing.T) model.Stepper
	}
	variants := []variant{{"demo", func(t *testing.T) model.Stepper {
		p, err := bundle.ReadFile(filepath.Join("..", "..", "models", "demo", "rssmo-arm", "rssmo-arm.int8.rssm"))
		if err != nil {
			t.Fatal(err)
		}
		qm, err := quant.FromBundle(p)
		if err != nil {
			t.Fatal(err)
		}
		return qm.NewRunner(armkernels.Default())
	}}}
	if !testing.Short() {
		variants = append(variants, variant{"walker", func(t *testing.T) model.Stepper {
			td := filepath.Join("..", "..", "..", "shared", "testdata")
			if _, err := os.Stat(td); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("CI must provide %s: %v", td, err)
				}
				t.Skipf("shared test data not present: %v", err)
			}
			fm, err := model.Load(filepath.Join(td, "models", "walker-wm-synthetic"))
			if err != nil {
				t.Fatal(err)
			}
			seq, err := seqio.ReadSequenceFile(filepath.Join(td, "sequences", "seq-00.npz"))
			if err != nil {
				t.Fatal(err)
			}
			qm, err := calibration.Calibrate(fm, []*model.Sequence{seq}, calibration.Options{DecodeEvery: 4})
			if err != nil {
				t.Fatal(err)
			}
			return qm.NewRunner(armkernels.Default())
		}})
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			st := v.load(t)
			for _, withMonitor := range []bool{false, true} {
				conf := tick.Config{Rate: 50, Model: st, Source: tick.NewYUYVSource(),
					Clock: &tick.FakeClock{T: time.Unix(1, 0)}, Crop: frame.CenterSquare(640, 480), MaxFrameAge: time.Hour}
				if withMonitor {
					mon, err := monitor.New(monitor.Config{Model: st, ELBO: true, DecodeEvery: 1})
					if err != nil {
						t.Fatal(err)
					}
					conf.Monitor = mon
				}
				steps := 0
				conf.Sinks = []tick.Sink{sinkFunc(func(r *tick.Result) { steps++ })}
				mb := tick.NewActionMailbox(st.Arch().ActionDim)
				act := make([]float32, st.Arch().ActionDim)
				conf.Actions = mb
				l, err := tick.New(conf)
				if err != nil {
					t.Fatal(err)
				}
				for range 5 { // the preprocessor is built on the first frame
					l.TickOnce()
				}
				allocs := testing.AllocsPerRun(100, func() {
					_ = mb.Put(act, time.Unix(1, 0))
					l.TickOnce()
				})
				if allocs != 0 {
					t.Errorf("monitor %v: %v allocations per int8 tick, want 0", withMonitor, allocs)
				}
				if steps < 100 {
					t.Errorf("monitor %v: only %d steps published: the ticks did not step", withMonitor, steps)
				}
			}
		})
	}
}

type sinkFunc func(r *tick.Result)

func (f sinkFunc) OnTick(r *tick.Result) { f(r) }
