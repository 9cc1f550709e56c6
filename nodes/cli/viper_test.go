package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/goldentest"
	"github.com/rssmd/rssmd/model/seqio"
)

// TestFilterViperReward runs `rssmd filter` on the shared golden input through the float32
// model and through an int8 bundle calibrated on seq-00, and checks viper_reward against the
// reward computed here from the ORIGINAL code's elbo (0 at the episode's first frame). The
// tolerances are the ELBO's carried through symlog: float32 the golden README's; int8 per step
// 8% or 2 nats (this well-trained model's ELBO is only −12 … −55 nats, so the int8 decoder's
// ~1 nat error is several percent of it: measured max 0.062, median 0.008 in reward), and a
// median reward error below 0.015 (about 1.5% of the ELBO).
func TestFilterViperReward(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: calibrating and filtering the walker is slow under -race")
	}
	td := goldentest.SharedTestdata(t)
	dir := t.TempDir()
	modelDir := filepath.Join(td, "models", "walker-wm-synthetic")
	in := filepath.Join(td, "golden", "shared-walker", "seq.npz")
	q := filepath.Join(dir, "walker.int8.rssm")
	if _, e, code := runCLI(t, "calibrate", "--model", modelDir, "--data", filepath.Join(td, "sequences", "seq-00.npz"), "--out", q); code != 0 {
		t.Fatalf("calibrate: exit %d: %s", code, e)
	}
	seq, err := seqio.ReadSequenceFile(in)
	if err != nil {
		t.Fatal(err)
	}
	golden := goldentest.ReadGolden(t, filepath.Join(td, "golden", "shared-walker", "golden.npz"))
	want := goldentest.WithViperReward(t, map[string]*seqio.Array{"elbo": golden["elbo"]}, seq.IsFirst)
	for _, tc := range []struct {
		name, model string
		tol         goldentest.Tolerances
	}{
		{"float32", modelDir, goldentest.Float32Tolerances},
		{"int8", q, goldentest.Tolerances{Scalar: 0.08, ScalarAbs: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".npz")
			if _, e, code := runCLI(t, "filter", "--model", tc.model, "--in", in, "--out", out, "--rollout-start", "30"); code != 0 {
				t.Fatalf("filter: exit %d: %s", code, e)
			}
			var got []float32
			for _, a := range readOutput(t, out) {
				if a.name == "viper_reward" {
					got = a.arr.F32
					if a.arr.Dtype != "<f4" || len(a.arr.Shape) != 1 {
						t.Errorf("viper_reward dtype %s shape %v, want float32 (T,)", a.arr.Dtype, a.arr.Shape)
					}
				}
			}
			w := want["viper_reward"].F32
			if len(got) != len(w) {
				t.Fatalf("viper_reward has %d entries, want %d", len(got), len(w))
			}
			if got[0] != 0 {
				t.Errorf("viper_reward[0] = %v, want 0 (episode start)", got[0])
			}
			var worst float64
			errs := make([]float64, 0, len(w))
			for i := range w {
				e := float64(got[i] - w[i])
				if e < 0 {
					e = -e
				}
				worst = max(worst, e)
				errs = append(errs, e)
				if lim := goldentest.RewardTolerance(tc.tol, w[i]); !(e <= lim) {
					t.Errorf("viper_reward[%d] = %v, want %v ± %.3g", i, got[i], w[i], lim)
				}
			}
			slices.Sort(errs)
			med := errs[len(errs)/2]
			if med > 0.015 {
				t.Errorf("median viper_reward error %.3g > 0.015", med)
			}
			t.Logf("%s: viper_reward abs error max %.3g, median %.3g", tc.name, worst, med)

		})
	}
}

// TestActionFreeModelIgnoresActions: an action-free (VIPER) model given a recording that carries
// actions — what a robot's episodes have — filters, calibrates and replays it as if the actions
// were absent (saying so), instead of refusing it.
func TestActionFreeModelIgnoresActions(t *testing.T) {
	const modelDir = "../../model/testdata/golden/cnnha-actionfree"
	dir := t.TempDir()
	plain := filepath.Join(modelDir, "seq.npz")
	data, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	arrs, err := seqio.ReadArrays(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := arrs["pre_action"]; ok {
		t.Fatal("the action-free golden input already has pre_action")
	}
	img := arrs["image"]
	T := img.Shape[0]
	var named []model.NamedArray
	for name, a := range arrs {
		d := a.F32
		if a.U8 != nil {
			d = make([]float32, len(a.U8))
			for i, v := range a.U8 {
				d[i] = float32(v)
			}
		}
		named = append(named, model.NamedArray{Name: name, Shape: a.Shape, Data: d})
	}
	acts := make([]float32, T*3)
	for i := range acts {
		acts[i] = float32(i%7)/3 - 1
	}
	named = append(named, model.NamedArray{Name: "pre_action", Shape: []int{T, 3}, Data: acts})
	withActs := filepath.Join(dir, "with-actions.npz")
	if err := seqio.WriteArrays(withActs, named); err != nil {
		t.Fatal(err)
	}

	outPlain, outActs := filepath.Join(dir, "plain.npz"), filepath.Join(dir, "acts.npz")
	if _, e, code := runCLI(t, "filter", "--model", modelDir, "--in", plain, "--out", outPlain); code != 0 {
		t.Fatalf("filter without actions: exit %d: %s", code, e)
	}
	_, e, code := runCLI(t, "filter", "--model", modelDir, "--in", withActs, "--out", outActs)
	if code != 0 {
		t.Fatalf("filter of a recording with actions: exit %d: %s", code, e)
	}
	if !strings.Contains(e, "action-free") {
		t.Errorf("filter did not say it ignored the actions: %q", e)
	}
	want, got := readOutput(t, outPlain), readOutput(t, outActs)
	if len(want) != len(got) {
		t.Fatalf("%d output arrays, want %d", len(got), len(want))
	}
	byName := map[string]*seqio.Array{}
	for _, a := range got {
		byName[a.name] = a.arr
	}
	for _, w := range want {
		g := byName[w.name]
		if g == nil || !slices.Equal(g.F32, w.arr.F32) || !slices.Equal(g.U8, w.arr.U8) {
			t.Errorf("output %s differs when the recording carries actions", w.name)
		}
	}

	q := filepath.Join(dir, "af.int8.rssm")
	if _, e, code := runCLI(t, "calibrate", "--model", modelDir, "--data", withActs, "--out", q); code != 0 {
		t.Fatalf("calibrate on a recording with actions: exit %d: %s", code, e)
	}
	env, _, errb := runEnv(context.Background(), "--model", q, "--source", "replay:"+withActs, "--metrics-addr", "off")
	if err := runRun(env); err != nil {
		t.Fatalf("replay of a recording with actions: %v\n%s", err, errb)
	}
}
