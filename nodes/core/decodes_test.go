package core_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/runtime/monitor"
	"github.com/rssmd/rssmd/runtime/pipeline"
	"github.com/rssmd/rssmd/runtime/tick"
)

// countingStepper counts the image decodes its stepper really runs (Evaluate decodes once).
type countingStepper struct {
	model.Stepper
	n *int
}

func (c countingStepper) Decode(img, deter, stoch []float32) error {
	*c.n++
	return c.Stepper.Decode(img, deter, stoch)
}

func (c countingStepper) Head(i int, deter, stoch []float32) []float32 {
	return c.Stepper.(model.Evaluator).Head(i, deter, stoch)
}

func (c countingStepper) Evaluate(deter, stochMean []float32, image []uint8, targets []float32, kl float32, recon []float32, out *model.Likelihood) error {
	// Only reached when nothing wraps this stepper: the memo assembles the ELBO itself
	// through Decode and Head.
	*c.n++
	return c.Stepper.Evaluate(deter, stochMean, image, targets, kl, recon, out)
}

// tickOutputs is what one tick publishes: the monitor's quality and the node's two images.
type tickOutputs struct {
	mse, psnr, elbo float64
	predicted, rec  []uint8
}

// runTicks drives what one tick of `rssmd run --ros` with predicted_image and reconstruction
// on does — the filter step, the monitor (prediction score and ELBO), the hub's snapshot and
// the node worker's Predict and Reconstruct — in order on one goroutine, so the count is
// deterministic. It returns the decodes actually run and every tick's outputs.
func runTicks(t *testing.T, path string, int8, share, holdAction bool, ticks int) (int, []tickOutputs) {
	t.Helper()
	om, err := pipeline.OpenModel(path, int8)
	if err != nil {
		t.Fatal(err)
	}
	decodes := 0
	inner, next := om.Stepper, om.NewStepper
	om.Stepper = countingStepper{inner, &decodes}
	om.NewStepper = func() model.Stepper { return countingStepper{next(), &decodes} }
	if share {
		om.ShareDecodes()
	}
	a := om.Arch
	seq, err := seqio.ReadSequenceFile("../../models/demo/episodes/heldout-0.npz")
	if err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.New(monitor.Config{Model: om.Stepper, ELBO: true})
	if err != nil {
		t.Fatal(err)
	}
	pred := core.NewPredictor(om.NewStepper(), a, 20*time.Millisecond)
	snap := core.NewSnapshot(a)
	state, out := model.NewStateFor(a), a.NewStepOutput()
	var outs []tickOutputs
	for i := range ticks {
		act := seq.Action(i)
		if holdAction {
			act = seq.Action(3) // one nonzero command held for the whole run
		}
		img := seq.Frame(i)
		if err := om.Stepper.PosteriorStep(&state, act, img, i == 0, out, nil); err != nil {
			t.Fatal(err)
		}
		r := &tick.Result{Tick: uint64(100 + i), Seq: uint64(i), Captured: time.Unix(0, int64(i)), IsFirst: i == 0,
			Image: img, Action: act, ActionStatus: tick.ActionHeld, State: state, Step: out,
			Quality: tick.Quality{KL: float64(out.KL), ELBO: math.NaN(), Reward: math.NaN()}}
		mon.Analyze(r)
		snap.CopyFrom(r)
		o := tickOutputs{mse: r.Quality.MSE, psnr: r.Quality.PSNR, elbo: r.Quality.ELBO,
			predicted: make([]uint8, core.ImageBytes), rec: make([]uint8, core.ImageBytes)}
		if _, err := pred.Predict(o.predicted, snap); err != nil {
			t.Fatal(err)
		}
		if err := pred.Reconstruct(o.rec, snap); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, o)
	}
	return decodes, outs
}

// TestDecodesPerTick: with the monitor scoring predictions and computing the ELBO and a node
// publishing ~predicted_image and ~reconstruction, a tick needs two different images when the
// action is held (the posterior of this frame, the prior of the next) and three when it
// changes (the prior of this frame under the new action too). Without sharing it ran four;
// with ShareDecodes it runs exactly what is needed, and every published value is bit-for-bit
// what the unshared run gives.
func TestDecodesPerTick(t *testing.T) {
	const ticks = 30
	for _, int8 := range []bool{false, true} {
		for _, hold := range []bool{true, false} {
			t.Run(fmt.Sprintf("int8=%v/hold=%v", int8, hold), func(t *testing.T) {
				const path = "../../models/demo/rssmo-arm"
				plain, want := runTicks(t, path, int8, false, hold, ticks)
				shared, got := runTicks(t, path, int8, true, hold, ticks)
				// Per tick unshared: monitor prediction + ELBO, node forecast + reconstruction
				// (no monitor prediction on the first tick).
				if plain != 4*ticks-1 {
					t.Errorf("unshared: %d decodes in %d ticks, want %d", plain, ticks, 4*ticks-1)
				}
				needed := 2 * ticks
				if !hold {
					needed = 3*ticks - 1
				}
				if shared != needed {
					t.Errorf("shared: %d decodes in %d ticks (%.2f per tick), want %d", shared, ticks, float64(shared)/ticks, needed)
				}
				t.Logf("decodes per tick: %.2f unshared, %.2f shared", float64(plain)/ticks, float64(shared)/ticks)
				for i := range want {
					w, g := want[i], got[i]
					if math.Float64bits(w.mse) != math.Float64bits(g.mse) || math.Float64bits(w.psnr) != math.Float64bits(g.psnr) ||
						math.Float64bits(w.elbo) != math.Float64bits(g.elbo) {
						t.Fatalf("tick %d quality: shared mse %v psnr %v elbo %v, unshared %v %v %v", i, g.mse, g.psnr, g.elbo, w.mse, w.psnr, w.elbo)
					}
					if !slices.Equal(w.predicted, g.predicted) || !slices.Equal(w.rec, g.rec) {
						t.Fatalf("tick %d: shared images differ from unshared", i)
					}
				}
			})
		}
	}
}
