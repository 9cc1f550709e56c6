package quant

// The decoder stage: feature → int8 transposed convolutions (scatter or phase-split) → HWC
// float32 image mean.

import (
	"errors"
	"fmt"

	"github.com/rssmd/rssmd/model"
)

// Feature writes concat(deter, stoch) into r's feature buffer and returns it.
func (r *Runner) Feature(deter, stoch []float32) []float32 {
	copy(r.feature, deter)
	copy(r.feature[len(deter):], stoch)
	return r.feature
}

// Decode writes the image decoder mean for concat(deter, stoch) into img (HWC float32 in
// [0,1] units, unclamped).
func (r *Runner) Decode(img []float32, deter, stoch []float32) error {
	if r.m.Arch.Decoder == "" {
		return errors.New("model has no image decoder")
	}
	if len(img) < model.ImageValues {
		return fmt.Errorf("%w: decode buffer holds %d values, want %d", model.ErrImageSize, len(img), model.ImageValues)
	}
	if len(deter) != r.m.Arch.Deter || len(stoch) != r.m.Arch.Stoch {
		return fmt.Errorf("decode: deter %d / stoch %d values, model has %d / %d", len(deter), len(stoch), r.m.Arch.Deter, r.m.Arch.Stoch)
	}
	r.decode(img[:model.ImageValues], r.Feature(deter, stoch))
	return nil
}

// decode runs the int8 image decoder into img (HWC).
func (r *Runner) decode(img []float32, feature []float32) {
	m := r.m
	d0 := m.dec[0]
	st := d0.w.Stride()
	var in []int8
	if m.decSeed != nil {
		// The merged seed gives the first transposed conv's output in HWC order: ReLU and
		// quantise it into the next layer's padded rows.
		sp := &d0.spec
		n, C := sp.InH*sp.InH, sp.Cin
		y := r.fbuf[:n*C]
		m.decSeed.forward(r.k, y, feature, r.patches, r.acc)
		in = r.qa[:n*st]
		inv, z := 1/d0.inScale, d0.inZero
		for p := 0; p < n; p++ {
			row := in[p*st : (p+1)*st]
			for ch, v := range y[p*C : (p+1)*C] {
				row[ch] = q8z(max(v, 0), inv, z)
			}
			clear(row[C:])
		}
	} else {
		c, side := model.DecoderSeed(m.Arch)
		n := side * side
		lin := r.fbuf[:c*n]
		m.decLin.forward(r.k, lin, feature, r.patches, r.acc)
		// CHW (PyTorch's reshape) → HWC rows padded to the first layer's stride.
		in = r.qa[:n*st]
		clear(in)
		for ch := 0; ch < c; ch++ {
			for p := 0; p < n; p++ {
				in[p*st+ch] = q8z(lin[ch*n+p], 1/d0.inScale, d0.inZero)
			}
		}
	}
	out := r.qb
	for i, d := range m.dec {
		var next *qdeconv
		if i+1 < len(m.dec) {
			next = m.dec[i+1]
		}
		r.deconv(d, next, out, in, img)
		in, out = out, in
	}
}

// deconv runs one transposed conv: GEMM over input pixels, int32 scatter, then the epilogue
// into the next layer's int8 input (rows padded to its stride) or, for the last layer, the
// image.
func (r *Runner) deconv(d *qdeconv, next *qdeconv, out, in []int8, img []float32) {
	sp := &d.spec
	h, ho, k, s, p, C := sp.InH, sp.OutH, sp.K, sp.S, sp.P, sp.Cout
	io := r.iout[:ho*ho*C]
	mul, bias := d.mul[:C], d.bias[:C]
	if d.ph != nil {
		acc, hp := r.phaseGemm(d, in)
		if next == nil {
			phaseImage(d, img, acc, hp, r.m.Arch.DecoderSigmoid)
			return
		}
		phaseRows(d, acc, hp, func(o int, v, z []int32) {
			dst := io[o : o+len(v)]
			z = z[:len(dst)]
			for j, x := range v[:len(dst)] {
				dst[j] = x + z[j]
			}
		})
	} else {
		rows := d.w.Rows
		lda := d.w.Stride()
		acc := r.acc[:h*h*rows]
		r.k.Gemm(acc, rows, in[:h*h*lda], lda, h*h, d.w)
		if d.zinit != nil {
			copy(io, d.zinit)
		} else {
			clear(io)
		}
		for iy := 0; iy < h; iy++ {
			for ix := 0; ix < h; ix++ {
				scatterPixel(r.k, io, acc[(iy*h+ix)*rows:(iy*h+ix+1)*rows], iy, ix, ho, k, s, p, C)
			}
		}
	}
	P := ho * ho
	if next == nil {
		sig := r.m.Arch.DecoderSigmoid
		phased := len(d.mul) != C
		for i := 0; i < P; i++ {
			a := io[i*C : (i+1)*C]
			o := img[i*C : (i+1)*C]
			m := mul
			if phased {
				m = d.phaseMul((i/ho+p)%s, (i%ho+p)%s)[:C]
			}
			for j, v := range a {
				f := float32(float32(v)*m[j]) + bias[j]
				if sig {
					o[j] = model.Sigmoid(f)
				} else {
					o[j] = f + 0.5
				}
			}
		}
		return
	}
	st := next.w.Stride()
	o := out[:P*st]
	inv := d.outInv
	if d.rowMulq != nil {
		r.requantPhased(d, o, io, st)
		return
	}
	if d.mulq != nil {
		if st == C {
			reluRequant(r.k, o, C, io, d.mulq, d.biasq, d.outZero)
			return
		}
		for i := 0; i < P; i++ {
			row := o[i*st : (i+1)*st]
			reluRequant(r.k, row[:C], C, io[i*C:(i+1)*C], d.mulq, d.biasq, d.outZero)
			clear(row[C:])
		}
		return
	}
	f := r.fbuf[:P*C]
	normAct(r.k, f, io, P, C, mul, bias, nil, nil, sp.InstNorm, sp.Act, &r.norm, &quantOut{dst: o, stride: st, inv: inv, zero: d.outZero})
}

