package model

import (
	"math"
)

// Linear is y = W·x + b with W row-major [Out][In] (spec §2.1).
type Linear struct {
	In, Out int
	W, B    []float32
}

// Forward writes Out values to y. x must hold In values.
func (l *Linear) Forward(y, x []float32) {
	x = x[:l.In]
	y = y[:l.Out]
	for o := range y {
		w := l.W[o*l.In : (o+1)*l.In]
		y[o] = l.B[o] + dot(w, x)
	}
}

// dot is a 4-way unrolled float32 dot product; the partial sums keep rounding error close to
// a BLAS reduction.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// LayerNorm normalises over the whole vector with biased variance and eps 1e-5 (spec §2.1).
type LayerNorm struct {
	N    int
	G, B []float32
}

// Forward normalises x into y (they may alias). Statistics are accumulated in float64 so the
// result does not depend on summation order.
func (n *LayerNorm) Forward(y, x []float32) {
	x = x[:n.N]
	y = y[:n.N]
	var mean float64
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(n.N)
	var vr float64
	for _, v := range x {
		d := float64(v) - mean
		vr += d * d
	}
	vr /= float64(n.N)
	inv := 1 / math.Sqrt(vr+1e-5)
	for i, v := range x {
		y[i] = float32((float64(v)-mean)*inv)*n.G[i] + n.B[i]
	}
}

// Conv2d is a cross-correlation with zero padding; W is [Cout][Cin][K][K].
type Conv2d struct {
	Cin, Cout, K, Stride, Pad int
	W, B                      []float32
}

// Forward computes out [Cout][ho][wo] from in [Cin][h][w] (CHW).
func (c *Conv2d) Forward(out, in []float32, h, w int) (ho, wo int) {
	ho = (h+2*c.Pad-c.K)/c.Stride + 1
	wo = (w+2*c.Pad-c.K)/c.Stride + 1
	out = out[:c.Cout*ho*wo]
	for co := 0; co < c.Cout; co++ {
		o := out[co*ho*wo : (co+1)*ho*wo]
		for i := range o {
			o[i] = c.B[co]
		}
		for ci := 0; ci < c.Cin; ci++ {
			plane := in[ci*h*w : (ci+1)*h*w]
			for ky := 0; ky < c.K; ky++ {
				for kx := 0; kx < c.K; kx++ {
					wt := c.W[((co*c.Cin+ci)*c.K+ky)*c.K+kx]
					for y := 0; y < ho; y++ {
						iy := y*c.Stride + ky - c.Pad
						if iy < 0 || iy >= h {
							continue
						}
						row := plane[iy*w : (iy+1)*w]
						orow := o[y*wo : (y+1)*wo]
						ix := kx - c.Pad
						for x := range orow {
							if ix >= 0 && ix < w {
								orow[x] += wt * row[ix]
							}
							ix += c.Stride
						}
					}
				}
			}
		}
	}
	return ho, wo
}

// ConvTranspose2d is the scatter form of a transposed conv; W is [Cin][Cout][K][K] (P3).
type ConvTranspose2d struct {
	Cin, Cout, K, Stride, Pad int
	W, B                      []float32
}

// Forward computes out [Cout][ho][wo] from in [Cin][h][w].
func (c *ConvTranspose2d) Forward(out, in []float32, h, w int) (ho, wo int) {
	ho = (h-1)*c.Stride - 2*c.Pad + c.K
	wo = (w-1)*c.Stride - 2*c.Pad + c.K
	out = out[:c.Cout*ho*wo]
	for co := 0; co < c.Cout; co++ {
		o := out[co*ho*wo : (co+1)*ho*wo]
		for i := range o {
			o[i] = c.B[co]
		}
	}
	for ci := 0; ci < c.Cin; ci++ {
		plane := in[ci*h*w : (ci+1)*h*w]
		for co := 0; co < c.Cout; co++ {
			o := out[co*ho*wo : (co+1)*ho*wo]
			for ky := 0; ky < c.K; ky++ {
				for kx := 0; kx < c.K; kx++ {
					wt := c.W[((ci*c.Cout+co)*c.K+ky)*c.K+kx]
					for y := 0; y < h; y++ {
						oy := y*c.Stride + ky - c.Pad
						if oy < 0 || oy >= ho {
							continue
						}
						row := plane[y*w : (y+1)*w]
						orow := o[oy*wo : (oy+1)*wo]
						ox := kx - c.Pad
						for x := range row {
							if ox >= 0 && ox < wo {
								orow[ox] += wt * row[x]
							}
							ox += c.Stride
						}
					}
				}
			}
		}
	}
	return ho, wo
}

// InstanceNorm normalises each channel over its plane (biased variance, eps 1e-5); G and B
// are nil for the decoder's parameterless norms (P24).
func InstanceNorm(x []float32, c, n int, g, b []float32) {
	for ch := 0; ch < c; ch++ {
		p := x[ch*n : (ch+1)*n]
		var mean float64
		for _, v := range p {
			mean += float64(v)
		}
		mean /= float64(n)
		var vr float64
		for _, v := range p {
			d := float64(v) - mean
			vr += d * d
		}
		vr /= float64(n)
		inv := 1 / math.Sqrt(vr+1e-5)
		gg, bb := float32(1), float32(0)
		if g != nil {
			gg, bb = g[ch], b[ch]
		}
		for i, v := range p {
			p[i] = float32((float64(v)-mean)*inv)*gg + bb
		}
	}
}

// Activate applies a named activation in place.
func Activate(x []float32, act string) {
	switch act {
	case "", "identity":
	case "relu":
		for i, v := range x {
			if v < 0 {
				x[i] = 0
			}
		}
	case "elu":
		for i, v := range x {
			if v <= 0 {
				x[i] = float32(math.Expm1(float64(v)))
			}
		}
	case "silu", "swish":
		for i, v := range x {
			x[i] = v * Sigmoid(v)
		}
	case "tanh":
		for i, v := range x {
			x[i] = float32(math.Tanh(float64(v)))
		}
	case "sigmoid":
		for i, v := range x {
			x[i] = Sigmoid(v)
		}
	}
}

// Sigmoid is the logistic function, computed in float64 for accuracy at the tails.
func Sigmoid(x float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(x))))
}

// StdFromRaw is the spec's std transform 2·σ(ρ/2) + min_std (P8).
func StdFromRaw(raw, minStd float32) float32 {
	return 2*Sigmoid(raw/2) + minStd
}

// GaussianKL is KL(q‖p) for one dimension, computed as PyTorch does (spec §3.7).
func GaussianKL(mq, sq, mp, sp float32) float32 {
	r := float64(sq) / float64(sp)
	r *= r
	t := (float64(mq) - float64(mp)) / float64(sp)
	t *= t
	return float32(0.5 * (r + t - 1 - math.Log(r)))
}

// probEps is float32's machine epsilon, the clamp PyTorch applies to probabilities (P21).
const probEps = 1.1920928955078125e-07

// BernoulliLogProb is log p(v) of a Bernoulli with probability p, computed through the clamped
// logit as torch.distributions.Bernoulli does (spec §3.7).
func BernoulliLogProb(p, v float32) float32 {
	pc := math.Min(math.Max(float64(p), probEps), 1-probEps)
	l := math.Log(pc) - math.Log1p(-pc)
	return float32(-(math.Max(l, 0) - l*float64(v) + math.Log1p(math.Exp(-math.Abs(l)))))
}

// Symlog is sign(x)·ln(|x|+1), the VIPER reward transform of the ELBO.
func Symlog(x float64) float64 {
	if x < 0 {
		return -math.Log1p(-x)
	}
	return math.Log1p(x)
}
