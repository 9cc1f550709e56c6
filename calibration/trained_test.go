package calibration

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/quant"
)

// trainedVariants are trained models of every published variant (issue 12, item 4): the demo's
// rssmo-arm for the standard cnn_ha rssmo, and small models trained by tools/train on the same
// sim scene for the others (model/testdata/trained/README.md says what was reduced). A
// random-init model proves nothing here: its states are chaotic under any perturbation.
var trainedVariants = []struct{ name, dir string }{
	// rssmo-arm reconstructs well, so its |ELBO| is small (median 6.5 nats) and the int8
	// decoder's own error weighs most: with weights rounded to nearest and one scale per
	// output channel it missed the 1% ELBO target (1.39%); output-aware rounding and phase
	// scales (quant.QuantizeCalibrated) bring it to 0.97%. See model/testdata/trained/README.md.
	{"rssmo", filepath.Join("..", "models", "demo", "rssmo-arm")},
	{"rssmo-discrete", filepath.Join("..", "model", "testdata", "trained", "rssmo-discrete")},
	{"rssmo-m", filepath.Join("..", "model", "testdata", "trained", "rssmo-m")},
	{"viper", filepath.Join("..", "model", "testdata", "trained", "viper")},
}

// The demo's held-out sim episodes (64x64, 100 steps, not trained on by any of the models):
// one calibrates, another one is evaluated, so the check is not on the calibration data.
var (
	trainedCalibEpisode = filepath.Join("..", "models", "demo", "episodes", "heldout-1.npz")
	trainedEvalEpisode  = filepath.Join("..", "models", "demo", "episodes", "heldout-0.npz")
)

// trainedCompare decodes every step and starts a 20-step rollout every 20 steps (4 rollouts, 80
// decoded predictions per path over 100 steps).
var trainedCompare = CompareOptions{DecodeEvery: 1, RolloutEvery: RolloutHorizon}

// forArch returns seq as the model takes it: without actions for an action-free (VIPER) model,
// which is trained and run on the same frames with the actions ignored.
func forArch(seq *model.Sequence, a *model.Arch) *model.Sequence {
	if a.ActionDim != 0 || seq.ActionDim == 0 {
		return seq
	}
	c := *seq
	c.ActionDim, c.PreAction = 0, nil
	return &c
}

// missedTargets lists the issue-12 accuracy targets r misses (none: all met); elboMax is the
// median ELBO error allowed (0.01 in the issue).
func missedTargets(r *SeqReport, a *model.Arch, elboMax float64) []string {
	var miss []string
	cosMin := 0.999
	if a.Discrete {
		cosMin = 0.998
	}
	for step, c := range r.DeterCos {
		if c < cosMin {
			miss = append(miss, fmt.Sprintf("deter cosine %.5f < %g at step %d", c, cosMin, step))
			break
		}
	}
	if !(r.ELBORelMedian <= elboMax) {
		miss = append(miss, fmt.Sprintf("median per-step ELBO error %.3f%% > %g%%", 100*r.ELBORelMedian, 100*elboMax))
	}
	if !(r.PSNRMin >= 38) {
		miss = append(miss, fmt.Sprintf("decoded-image PSNR min %.2f dB < 38", r.PSNRMin))
	}
	if r.Rollouts == 0 || !(r.RolloutPSNRMin >= 35) {
		miss = append(miss, fmt.Sprintf("20-step rollout PSNR min %.2f dB < 35 (%d rollouts)", r.RolloutPSNRMin, r.Rollouts))
	}
	if a.Discrete {
		if !(r.ArgmaxAgree >= 0.99) {
			miss = append(miss, fmt.Sprintf("posterior argmax agreement %.2f%% < 99%%", 100*r.ArgmaxAgree))
		}
		if !(r.ArgmaxAgreeMin >= 0.90) {
			miss = append(miss, fmt.Sprintf("worst step's argmax agreement %.2f%% < 90%%", 100*r.ArgmaxAgreeMin))
		}
	}
	return miss
}

