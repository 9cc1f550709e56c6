package model_test

import (
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/goldentest"
	"github.com/rssmd/rssmd/model/seqio"
)

func sharedTestdata(t testing.TB) string { return goldentest.SharedTestdata(t) }

func runGolden(t *testing.T, modelDir, seqPath, goldenPath string, opt model.FilterOptions) {
	t.Helper()
	m, err := model.Load(modelDir)
	if err != nil {
		t.Fatalf("load %s: %v", modelDir, err)
	}
	seq, err := seqio.ReadSequenceFile(seqPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.Filter(m.NewRunner(), seq, opt)
	if err != nil {
		t.Fatal(err)
	}
	goldentest.Compare(t, got, goldentest.ReadGolden(t, goldenPath), goldentest.Float32Tolerances)
}

// TestSharedGolden compares the float32 path with the ORIGINAL AIME-NoB code's outputs.
func TestSharedGolden(t *testing.T) {
	td := sharedTestdata(t)
	runGolden(t,
		filepath.Join(td, "models", "walker-wm-synthetic"),
		filepath.Join(td, "golden", "shared-walker", "seq.npz"),
		filepath.Join(td, "golden", "shared-walker", "golden.npz"),
		model.FilterOptions{RolloutStart: 30, RolloutHorizon: 10})
}

// VariantRollouts are the rollouts the committed variant goldens were made with
// (golden.json rollout_start / rollout_horizon).
var VariantRollouts = map[string][2]int{
	"cnnha-actions":    {8, 4},
	"cnnha-actionfree": {5, 2},
	"discrete":         {5, 3},
	"resnet":           {5, 3},
	"min-std-null":     {0, 0},
}

// TestVariantGoldens compares against our PyTorch reference (tools/reference) on the variants
// the shared set does not cover.
func TestVariantGoldens(t *testing.T) {
	for name, r := range VariantRollouts {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", name)
			runGolden(t, dir, filepath.Join(dir, "seq.npz"), filepath.Join(dir, "golden.npz"),
				model.FilterOptions{RolloutStart: r[0], RolloutHorizon: r[1]})
		})
	}
}
