package quant

import (
	"math"
	"testing"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
)

func TestFastMath(t *testing.T) {
	tests := []struct {
		name   string
		f      func(float32) float32
		ref    func(float64) float64
		lo, hi float64
		relTol float64
		absTol float64
	}{
		{"exp32", exp32, math.Exp, -80, 80, 3e-7, 0},
		{"sigmoid32", sigmoid32, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, -30, 30, 5e-7, 1e-12},
		{"tanh32", tanh32, math.Tanh, -10, 10, 0, 4e-7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			worst := 0.0
			for i := 0; i <= 200000; i++ {
				x := tc.lo + (tc.hi-tc.lo)*float64(i)/200000
				got := float64(tc.f(float32(x)))
				want := tc.ref(float64(float32(x)))
				err := math.Abs(got - want)
				tol := tc.absTol + tc.relTol*math.Abs(want)
				if !(err <= tol) {
					t.Fatalf("%s(%v) = %v, want %v (error %.3g > %.3g)", tc.name, x, got, want, err, tol)
				}
				worst = math.Max(worst, err/math.Max(math.Abs(want), 1e-30))
			}
			t.Logf("worst relative error %.3g", worst)
		})
	}
	if v := exp32(1000); math.IsInf(float64(v), 0) || v <= 0 {
		t.Errorf("exp32(1000) = %v, want a finite saturated value", v)
	}
	if v := sigmoid32(-1000); v < 0 || v > 1e-30 {
		t.Errorf("sigmoid32(-1000) = %v, want ~0", v)
	}
}

func TestLayerNormMatchesModel(t *testing.T) {
	for _, n := range []int{1, 3, 4, 7, 512, 1536} {
		x, g, b := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(math.Sin(float64(i)*1.7))*3 + 0.5
			g[i] = 1 + float32(i%5)*0.1
			b[i] = float32(i%3) * 0.2
		}
		want := make([]float32, n)
		ln := model.LayerNorm{N: n, G: g, B: b}
		ln.Forward(want, x)
		for _, k := range armkernels.Implementations() {
			got := make([]float32, n)
			k.LayerNorm(got, x, g, b)
			for i := range got {
				if d := math.Abs(float64(got[i] - want[i])); d > 2e-6*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("%s n=%d: y[%d] = %v, model.LayerNorm gives %v", k.Name, n, i, got[i], want[i])
				}
			}
		}
	}
}