func logTrained(t *testing.T, name string, a *model.Arch, r *SeqReport) {
	t.Helper()
	agree := "-"
	if a.Discrete {
		agree = fmt.Sprintf("%.2f%% (worst step %.2f%%)", 100*r.ArgmaxAgree, 100*r.ArgmaxAgreeMin)
	}
	t.Logf("%s: %d steps; median ELBO error %.3f%%; deter cosine min %.6f; decoded PSNR min %.2f dB (median %.2f); "+
		"rollout PSNR min %.2f dB (median %.2f, %d rollouts); argmax agreement %s",
		name, r.Steps, 100*r.ELBORelMedian, r.DeterCosMin, r.PSNRMin, r.PSNRMedian,
		r.RolloutPSNRMin, r.RolloutPSNRMedian, r.Rollouts, agree)
}

// TestTrainedVariantsAccuracy checks issue 12's int8 targets on a trained model of every
// variant: calibrated (default method) on one held-out episode, int8 against float32 over
// another 100-step one.
func TestTrainedVariantsAccuracy(t *testing.T) {
	for _, v := range trainedVariants {
		t.Run(v.name, func(t *testing.T) {
			fm, err := model.Load(v.dir)
			if err != nil {
				t.Fatal(err)
			}
			calib := forArch(readSeqs(t, trainedCalibEpisode)[0], fm.Arch)
			eval := forArch(readSeqs(t, trainedEvalEpisode)[0], fm.Arch)
			if eval.T != 100 {
				t.Fatalf("evaluation episode has %d steps, want 100", eval.T)
			}
			qm, err := Calibrate(fm, []*model.Sequence{calib}, Options{Method: DefaultMethod})
			if err != nil {
				t.Fatal(err)
			}
			r, err := Compare(v.name, fm.NewRunner(), qm.NewRunner(nil), eval, trainedCompare)
			if err != nil {
				t.Fatal(err)
			}
			logTrained(t, v.name, fm.Arch, r)
			for _, m := range missedTargets(r, fm.Arch, 0.01) {
				t.Error(m)
			}
		})
	}
}

// TestTrainedVariantsAccuracyCatchesBadScales shows the check above can fail: the same
// models, calibrated the same way but with every activation scale cut to a quarter (clipping
// most of each range), must miss at least one target.
func TestTrainedVariantsAccuracyCatchesBadScales(t *testing.T) {
	for _, v := range trainedVariants[1:] { // the small ones: the point is the check, not the model
		t.Run(v.name, func(t *testing.T) {
			fm, err := model.Load(v.dir)
			if err != nil {
				t.Fatal(err)
			}
			calib := forArch(readSeqs(t, trainedCalibEpisode)[0], fm.Arch)
			eval := forArch(readSeqs(t, trainedEvalEpisode)[0], fm.Arch)
			obs, err := observe(fm, fm.Tensors, []*model.Sequence{calib}, 1)
			if err != nil {
				t.Fatal(err)
			}
			scales, zeros, err := Ranges(obs, DefaultMethod)
			if err != nil {
				t.Fatal(err)
			}
			for k := range scales {
				scales[k] /= 4
			}
			qm, err := quant.QuantizeAffine(fm, scales, zeros)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Compare(v.name, fm.NewRunner(), qm.NewRunner(nil), eval, trainedCompare)
			if err != nil {
				t.Fatal(err)
			}
			miss := missedTargets(r, fm.Arch, 0.01)
			if len(miss) == 0 {
				logTrained(t, v.name, fm.Arch, r)
				t.Fatal("scales cut to a quarter still meet every target: the check cannot fail")
			}
			t.Logf("%s with quartered scales misses, as it must: %v", v.name, miss)
		})
	}
}

func TestAgreeGroups(t *testing.T) {
	a := []float32{0, 1, 0 /**/, 1, 0, 0 /**/, 0, 0, 1 /**/, 0.5, 0.5, 0}
	b := []float32{0, 1, 0 /**/, 0, 1, 0 /**/, 0, 0, 1 /**/, 1, 0, 0}
	// groups 0 and 2 agree, 1 does not; group 3 ties in a, which resolves to the first index,
	// the one b holds.
	if n := agreeGroups(a, b, 4, 3); n != 3 {
		t.Errorf("agreeGroups = %d, want 3", n)
	}
	if n := agreeGroups(a, a, 4, 3); n != 4 {
		t.Errorf("agreeGroups(a, a) = %d, want 4", n)
	}
}
