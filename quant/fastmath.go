package quant

import (
	"math"

	"github.com/rssmd/rssmd/armkernels"
)

// exp32 is e^x in float32 (armkernels.Exp32: relative error below 3e-7 on [-87, 88], x
// clamped there). math.Exp in float64 costs about ten times as much; slices go through the
// vectorised armkernels.Exp.
func exp32(x float32) float32 { return armkernels.Exp32(x) }

// sigmoid32 is 1/(1+e^-x) on exp32.
func sigmoid32(x float32) float32 { return 1 / (1 + exp32(-x)) }

// tanh32 is tanh(x) = 1 − 2/(e^{2x}+1); its absolute error stays below 3e-7.
func tanh32(x float32) float32 { return 1 - 2/(exp32(2*x)+1) }

// layerNorm normalises x into y over its n values (biased variance, eps 1e-5) with float64
// statistics, as model.LayerNorm, but with four independent partial sums so the additions do
// not form one long dependency chain.
func layerNorm(y, x, g, b []float32) {
	n := len(x)
	y, g, b = y[:n], g[:n], b[:n]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < n; i++ {
		s0 += float64(x[i])
	}
	mean := ((s0 + s1) + (s2 + s3)) / float64(n)
	s0, s1, s2, s3 = 0, 0, 0, 0
	i = 0
	for ; i+4 <= n; i += 4 {
		d0, d1 := float64(x[i])-mean, float64(x[i+1])-mean
		d2, d3 := float64(x[i+2])-mean, float64(x[i+3])-mean
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < n; i++ {
		d := float64(x[i]) - mean
		s0 += d * d
	}
	inv := float32(1 / math.Sqrt(((s0+s1)+(s2+s3))/float64(n)+1e-5))
	m32 := float32(mean)
	for i, v := range x {
		y[i] = (v-m32)*inv*g[i] + b[i]
	}
}
