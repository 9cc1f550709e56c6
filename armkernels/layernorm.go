package armkernels

import (
	"fmt"
	"math"
)

// LayerNorm normalises x into y over its n = len(x) values (biased variance, eps 1e-5):
// y[i] = (x[i]−mean)·inv·g[i] + b[i], with the mean and variance summed in float64 over four
// interleaved partial sums (lane i%4 of each block of four, the remainder into the first) so
// the additions do not form one long dependency chain. Each element is rounded exactly as
// layerNormGo rounds it on this arch: Go fuses s += d·d and t·g + b into FMA on arm64 (so the
// NEON code uses FMLA there), not on amd64. y may be x; g and b need n values (it panics
// otherwise). It does not allocate.
func (k *Kernels) LayerNorm(y, x, g, b []float32) {
	n := len(x)
	if len(y) < n || len(g) < n || len(b) < n {
		panic(fmt.Sprintf("armkernels: LayerNorm over %d values with y %d, g %d, b %d", n, len(y), len(g), len(b)))
	}
	if n == 0 {
		return
	}
	y, g, b = y[:n], g[:n], b[:n]
	i, s0, s1, s2, s3 := lnSumBlocks(k.helper, x)
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
	i, s0, s1, s2, s3 = lnSqBlocks(k.helper, x, mean)
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
	i = lnApplyBlocks(k.helper, y, x, g, b, m32, inv)
	for ; i < n; i++ {
		y[i] = (x[i]-m32)*inv*g[i] + b[i]
	}
}

// layerNormGo is LayerNorm as plain Go loops, the reference the asm is tested against.
func layerNormGo(y, x, g, b []float32) {
	n := len(x)
	if n == 0 {
		return
	}
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
