package quant

import "math"

// exp32 is e^x in float32 with a relative error below 2e-7 on [-87, 88] (x is clamped there,
// so it saturates instead of returning Inf or 0 subnormals). math.Exp in float64 costs about
// ten times as much, and the gates and SiLUs call it thousands of times per step.
func exp32(x float32) float32 {
	// Comparisons, not min/max: Go's float min/max carry NaN and ±0 rules that cost branches.
	if x < -87 {
		x = -87
	}
	if x > 88 {
		x = 88
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693145751953125
		ln2lo = 1.428606765330187045e-06
	)
	n := float32(float32(x*log2e+roundMagic) - roundMagic)
	r := x - n*ln2hi - n*ln2lo
	// Taylor to degree 6 on |r| ≤ ln2/2.
	p := float32(1.0 / 720)
	p = p*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// sigmoid32 is 1/(1+e^-x) on exp32.
func sigmoid32(x float32) float32 { return 1 / (1 + exp32(-x)) }

// tanh32 is tanh(x) = 1 − 2/(e^{2x}+1); its absolute error stays below 3e-7.
func tanh32(x float32) float32 { return 1 - 2/(exp32(2*x)+1) }

// silu applies x·σ(x) in place.
func silu(x []float32) {
	for i, v := range x {
		x[i] = v * sigmoid32(v)
	}
}

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