// requantPhased is the ReLU requantisation of a layer with phase scales (qdeconv.rowMulq):
// each output row in runs of S pixels, whose S·Cout multipliers repeat along the row, into
// o with pixels st bytes apart.
func (r *Runner) requantPhased(d *qdeconv, o []int8, io []int32, st int) {
	sp := &d.spec
	ho, s, p, C := sp.OutH, sp.S, sp.P, sp.Cout
	run := s * C
	full := ho / s * run // the row's whole runs; a last pixel (ho odd) starts a run
	for oy := 0; oy < ho; oy++ {
		g := (oy + p) % s * run
		pm, pb := d.rowMulq[g:g+run], d.rowBiasq[g:g+run]
		src := io[oy*ho*C : (oy+1)*ho*C]
		if st == C {
			dst := o[oy*ho*C : (oy+1)*ho*C]
			reluRequant(r.k, dst[:full], run, src[:full], pm, pb, d.outZero)
			if tail := len(dst) - full; tail > 0 {
				reluRequant(r.k, dst[full:], tail, src[full:], pm, pb, d.outZero)
			}
			continue
		}
		for ox := 0; ox < ho; ox++ {
			row := o[(oy*ho+ox)*st : (oy*ho+ox+1)*st]
			m := ox % s * C
			reluRequant(r.k, row[:C], C, src[ox*C:(ox+1)*C], pm[m:m+C], pb[m:m+C], d.outZero)
			clear(row[C:])
		}
	}
}

// phaseGemm runs a phase-split transposed conv (phaseSplit) and returns its int32 GEMM
// result: row a·hp+b (b < side; hp = InH+2(T−1)) holds output pixels (S·a+py, S·b+px), column
// (py·S+px)·Cout+co, without the zero-point correction zcorr.
//
// The input, padded by T−1 pixels of the zero-point code, is stacked so that pixel (a, x)
// holds input rows a..a+T−1 of column x (T·Cin bytes); window (a, b) is then the T·T·Cin
// contiguous bytes from (a, b), and the GEMM slides over that buffer with lda = T·Cin
// (overlapping rows) instead of copying patches.
func (r *Runner) phaseGemm(d *qdeconv, in []int8) (acc []int32, hp int) {
	sp, ph := &d.spec, d.ph
	h, cin, t, n := sp.InH, sp.Cin, ph.t, ph.side
	st := d.w.Stride() // input pixel stride, as the previous layer wrote it
	hp = h + 2*(t-1)
	lda := t * cin
	// The padding positions are never written below: NewRunner filled them once.
	stk := r.stk[d.spec.Prefix]
	for iy := 0; iy < h; iy++ {
		// Input row iy is stacked row rr of output rows a = iy+T−1−rr, from column T−1 on.
		for rr := 0; rr < t; rr++ {
			d := stk[((iy+t-1-rr)*hp+t-1)*lda+rr*cin:]
			if cin == 32 && st == 32 {
				src := in[iy*h*32 : (iy+1)*h*32]
				for ix := 0; ix < h; ix++ {
					*(*[32]int8)(d[ix*lda:]) = *(*[32]int8)(src[ix*32:])
				}
				continue
			}
			for ix := 0; ix < h; ix++ {
				copy(d[ix*lda:ix*lda+cin], in[(iy*h+ix)*st:(iy*h+ix)*st+cin])
			}
		}
	}
	N := ph.w.Rows
	m := (n-1)*hp + n
	acc = r.acc[:m*N]
	r.k.Gemm(acc, N, stk[:(m-1)*lda+ph.w.Stride()], lda, m, ph.w)
	return acc, hp
}

