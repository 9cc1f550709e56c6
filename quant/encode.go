package quant

// The encoder stage: image bytes → int8 convolutions (im2col or the sliding first layer) →
// float32 embedding.

import (
	"fmt"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
)

// Encode computes the embedding of a 64x64 RGB frame (HWC uint8) into emb (EmbDim values,
// in PyTorch's CHW flatten order).
func (r *Runner) Encode(emb []float32, image []uint8) error {
	if len(image) != model.ImageValues {
		return fmt.Errorf("%w: %d bytes, want %d (64x64 RGB)", model.ErrImageSize, len(image), model.ImageValues)
	}
	if len(emb) < r.m.Arch.EmbDim {
		return fmt.Errorf("embedding buffer holds %d values, want %d", len(emb), r.m.Arch.EmbDim)
	}
	in, out := r.qa, r.qb
	layers := r.m.enc
	if c := layers[0]; c.slide != nil && len(layers) > 1 {
		r.encodeSlide(c, out, image)
		layers = layers[1:]
		in, out = out, in
	} else {
		in = in[:model.ImageValues]
		for i, p := range image {
			in[i] = r.lut[p]
		}
	}
	for i, c := range layers {
		r.conv(c, out, in, emb, i == len(layers)-1)
		in, out = out, in
	}
	return nil
}

// encodeSlide runs the first encoder layer in its sliding form (newSlide): the image goes
// through the input LUT straight into the stacked units (each pixel lands in the K/S stacks
// whose rows cover it), then one GEMM with overlapping rows; the rows ox ≥ OutH of each
// output row are computed and skipped.
func (r *Runner) encodeSlide(c *qconv, out []int8, image []uint8) {
	sp := &c.spec
	k, s, w, ho, cin := sp.K, sp.S, sp.InH, sp.OutH, sp.Cin
	per := w / s     // units per stacked row
	chunk := s * cin // bytes of one input row in a unit
	lda := k * chunk // bytes of a unit
	stk := r.patches[:ho*per*lda+8]
	if r.lutXor && s == 2 && k == 4 && cin == 3 {
		r.k.StackRGB(stk, image, w, ho)
	} else {
		for oy := 0; oy < ho; oy++ {
			for u := 0; u < per; u++ {
				for ky := 0; ky < k; ky++ {
					si := ((s*oy+ky)*w + s*u) * cin
					d := stk[(oy*per+u)*lda+ky*chunk:]
					for i, p := range image[si : si+chunk] {
						d[i] = r.lut[p]
					}
				}
			}
		}
	}
	C := sp.Cout
	m := (ho-1)*per + ho
	acc := r.acc[:m*C]
	r.k.Gemm(acc, C, stk[:(m-1)*lda+c.slide.Stride()], lda, m, c.slide)
	if c.mulq != nil {
		for oy := 0; oy < ho; oy++ {
			reluRequant(r.k, out[oy*ho*C:(oy+1)*ho*C], C, acc[oy*per*C:], c.mulq, c.biasq, c.outZero)
		}
		return
	}
	// General epilogue: close the gaps, then the usual path on contiguous rows.
	for oy := 1; oy < ho; oy++ {
		copy(acc[oy*ho*C:(oy+1)*ho*C], acc[oy*per*C:])
	}
	r.convEpilogue(c, out, acc[:ho*ho*C], nil, false)
}

