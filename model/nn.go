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

// ForwardPatches is Forward through an im2col patch: for each output pixel the Cin·K·K
// input values are gathered once into patch (in W's row order) and every output channel is
// one contiguous dot product. Same sums as Forward up to float rounding order; several times
// faster. patch must hold Cin·K·K values.
func (c *Conv2d) ForwardPatches(out, in []float32, h, w int, patch []float32) (ho, wo int) {
	ho = (h+2*c.Pad-c.K)/c.Stride + 1
	wo = (w+2*c.Pad-c.K)/c.Stride + 1
	kk := c.Cin * c.K * c.K
	patch = patch[:kk]
	out = out[:c.Cout*ho*wo]
	plane := ho * wo
	for y := 0; y < ho; y++ {
		for x := 0; x < wo; x++ {
			i := 0
			for ci := 0; ci < c.Cin; ci++ {
				src := in[ci*h*w : (ci+1)*h*w]
				for ky := 0; ky < c.K; ky++ {
					iy := y*c.Stride + ky - c.Pad
					for kx := 0; kx < c.K; kx++ {
						ix := x*c.Stride + kx - c.Pad
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							patch[i] = 0
						} else {
							patch[i] = src[iy*w+ix]
						}
						i++
					}
				}
			}
			o := y*wo + x
			for co := 0; co < c.Cout; co++ {
				out[co*plane+o] = c.B[co] + dot(c.W[co*kk:(co+1)*kk], patch)
			}
		}
	}
	return ho, wo
}

// ConvTranspose2d is the scatter form of a transposed conv; W is [Cin][Cout][K][K] (P3).
// WT, when set (PrepareGather), is the same weights as [Cout][K][K][Cin] for ForwardGather.
type ConvTranspose2d struct {
	Cin, Cout, K, Stride, Pad int
	W, B                      []float32
	WT                        []float32
}

// PrepareGather builds WT, the weight layout ForwardGather reads.
func (c *ConvTranspose2d) PrepareGather() {
	kk := c.K * c.K
	c.WT = make([]float32, len(c.W))
	for ci := 0; ci < c.Cin; ci++ {
		for co := 0; co < c.Cout; co++ {
			for k := 0; k < kk; k++ {
				c.WT[(co*kk+k)*c.Cin+ci] = c.W[(ci*c.Cout+co)*kk+k]
			}
		}
	}
}

// ForwardGather is Forward with contiguous dot products: each input pixel's Cin values are
// gathered into pix, and every (co, ky, kx) contribution is one dot with a WT row, added to
// its output position. Needs PrepareGather; pix must hold Cin values.
func (c *ConvTranspose2d) ForwardGather(out, in []float32, h, w int, pix []float32) (ho, wo int) {
	ho = (h-1)*c.Stride - 2*c.Pad + c.K
	wo = (w-1)*c.Stride - 2*c.Pad + c.K
	out = out[:c.Cout*ho*wo]
	plane := ho * wo
	for co := 0; co < c.Cout; co++ {
		o := out[co*plane : (co+1)*plane]
		for i := range o {
			o[i] = c.B[co]
		}
	}
	pix = pix[:c.Cin]
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for ci := range pix {
				pix[ci] = in[ci*h*w+y*w+x]
			}
			for co := 0; co < c.Cout; co++ {
				base := co * plane
				for ky := 0; ky < c.K; ky++ {
					oy := y*c.Stride + ky - c.Pad
					if oy < 0 || oy >= ho {
						continue
					}
					row := (co*c.K + ky) * c.K
					for kx := 0; kx < c.K; kx++ {
						ox := x*c.Stride + kx - c.Pad
						if ox < 0 || ox >= wo {
							continue
						}
						r := (row + kx) * c.Cin
						out[base+oy*wo+ox] += dot(c.WT[r:r+c.Cin], pix)
					}
				}
			}
		}
	}
	return ho, wo
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

// ViperReward is the VIPER reward of a step that is not an episode's first: symlog of the
// step's ELBO (spec §3.7, ViperRewardWrapper). The first frame's reward is 0 by definition;
// callers decide which frame is first. The transform does not depend on the model being
// action-free, so every model gets it.
func ViperReward(elbo float32) float32 { return float32(Symlog(float64(elbo))) }