// phaseRows calls f(dst, v, z) for every run of S·Cout consecutive output values of a
// phaseGemm result: unpadded output row S·a+py, pixels S·b .. S·b+S−1 come from GEMM row
// (a, b), columns py·S·Cout onwards, so each run is one contiguous slice on both sides; with
// padding P it is output row S·a+py−P from pixel S·b−P, and the runs crossing the borders are
// clipped. o is the run's offset in the HWC output, v its GEMM values and z their zero-point
// corrections.
func phaseRows(d *qdeconv, acc []int32, hp int, f func(o int, v, z []int32)) {
	sp, ph := &d.spec, d.ph
	s, C, n, ho, N, p := sp.S, sp.Cout, ph.side, sp.OutH, ph.w.Rows, sp.P
	run := s * C
	for a := 0; a < n; a++ {
		for py := 0; py < s; py++ {
			oy := s*a + py - p
			if oy < 0 || oy >= ho {
				continue
			}
			z := ph.zcorr[py*run : (py+1)*run]
			for b := 0; b < n; b++ {
				ox := s*b - p
				j0, j1 := max(0, -ox)*C, min(s, ho-ox)*C
				if j0 >= j1 {
					continue
				}
				g := (a*hp+b)*N + py*run
				f((oy*ho+ox)*C+j0, acc[g+j0:g+j1], z[j0:j1])
			}
		}
	}
}

// phaseImage writes the image (HWC float) of a phase-split last layer straight from its
// phaseGemm result, run by run as phaseRows visits them, with no int32 image in between.
func phaseImage(d *qdeconv, img []float32, acc []int32, hp int, sig bool) {
	sp, ph := &d.spec, d.ph
	s, C, ho := sp.S, sp.Cout, sp.OutH
	run := s * C
	if run == 6 && !sig {
		phaseImage6(ph, img, acc, hp, ph.side, ho, ph.w.Rows, sp.P)
		return
	}
	phaseRows(d, acc, hp, func(o int, v, z []int32) {
		// Clipping drops whole pixels, so the run starts at output pixel (oy, x), which
		// is unpadded phase (py, px): its multipliers from py·run+px·C, its biases from px·C.
		oy, x := o/(ho*C), o/C%ho
		j0 := (x + sp.P) % s * C
		py := (oy + sp.P) % s
		pm, pb := ph.mul[py*run:(py+1)*run], ph.bias[:run]
		dst := img[o : o+len(v)]
		for j := range dst {
			f := float32(float32(v[j]+z[j])*pm[j0+j]) + pb[j0+j]
			if sig {
				dst[j] = model.Sigmoid(f)
			} else {
				dst[j] = f + 0.5
			}
		}
	})
}

// phaseImage6 is phaseImage for runs of 6 values (S 2, RGB: the walker's and the
// dreamer_resnet decoder's last layers) without a sigmoid, on fixed-size arrays so the loop
// carries no bounds checks; with padding p only the border runs go value by value.
func phaseImage6(ph *phaseSplit, img []float32, acc []int32, hp, n, ho, N, p int) {
	pb := (*[6]float32)(ph.bias)
	rowLen := ho * 3
	// Runs b0 ≤ b < b1 lie wholly inside the row: 0 ≤ 2b−p and 2b−p+2 ≤ ho.
	b0, b1 := (p+1)/2, (ho+p)/2
	for a := 0; a < n; a++ {
		for py := 0; py < 2; py++ {
			oy := 2*a + py - p
			if oy < 0 || oy >= ho {
				continue
			}
			z := (*[6]int32)(ph.zcorr[py*6:])
			pm := (*[6]float32)(ph.mul[py*6:])
			row := img[oy*rowLen : (oy+1)*rowLen]
			src := acc[a*hp*N+py*6:]
			for b := b0; b < b1; b++ {
				v := (*[6]int32)(src[b*N:])
				d := (*[6]float32)(row[(2*b-p)*3:])
				for j := range 6 {
					d[j] = float32(float32(v[j]+z[j])*pm[j]) + pb[j] + 0.5
				}
			}
			// The runs that cross a border (the ones further out lie wholly outside).
			for _, b := range [2]int{b0 - 1, b1} {
				if b < 0 || b >= n {
					continue
				}
				v := (*[6]int32)(src[b*N:])
				for j := range 6 {
					if x := 2*b - p + j/3; x >= 0 && x < ho {
						row[x*3+j%3] = float32(float32(v[j]+z[j])*pm[j]) + pb[j] + 0.5
					}
				}
			}
		}
	}
}
