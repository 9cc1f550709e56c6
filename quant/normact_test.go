package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rssmd/rssmd/armkernels"
)

// TestQ8Fast: q8fast rounds and clamps exactly as q8z on a dense sweep, halves included.
func TestQ8Fast(t *testing.T) {
	for _, inv := range []float32{1, 0.37, 25.5} {
		for _, zero := range []int32{-128, -113, 0, 5, 127} {
			for v := float32(-400); v <= 400; v += 0.03125 {
				if got, want := q8fast(v, inv, zero), q8z(v, inv, zero); got != want {
					t.Fatalf("q8fast(%v, %v, %d) = %d, q8z gives %d", v, inv, zero, got, want)
				}
			}
			for _, v := range []float32{1e30, -1e30, 4.5, 5.5, -4.5, -5.5} {
				if got, want := q8fast(v, inv, zero), q8z(v, inv, zero); got != want {
					t.Fatalf("q8fast(%v, %v, %d) = %d, q8z gives %d", v, inv, zero, got, want)
				}
			}
		}
	}
}

// normActRef is the two-pass InstanceNorm and SiLU of the float path, in float64 from the exact
// dequantised values (float32(acc) alone rounds accumulators beyond 2^24).
func normActRef(acc []int32, p, c int, mul, bias, g, b []float32, norm bool) []float64 {
	x := make([]float64, p*c)
	for i := range x {
		x[i] = float64(acc[i])*float64(mul[i%c]) + float64(bias[i%c]) // exact: the truth both paths round
	}
	if norm {
		for j := 0; j < c; j++ {
			var m, v float64
			for i := 0; i < p; i++ {
				m += x[i*c+j]
			}
			m /= float64(p)
			for i := 0; i < p; i++ {
				v += (x[i*c+j] - m) * (x[i*c+j] - m)
			}
			s := 1 / math.Sqrt(v/float64(p)+1e-5)
			for i := 0; i < p; i++ {
				y := (x[i*c+j] - m) * s
				if g != nil {
					y = y*float64(g[j]) + float64(b[j])
				}
				x[i*c+j] = y
			}
		}
	}
	for i, v := range x {
		x[i] = v / (1 + math.Exp(-v))
	}
	return x
}

// TestNormActMatchesFloat: normAct against the float64 path on encoder- and decoder-like planes
// (with and without affine, large accumulators with a large common offset, chunk boundaries
// inside and across pixels), as floats and as int8 codes (within one code of q8z of the
// reference; row padding cleared).
func TestNormActMatchesFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shapes := []struct {
		p, c         int
		norm, affine bool
		offset       int32
	}{
		{1024, 48, true, true, 0},
		{256, 96, true, true, 3_000_000},
		{16, 384, true, true, -20_000_000},
		{64, 3000, true, false, 1000}, // wider than a chunk
		{256, 48, true, false, 0},
		{7, 5, false, false, 100},
	}
	for _, k := range armkernels.Implementations() {
		for _, sh := range shapes {
			p, c := sh.p, sh.c
			acc := make([]int32, p*c)
			for i := range acc {
				acc[i] = sh.offset + int32(rng.NormFloat64()*20000)
			}
			mul, bias := make([]float32, c), make([]float32, c)
			var g, b []float32
			for j := range mul {
				mul[j] = float32(1e-4 * (1 + rng.Float64()))
				bias[j] = float32(rng.NormFloat64())
			}
			if sh.affine {
				g, b = make([]float32, c), make([]float32, c)
				for j := range g {
					g[j] = float32(1 + 0.3*rng.NormFloat64())
					b[j] = float32(0.3 * rng.NormFloat64())
				}
			}
			want := normActRef(acc, p, c, mul, bias, g, b, sh.norm)
			ns := newNormScratch(c)
			f := make([]float32, p*c)
			normAct(k, f, acc, p, c, mul, bias, g, b, sh.norm, "silu", &ns, nil)
			for i := range f {
				if d := math.Abs(float64(f[i]) - want[i]); d > 2e-5*(1+math.Abs(want[i])) {
					t.Fatalf("%s p%d c%d: f[%d] = %v, float64 path %v", k.Name, p, c, i, f[i], want[i])
				}
			}
			const stride = 3
			dst := make([]int8, p*(c+stride))
			for i := range dst {
				dst[i] = 99
			}
			inv, zero := float32(40), int32(-110)
			normAct(k, f, acc, p, c, mul, bias, g, b, sh.norm, "silu", &ns, &quantOut{dst: dst, stride: c + stride, inv: inv, zero: zero})
			for i := 0; i < p; i++ {
				for j := 0; j < c+stride; j++ {
					got := dst[i*(c+stride)+j]
					if j >= c {
						if got != 0 {
							t.Fatalf("%s p%d c%d: padding [%d][%d] = %d, want 0", k.Name, p, c, i, j, got)
						}
						continue
					}
					w := q8z(float32(want[i*c+j]), inv, zero)
					if d := int(got) - int(w); d < -1 || d > 1 {
						t.Fatalf("%s p%d c%d: code [%d][%d] = %d, reference %d", k.Name, p, c, i, j, got, w)
					}
				}
			}
		}
	}
}
