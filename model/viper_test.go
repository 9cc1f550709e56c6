package model_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/goldentest"
	"github.com/rssmd/rssmd/model/seqio"
)

func TestSymlog(t *testing.T) {
	for _, tc := range []struct{ x, want float64 }{
		{0, 0},
		{math.E - 1, 1},
		{-(math.E - 1), -1},
		{-1, -math.Ln2},
		{1e6, math.Log(1e6 + 1)},
		{-200.5, -math.Log(201.5)},
	} {
		if got := model.Symlog(tc.x); math.Abs(got-tc.want) > 1e-12*math.Max(1, math.Abs(tc.want)) {
			t.Errorf("Symlog(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	if got := model.ViperReward(-151.25); got != float32(-math.Log(152.25)) {
		t.Errorf("ViperReward(-151.25) = %v, want %v", got, float32(-math.Log(152.25)))
	}
}

// viperCase filters seq through the model at modelDir (float32, deterministic path) with the
// golden's rollout and checks every output — viper_reward included, derived independently from
// the golden elbo — plus the episode starts' zeros exactly.
func viperCase(t *testing.T, modelDir, seqPath, goldenPath string, opt model.FilterOptions) []float32 {
	t.Helper()
	m, err := model.Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := seqio.ReadSequenceFile(seqPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.Filter(m.NewRunner(), seq, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := goldentest.WithViperReward(t, goldentest.ReadGolden(t, goldenPath), seq.IsFirst)
	goldentest.Compare(t, got, want, goldentest.Float32Tolerances)
	var r []float32
	for _, a := range got {
		if a.Name == "viper_reward" {
			r = a.Data
		}
	}
	if len(r) != len(want["elbo"].F32) {
		t.Fatalf("viper_reward has %d entries, elbo %d", len(r), len(want["elbo"].F32))
	}
	for i, v := range r {
		first := i == 0 || (seq.IsFirst != nil && seq.IsFirst[i])
		if first != (v == 0) {
			t.Errorf("viper_reward[%d] = %v; is_first %v", i, v, first)
		}
	}
	return r
}

// TestViperRewardVariants: viper_reward of every committed variant against symlog of our
// PyTorch reference's elbo; cnnha-actions starts a second episode at t = 5, cnnha-actionfree is
// the VIPER (action-free) case.
func TestViperRewardVariants(t *testing.T) {
	for name, ro := range VariantRollouts {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", name)
			r := viperCase(t, dir, filepath.Join(dir, "seq.npz"), filepath.Join(dir, "golden.npz"),
				model.FilterOptions{RolloutStart: ro[0], RolloutHorizon: ro[1]})
			if name == "cnnha-actions" && (r[5] != 0 || r[4] == 0 || r[6] == 0) {
				t.Errorf("is_first at t=5: rewards %v, want 0 at 5 only", r[3:7])
			}
		})
	}
}

// TestViperRewardSharedGolden: the float32 path's viper_reward against symlog of the ORIGINAL
// code's elbo on the shared walker set.
func TestViperRewardSharedGolden(t *testing.T) {
	td := goldentest.SharedTestdata(t)
	viperCase(t, filepath.Join(td, "models", "walker-wm-synthetic"),
		filepath.Join(td, "golden", "shared-walker", "seq.npz"),
		filepath.Join(td, "golden", "shared-walker", "golden.npz"),
		model.FilterOptions{RolloutStart: 30, RolloutHorizon: 10})
}
