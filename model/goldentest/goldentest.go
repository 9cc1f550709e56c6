// Package goldentest holds the helpers tests use to compare filter outputs with golden files
// and to find the shared test data. It is imported only by tests.
package goldentest

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

// RepoRoot returns the repository root (the folder holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate goldentest source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SharedTestdata returns ../shared/testdata next to the repo. Outside CI a missing folder
// skips the test; in CI (env CI set) it fails, because CI provides it.
func SharedTestdata(t testing.TB) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "..", "shared", "testdata")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must provide %s: %v", p, err)
		}
		t.Skipf("shared test data not present at %s (a fresh clone has none; CI provides it)", p)
	}
	return p
}

// ReadGolden reads a golden .npz.
func ReadGolden(t testing.TB, path string) map[string]*seqio.Array {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := seqio.ReadArrays(data)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// Tolerances are the golden README's: states and statistics within State × the array's
// largest magnitude, images within Image (absolute, [0,1] units), and kl / *_loglik / elbo
// within Scalar × the array's largest magnitude, or ScalarAbs for arrays near zero. Scaled
// per array, not per element: one absolute tolerance for every scalar array (0.05 once) is
// larger than whole arrays (reward_loglik −0.056…−0.015, terminal_loglik ~1e-6) and let a
// halved head likelihood pass.
type Tolerances struct {
	State, Image, Scalar, ScalarAbs float64
}

// Float32Tolerances are the tolerances a faithful float32 implementation meets. ScalarAbs is a
// floor for arrays near zero (terminal_loglik of ~1e-6 is computed to ~6e-8), not a slack for
// every array.
var Float32Tolerances = Tolerances{State: 1e-4, Image: 1e-3, Scalar: 1e-3, ScalarAbs: 1e-6}

// Class says which tolerance class an output key belongs to.
func Class(key string) string {
	switch {
	case key == "recon" || key == "rollout_image":
		return "image"
	case key == "kl" || key == "elbo" || strings.HasSuffix(key, "_loglik"):
		return "scalar"
	case key == "viper_reward":
		return "reward"
	default:
		return "state"
	}
}

// Compare checks every golden array against the output with tol, and that the output has no
// keys the golden set lacks.
func Compare(t *testing.T, got []model.NamedArray, want map[string]*seqio.Array, tol Tolerances) {
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
		if len(g.Data) != len(w.F32) || !sameShape(g.Shape, w.Shape) {
			t.Errorf("%s: shape %v, golden has %v", key, g.Shape, w.Shape)
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
		switch Class(key) {
		case "image":
			if !(maxErr <= tol.Image) {
				t.Errorf("%s: max abs error %.3g at %d (got %v, want %v), tolerance %g", key, maxErr, worst, g.Data[worst], w.F32[worst], tol.Image)
			}
		case "reward":
			for i := range w.F32 {
				if e, lim := math.Abs(float64(g.Data[i]-w.F32[i])), RewardTolerance(tol, w.F32[i]); !(e <= lim) {
					t.Errorf("%s[%d]: got %v, want %v (tolerance %.3g: the ELBO's carried through symlog)", key, i, g.Data[i], w.F32[i], lim)
					break
				}
			}
		case "scalar":
			if lim := ScalarTolerance(tol, maxMag); !(maxErr <= lim) {
				t.Errorf("%s: max abs error %.3g at %d (got %v, want %v) exceeds %.3g (%g × max magnitude %.3g, at least %g)",
					key, maxErr, worst, g.Data[worst], w.F32[worst], lim, tol.Scalar, maxMag, tol.ScalarAbs)
			}
		default:
			if !(maxErr <= tol.State*maxMag) {
				t.Errorf("%s: max abs error %.3g at %d (got %v, want %v) exceeds %g × max magnitude %.3g", key, maxErr, worst, g.Data[worst], w.F32[worst], tol.State, maxMag)
			}
		}
		t.Logf("%-16s max err %.3g (max magnitude %.3g)", key, maxErr, maxMag)
	}
	for _, g := range got {
		if _, ok := want[g.Name]; !ok && g.Name != "viper_reward" {
			// viper_reward is derived from elbo, which is compared; goldens made before it
			// existed lack it (WithViperReward adds the expected values).
			t.Errorf("output has %q, which the golden set does not", g.Name)
		}
	}
}

// WithViperReward returns want plus the viper_reward the filter contract derives from its
// elbo (spec §3.7): 0 at t = 0 and wherever isFirst (len ≥ T, or nil) is set, symlog(elbo)
// elsewhere, computed here independently of model.ViperReward.
func WithViperReward(t testing.TB, want map[string]*seqio.Array, isFirst []bool) map[string]*seqio.Array {
	t.Helper()
	e, ok := want["elbo"]
	if !ok {
		t.Fatal("golden set has no elbo")
	}
	r := make([]float32, len(e.F32))
	for i, x := range e.F32 {
		if i == 0 || (isFirst != nil && isFirst[i]) {
			continue
		}
		v := math.Log(1 + math.Abs(float64(x)))
		r[i] = float32(math.Copysign(v, float64(x)))
	}
	out := make(map[string]*seqio.Array, len(want)+1)
	for k, v := range want {
		out[k] = v
	}
	out["viper_reward"] = &seqio.Array{Shape: []int{len(r)}, F32: r}
	return out
}

// ScalarTolerance is the largest error allowed in a kl / *_loglik / elbo array whose largest
// magnitude is scale.
func ScalarTolerance(tol Tolerances, scale float64) float64 {
	return math.Max(tol.ScalarAbs, tol.Scalar*scale)
}

// RewardTolerance carries the ELBO's tolerance (Scalar relative or ScalarAbs absolute) through
// symlog, whose slope is 1/(|x|+1) — the reward's tolerance relative to its scale.
func RewardTolerance(tol Tolerances, reward float32) float64 {
	x := math.Expm1(math.Abs(float64(reward))) // |elbo|
	return math.Max(tol.ScalarAbs, tol.Scalar*x) / (x + 1)
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
