package armkernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExp: Exp (asm where the CPU has it) agrees bit for bit with Exp32, and Exp32 is within
// 3e-7 relative of math.Exp over the unclamped range; clamping and NaN as documented.
func TestExp(t *testing.T) {
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		r := rand.New(rand.NewPCG(7, 8))
		src := make([]float32, 4099)
		for i := range src {
			src[i] = float32(r.Float64()*180 - 90)
		}
		copy(src, []float32{0, -0, 1, -1, 88, -87, 100, -100, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30, 0.5})
		src[20] = float32(math.NaN())
		for _, off := range []int{0, 1, 5} {
			dst := make([]float32, len(src))
			k.Exp(dst[off:], src[off:])
			for i := off; i < len(src); i++ {
				x := src[i]
				want := Exp32(x)
				if math.Float32bits(dst[i]) != math.Float32bits(want) && !(x != x && dst[i] != dst[i]) {
					t.Fatalf("Exp(%v) = %v, Exp32 %v", x, dst[i], want)
				}
				if x != x {
					continue
				}
				xc := math.Min(math.Max(float64(x), -87), 88)
				if e := math.Exp(xc); math.Abs(float64(want)-e) > 3e-7*e {
					t.Fatalf("Exp32(%v) = %v, math.Exp %v", x, want, e)
				}
			}
		}
		// A dense sweep of the range: the later Horner steps, fused into an FMA, change
		// the result on a few percent of inputs; this catches that on every lane.
		grid := make([]float32, 1<<15)
		for i := range grid {
			grid[i] = float32(-90 + 180*float64(i)/float64(len(grid)))
		}
		out := make([]float32, len(grid))
		k.Exp(out, grid)
		for i, x := range grid {
			if want := Exp32(x); math.Float32bits(out[i]) != math.Float32bits(want) {
				t.Fatalf("grid: Exp(%v) = %v, Exp32 %v", x, out[i], want)
			}
		}
		defer func() {
			if recover() == nil {
				t.Error("short dst: no panic")
			}
		}()
		k.Exp(make([]float32, 1), make([]float32, 2))
	})
}

func BenchmarkExp(b *testing.B) {
	src := make([]float32, 1536)
	dst := make([]float32, 1536)
	for i := range src {
		src[i] = float32(i%40) - 20
	}
	benchHelperLevels(b, func(b *testing.B, k *Kernels) {
		b.ReportAllocs()
		for b.Loop() {
			k.Exp(dst, src)
		}
	})
}