// im2col writes one patch row per output pixel: k runs of the k·Cin input bytes under each
// kernel row (pad, the code of x = 0, where the kernel hangs over the padding). The output
// columns whose window lies inside the input row take one kern.CopyRows per kernel row of
// an output row (not a memmove per run); the columns at the edges go byte run by byte run.
func im2col(kern *armkernels.Kernels, dst []int8, lda int, in []int8, sp *model.ConvSpec, pad int8) {
	k, s, p, cin, h, ho := sp.K, sp.S, sp.P, sp.Cin, sp.InH, sp.OutH
	run := k * cin
	in = in[:h*h*cin] // Encode may hand over a shorter slice of the same buffer
	// ox in [lo, hi): 0 <= ox·s − p and ox·s − p + k <= h.
	lo := min(ho, (p+s-1)/s)
	hi := lo
	if h-k+p >= 0 {
		hi = max(lo, min(ho, (h-k+p)/s+1))
	}
	for oy := 0; oy < ho; oy++ {
		for ky := 0; ky < k; ky++ {
			iy := oy*s + ky - p
			base := oy*ho*lda + ky*run
			if iy < 0 || iy >= h {
				for ox := 0; ox < ho; ox++ {
					fill(dst[base+ox*lda:base+ox*lda+run], pad)
				}
				continue
			}
			switch {
			case hi == lo:
			case run == 12:
				// The RGB input layer (k 4, Cin 3): a fixed-size move beats a call
				// on 4 short runs per patch row.
				for ox := lo; ox < hi; ox++ {
					si := (iy*h + ox*s - p) * cin
					*(*[12]int8)(dst[base+ox*lda:]) = *(*[12]int8)(in[si:])
				}
			default:
				kern.CopyRows(dst[base+lo*lda:], lda, in[(iy*h+lo*s-p)*cin:], s*cin, hi-lo, run)
			}
			for ox := 0; ox < ho; ox++ {
				if ox == lo && hi > lo {
					ox = hi - 1 // skip the columns done above
					continue
				}
				x0 := ox*s - p
				d := dst[base+ox*lda : base+ox*lda+run]
				for kx := 0; kx < k; kx++ {
					ix := x0 + kx
					dd := d[kx*cin : (kx+1)*cin]
					if ix < 0 || ix >= h {
						fill(dd, pad)
					} else {
						copy(dd, in[(iy*h+ix)*cin:(iy*h+ix+1)*cin])
					}
				}
			}
		}
	}
}

// fill sets every byte of d to v, doubling copies after the first byte (memmove speed on the
// long padding runs).
func fill(d []int8, v int8) {
	if len(d) == 0 {
		return
	}
	d[0] = v
	for i := 1; i < len(d); i *= 2 {
		copy(d[i:], d[:i])
	}
}

// conv runs one encoder layer: int8 HWC in → int8 HWC out (or, for the last layer, the float
// embedding in CHW order).
func (r *Runner) conv(c *qconv, out, in []int8, emb []float32, last bool) {
	sp := &c.spec
	P, C := sp.OutH*sp.OutH, sp.Cout
	lda := c.w.Stride()
	im2col(r.k, r.patches, lda, in, sp, int8(c.inZero))
	acc := r.acc[:P*C]
	r.k.Gemm(acc, C, r.patches[:P*lda], lda, P, c.w)
	r.convEpilogue(c, out, acc, emb, last)
}

// convEpilogue turns an encoder layer's int32 GEMM result (P rows of Cout) into the next
// layer's int8 input, or for the last layer the embedding.
func (r *Runner) convEpilogue(c *qconv, out []int8, acc []int32, emb []float32, last bool) {
	sp := &c.spec
	P, C := sp.OutH*sp.OutH, sp.Cout
	mul, bias := c.mul[:C], c.ebias[:C]
	if c.mulq != nil {
		reluRequant(r.k, out[:P*C], C, acc, c.mulq, c.biasq, c.outZero)
		return
	}
	f := r.fbuf[:P*C]
	if !last {
		normAct(r.k, f, acc, P, C, mul, bias, c.g, c.b, sp.InstNorm, sp.Act, &r.norm, &quantOut{dst: out[:P*C], stride: C, inv: c.outInv, zero: c.outZero})
		return
	}
	normAct(r.k, f, acc, P, C, mul, bias, c.g, c.b, sp.InstNorm, sp.Act, &r.norm, nil)
	for i := 0; i < P; i++ {
		for j := 0; j < C; j++ {
			emb[j*P+i] = f[i*C+j]
		}
	}
}

// reluRequant writes out = q8z(max(acc·mulq + biasq, 0), 1, zero) over rows of c channels,
// with the next layer's inverse scale folded into mulq and biasq (armkernels.ReluRequant:
// vectorised where the CPU allows; foldRequant keeps the values in its range).
func reluRequant(k *armkernels.Kernels, out []int8, c int, acc []int32, mulq, biasq []float32, zero int32) {
	k.ReluRequant(out, c, acc[:len(out)], mulq, biasq, zero)
}
