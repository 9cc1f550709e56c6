package model_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

// sharedTestdata returns ../shared/testdata relative to the repo root. Outside CI a missing
// folder skips the test; in CI (env CI set) it fails, because CI provides it.
func sharedTestdata(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must provide %s: %v", p, err)
		}
		t.Skipf("shared test data not present at %s (a fresh clone has none; CI provides it)", p)
	}
	return p
}

// tolerance classes of the golden README.
func tolFor(key string) (kind string) {
	switch {
	case key == "recon" || key == "rollout_image":
		return "image"
	case key == "kl" || key == "elbo" || strings.HasSuffix(key, "_loglik"):
		return "scalar"
	default:
		return "state"
	}
}

// compareGolden checks every array of want against got with the README's tolerances.
func compareGolden(t *testing.T, got []model.NamedArray, want map[string]*seqio.Array) {
	t.Helper()
	gotBy := map[string]model.NamedArray{}
	for _, a := range got {
		gotBy[a.Name] = a
	}
	for key, w := range want {
		g, ok := gotBy[key]
		if !ok {
			t.Errorf("output lacks %q", key)
			continue
		}
		if len(g.Data) != len(w.F32) {
			t.Errorf("%s: %d values (shape %v), golden has %d (shape %v)", key, len(g.Data), g.Shape, len(w.F32), w.Shape)
			continue
		}
		var maxMag, maxErr float64
		worst := 0
		for i := range w.F32 {
			maxMag = math.Max(maxMag, math.Abs(float64(w.F32[i])))
			if e := math.Abs(float64(g.Data[i] - w.F32[i])); e > maxErr || math.IsNaN(e) {
				maxErr, worst = e, i
			}
		}
		switch tolFor(key) {
		case "image":
			if !(maxErr <= 1e-3) {
				t.Errorf("%s: max abs error %.3g at %d (got %v, want %v), tolerance 1e-3", key, maxErr, worst, g.Data[worst], w.F32[worst])
			}
		case "scalar":
			for i := range w.F32 {
				e := math.Abs(float64(g.Data[i] - w.F32[i]))
				if !(e <= 0.05 || e <= 1e-3*math.Abs(float64(w.F32[i]))) {
					t.Errorf("%s[%d]: got %v, want %v (tolerance 1e-3 relative or 0.05 absolute)", key, i, g.Data[i], w.F32[i])
					break
				}
			}
		default:
			if !(maxErr <= 1e-4*maxMag) {
				t.Errorf("%s: max abs error %.3g at %d (got %v, want %v) exceeds 1e-4 × max magnitude %.3g", key, maxErr, worst, g.Data[worst], w.F32[worst], maxMag)
			}
		}
		t.Logf("%-16s max err %.3g (max magnitude %.3g)", key, maxErr, maxMag)
	}
	for _, g := range got {
		if _, ok := want[g.Name]; !ok {
			t.Errorf("output has %q, which the golden set does not", g.Name)
		}
	}
}

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
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := seqio.ReadArrays(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.Filter(m.NewRunner(), seq, opt)
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, got, want)
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

// TestVariantGoldens compares against our PyTorch reference (tools/reference) on the variants
// the shared set does not cover.
func TestVariantGoldens(t *testing.T) {
	rollouts := map[string][2]int{
		"cnnha-actions":    {8, 4},
		"cnnha-actionfree": {5, 2},
		"discrete":         {5, 3},
		"resnet":           {5, 3},
		"min-std-null":     {0, 0},
	}
	for name, r := range rollouts {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", name)
			runGolden(t, dir, filepath.Join(dir, "seq.npz"), filepath.Join(dir, "golden.npz"),
				model.FilterOptions{RolloutStart: r[0], RolloutHorizon: r[1]})
		})
	}
}
