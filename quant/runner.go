package quant

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
)

func packRows(name string, rows, k int, q []int8) (*armkernels.Matrix, error) {
	w, err := armkernels.PackMatrix(rows, k, q)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", name, err)
	}
	return w, nil
}

// roundMagic is 1.5·2²³: adding and subtracting it rounds a float32 below 2²² in magnitude to
// the nearest integer, ties to even (as armkernels.QuantizeRow does).
const roundMagic = 12582912

// q8 quantises v·inv to int8 in [-127, 127]; NaN becomes 0.
func q8(v, inv float32) int8 {
	v = float32(v * inv)
	switch {
	case v >= 127:
		return 127
	case v <= -127:
		return -127
	case v != v:
		return 0
	}
	return int8(float32(v+roundMagic) - roundMagic)
}

// q8z quantises v to the affine int8 code clamp(round(v·inv) + zero, −128, 127); NaN becomes
// zero (the code of 0).
func q8z(v, inv float32, zero int32) int8 {
	v = float32(v*inv) + float32(zero)
	switch {
	case v >= 127:
		return 127
	case v <= -128:
		return -128
	case v != v:
		return int8(zero)
	}
	return int8(float32(v+roundMagic) - roundMagic)
}

// Runner evaluates a Model with its own scratch space and kernels. It is not safe for
// concurrent use; create one per goroutine. After NewRunner no method allocates.
type Runner struct {
	m *Model
	k *armkernels.Kernels

	lut     [256]int8 // image byte → int8 encoder input
	lutXor  bool      // lut[p] == p − 128 (p XOR 0x80), as for cnn_ha: SWAR in encodeSlide
	qa      []int8    // int8 activations (HWC, rows padded to the next layer's stride)
	qb      []int8
	patches []int8
	stk     map[string][]int8 // per phase-split layer: its stacked input, padding prefilled
	acc     []int32
	iout    []int32 // transposed-conv scatter target
	fbuf    []float32
	stats   []float64

	emb     []float32
	preIn   []float32
	gruIn   []float32 // [x, h]
	gates   []float32
	hidden  []float32
	postIn  []float32 // [h', emb]
	headOut []float32
	feature []float32
	mlpA    []float32
	mlpB    []float32
	decoded []float32 // HWC decoder mean
	ebuf    []float32 // exponentials of the gates and SiLUs (armkernels.Exp, vectorised)
}

var _ model.Stepper = (*Runner)(nil)

// NewRunner allocates the scratch space for one goroutine. k selects the kernels; nil means
// armkernels.Default().
func (m *Model) NewRunner(k *armkernels.Kernels) *Runner {
	if k == nil {
		k = armkernels.Default()
	}
	a := m.Arch
	r := &Runner{m: m, k: k}
	var maxQ, maxP, maxAcc, maxI, maxF, maxC int
	stks := map[string][]int8{}
	maxQ = model.ImageValues
	for _, c := range m.enc {
		sp := c.spec
		P := sp.OutH * sp.OutH
		maxQ = max(maxQ, P*sp.Cout)
		maxP = max(maxP, P*c.w.Stride(), sp.OutH*sp.InH*sp.K*sp.Cin+8)
		maxAcc = max(maxAcc, sp.OutH*(sp.InH/sp.S)*sp.Cout)
		maxAcc = max(maxAcc, P*sp.Cout)
		maxF = max(maxF, P*sp.Cout)
		maxC = max(maxC, sp.Cout)
	}
	for _, d := range m.dec {
		sp := d.spec
		P := sp.InH * sp.InH
		maxQ = max(maxQ, P*d.w.Stride())
		maxAcc = max(maxAcc, P*d.w.Rows)
		maxI = max(maxI, sp.OutH*sp.OutH*sp.Cout)
		if ph := d.ph; ph != nil {
			hp := sp.InH + 2*(ph.t-1)
			stk := make([]int8, ph.side*hp*ph.t*sp.Cin)
			fill(stk, int8(d.inZero))
			stks[sp.Prefix] = stk
			maxAcc = max(maxAcc, ph.side*hp*ph.w.Rows)
		}
		maxF = max(maxF, sp.OutH*sp.OutH*sp.Cout)
		maxC = max(maxC, sp.Cout)
	}
	for _, l := range m.linears() {
		maxP = max(maxP, l.maxStride())
		maxAcc = max(maxAcc, l.out)
		maxF = max(maxF, l.out)
	}
	maxHead := 1
	for _, h := range a.Heads {
		maxHead = max(maxHead, h.Width, h.Out)
	}
	out := 2 * a.Stoch
	if a.Discrete {
		out = a.Stoch
	}
	r.qa, r.qb = make([]int8, maxQ), make([]int8, maxQ)
	r.patches = make([]int8, maxP)
	r.stk = stks
	r.acc = make([]int32, maxAcc)
	r.iout = make([]int32, maxI)
	r.fbuf = make([]float32, maxF)
	r.stats = make([]float64, 2*maxC)
	r.emb = make([]float32, a.EmbDim)
	r.preIn = make([]float32, a.Stoch+a.ActionDim)
	r.gruIn = make([]float32, a.Hidden+a.Deter)
	r.gates = make([]float32, 3*a.Deter)
	r.hidden = make([]float32, a.Hidden)
	r.postIn = make([]float32, a.Deter+a.EmbDim)
	r.headOut = make([]float32, out)
	r.feature = make([]float32, a.FeatureDim())
	r.mlpA, r.mlpB = make([]float32, maxHead), make([]float32, maxHead)
	r.ebuf = make([]float32, max(3*a.Deter, a.Hidden))
	r.decoded = make([]float32, model.ImageValues)
	inv, zero := 1/imageScale(a), imageZero(a)
	for p := range r.lut {
		v := float32(p) / 255
		if a.Encoder == model.VisualDreamerResnet {
			v -= 0.5
		}
		r.lut[p] = q8z(v, inv, zero)
	}
	r.lutXor = true
	for p, v := range r.lut {
		r.lutXor = r.lutXor && v == int8(p^0x80)
	}
	return r
}

// Model returns the model the runner evaluates.
func (r *Runner) Model() *Model { return r.m }

// Kernels returns the kernels the runner uses.
func (r *Runner) Kernels() *armkernels.Kernels { return r.k }

// Arch returns the model's architecture.
func (r *Runner) Arch() *model.Arch { return r.m.Arch }

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
		stackRGB(stk, image, w, ho)
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
// kernel row (pad, the code of x = 0, where the kernel hangs over the padding).
func im2col(dst []int8, lda int, in []int8, sp *model.ConvSpec, pad int8) {
	k, s, p, cin, h, ho := sp.K, sp.S, sp.P, sp.Cin, sp.InH, sp.OutH
	run := k * cin
	for oy := 0; oy < ho; oy++ {
		for ox := 0; ox < ho; ox++ {
			row := dst[(oy*ho+ox)*lda : (oy*ho+ox)*lda+k*run]
			x0 := ox*s - p
			for ky := 0; ky < k; ky++ {
				iy := oy*s + ky - p
				d := row[ky*run : (ky+1)*run]
				if iy < 0 || iy >= h {
					fill(d, pad)
					continue
				}
				if x0 >= 0 && x0+k <= h {
					src := in[(iy*h+x0)*cin : (iy*h+x0+k)*cin]
					if run == 12 {
						// The RGB input layer (k 4, Cin 3): a fixed-size move beats
						// memmove's call overhead on 4 short runs per patch row.
						*(*[12]int8)(d) = *(*[12]int8)(src)
						continue
					}
					copy(d, src)
					continue
				}
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
	im2col(r.patches, lda, in, sp, int8(c.inZero))
	acc := r.acc[:P*C]
	r.k.Gemm(acc, C, r.patches[:P*lda], lda, P, c.w)
	r.convEpilogue(c, out, acc, emb, last)
}

// stackRGB is encodeSlide's stacking for the cnn_ha first layer (K 4, S 2, RGB, LUT p − 128):
// a unit is 4 rows × 6 bytes, each moved as one 8-byte word with the sign bits flipped. The
// two bytes a word spills past its row are overwritten by the next row's word (or the next
// unit's first); the slack after the last unit takes the final spill.
func stackRGB(stk []int8, image []uint8, w, ho int) {
	const flip = 0x8080808080808080
	rowLen, per := 3*w, w/2
	for oy := 0; oy < ho; oy++ {
		src := image[2*oy*rowLen : (2*oy+4)*rowLen]
		dst := stk[oy*per*24 : (oy+1)*per*24+8]
		for u := 0; u < per; u++ {
			d := dst[24*u : 24*u+32]
			for ky := 0; ky < 4; ky++ {
				o := ky*rowLen + 6*u
				var v uint64
				if o+8 <= len(src) {
					v = binary.LittleEndian.Uint64(src[o:]) ^ flip
				} else { // the image's last pixel: no 2 bytes to read past it
					for i, p := range src[o : o+6] {
						v |= uint64(p^0x80) << (8 * i)
					}
				}
				q := (*[8]int8)(d[6*ky:])
				q[0], q[1], q[2], q[3] = int8(v), int8(v>>8), int8(v>>16), int8(v>>24)
				q[4], q[5], q[6], q[7] = int8(v>>32), int8(v>>40), int8(v>>48), int8(v>>56)
			}
		}
	}
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
	for i := 0; i < P; i++ {
		a := acc[i*C : (i+1)*C]
		d := f[i*C : (i+1)*C]
		for j, v := range a {
			d[j] = float32(float32(v)*mul[j]) + bias[j]
		}
	}
	if sp.InstNorm {
		instanceNormHWC(f, P, C, c.g, c.b, r.stats)
	}
	model.Activate(f, sp.Act)
	if last {
		for i := 0; i < P; i++ {
			for j := 0; j < C; j++ {
				emb[j*P+i] = f[i*C+j]
			}
		}
		return
	}
	o := out[:P*C]
	for i, v := range f {
		o[i] = q8z(v, c.outInv, c.outZero)
	}
}

// reluRequant writes out = q8z(max(acc·mulq + biasq, 0), 1, zero) over rows of c channels,
// with the next layer's inverse scale folded into mulq and biasq (armkernels.ReluRequant:
// vectorised where the CPU allows; foldRequant keeps the values in its range).
func reluRequant(k *armkernels.Kernels, out []int8, c int, acc []int32, mulq, biasq []float32, zero int32) {
	k.ReluRequant(out, c, acc[:len(out)], mulq, biasq, zero)
}

// instanceNormHWC normalises each of c channels of an HWC plane of n pixels (biased
// variance, eps 1e-5, statistics in float64 as model.InstanceNorm); g, b nil = no affine.
func instanceNormHWC(x []float32, n, c int, g, b []float32, stats []float64) {
	mean, vr := stats[:c], stats[c:2*c]
	clear(mean)
	clear(vr)
	for i := 0; i < n; i++ {
		for j, v := range x[i*c : (i+1)*c] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for j, v := range x[i*c : (i+1)*c] {
			d := float64(v) - mean[j]
			vr[j] += d * d
		}
	}
	for j := range vr {
		vr[j] = 1 / math.Sqrt(vr[j]/float64(n)+1e-5) // now the inverse std
	}
	for i := 0; i < n; i++ {
		row := x[i*c : (i+1)*c]
		for j, v := range row {
			y := float32((float64(v) - mean[j]) * vr[j])
			if g != nil {
				y = y*g[j] + b[j]
			}
			row[j] = y
		}
	}
}

// transition runs pre_memory (float) and the LNGRUCell with an int8 GEMM and float gating,
// writing h' into s.Deter.
func (r *Runner) transition(s *model.State, action []float32) {
	m, a := r.m, r.m.Arch
	copy(r.preIn, s.Stoch)
	copy(r.preIn[a.Stoch:], action)
	x := r.gruIn[:a.Hidden]
	m.preMem.Forward(x, r.preIn)
	layerNorm(x, x, m.preMemLN.G, m.preMemLN.B)
	siluExp(r.k, x, r.ebuf)
	copy(r.gruIn[a.Hidden:], s.Deter)
	m.gru.forward(r.k, r.gates, r.gruIn, r.patches, r.acc)
	layerNorm(r.gates, r.gates, m.gruLN.G, m.gruLN.B)
	H := a.Deter
	g := r.gates[:3*H]
	d := s.Deter[:H]
	// z = σ(g_z), r = σ(g_r), c = tanh(r·g_c) = 1 − 2/(e^{2r·g_c} + 1), with the
	// exponentials in two vectorised passes.
	e := r.ebuf[:3*H]
	for i, v := range g[:2*H] {
		e[i] = -v
	}
	r.k.Exp(e[:2*H], e[:2*H])
	for i := range d {
		e[2*H+i] = 2 * (1 / (1 + e[H+i])) * g[2*H+i]
	}
	r.k.Exp(e[2*H:], e[2*H:])
	for i := range d {
		z := 1 / (1 + e[i])
		c := 1 - 2/(e[2*H+i]+1)
		d[i] = (1-z)*c + z*d[i]
	}
}

// siluExp applies x·σ(x) in place, the exponentials vectorised into tmp (len(x) values).
func siluExp(k *armkernels.Kernels, x, tmp []float32) {
	tmp = tmp[:len(x)]
	for i, v := range x {
		tmp[i] = -v
	}
	k.Exp(tmp, tmp)
	for i, v := range x {
		x[i] = v / (1 + tmp[i])
	}
}

func (r *Runner) runMLP1(n *qmlp1, in []float32) []float32 {
	n.in.forward(r.k, r.hidden, in, r.patches, r.acc)
	layerNorm(r.hidden, r.hidden, n.norm.G, n.norm.B)
	siluExp(r.k, r.hidden, r.ebuf)
	n.head.forward(r.k, r.headOut, r.hidden, r.patches, r.acc)
	return r.headOut
}

func (r *Runner) gaussian(out, mean, std []float32) {
	S := r.m.Arch.Stoch
	copy(mean, out[:S])
	for i := 0; i < S; i++ {
		std[i] = 2*sigmoid32(out[S+i]/2) + r.m.Arch.MinStd
	}
}

// PosteriorStep is one filtering step (spec §3.2), as model.Runner.PosteriorStep.
func (r *Runner) PosteriorStep(s *model.State, action []float32, image []uint8, isFirst bool, out *model.StepOutput, noise model.Noise) error {
	a := r.m.Arch
	if err := a.CheckAction(action); err != nil {
		return err
	}
	if err := checkState(a, s); err != nil {
		return err
	}
	if isFirst {
		s.Reset()
	}
	if err := r.Encode(r.emb, image); err != nil {
		return err
	}
	r.transition(s, action)
	prior := r.runMLP1(&r.m.prior, s.Deter)
	if a.Discrete {
		copy(out.PriorLogits, prior)
	} else {
		r.gaussian(prior, out.PriorMean, out.PriorStd)
	}
	copy(r.postIn, s.Deter)
	copy(r.postIn[a.Deter:], r.emb)
	post := r.runMLP1(&r.m.post, r.postIn)
	if a.Discrete {
		copy(out.PosteriorLogits, post)
		out.KL = model.DiscreteKL(out.PosteriorLogits, out.PriorLogits, a.Groups, a.Classes)
		model.SampleDiscrete(s.Stoch, out.PosteriorLogits, a.Groups, a.Classes, noise)
		return nil
	}
	r.gaussian(post, out.PosteriorMean, out.PosteriorStd)
	var kl float64
	for i := range out.PosteriorMean {
		kl += float64(model.GaussianKL(out.PosteriorMean[i], out.PosteriorStd[i], out.PriorMean[i], out.PriorStd[i]))
	}
	out.KL = float32(kl)
	model.SampleGaussian(s.Stoch, out.PosteriorMean, out.PosteriorStd, noise)
	return nil
}

// PriorStep is one open-loop step (spec §3.3), as model.Runner.PriorStep.
func (r *Runner) PriorStep(s *model.State, action []float32, out *model.StepOutput, noise model.Noise) error {
	a := r.m.Arch
	if err := a.CheckAction(action); err != nil {
		return err
	}
	if err := checkState(a, s); err != nil {
		return err
	}
	r.transition(s, action)
	prior := r.runMLP1(&r.m.prior, s.Deter)
	if a.Discrete {
		copy(out.PriorLogits, prior)
		model.SampleDiscrete(s.Stoch, out.PriorLogits, a.Groups, a.Classes, noise)
		return nil
	}
	r.gaussian(prior, out.PriorMean, out.PriorStd)
	model.SampleGaussian(s.Stoch, out.PriorMean, out.PriorStd, noise)
	return nil
}

func checkState(a *model.Arch, s *model.State) error {
	if len(s.Deter) != a.Deter || len(s.Stoch) != a.Stoch {
		return fmt.Errorf("state has deter %d / stoch %d values, model has %d / %d", len(s.Deter), len(s.Stoch), a.Deter, a.Stoch)
	}
	return nil
}

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
		for i := 0; i < P; i++ {
			a := io[i*C : (i+1)*C]
			o := img[i*C : (i+1)*C]
			for j, v := range a {
				f := float32(float32(v)*mul[j]) + bias[j]
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
	for i, v := range io {
		j := i % C
		f[i] = float32(float32(v)*mul[j]) + bias[j]
	}
	if sp.InstNorm {
		instanceNormHWC(f, P, C, nil, nil, r.stats)
	}
	model.Activate(f, sp.Act)
	for i := 0; i < P; i++ {
		row := o[i*st : (i+1)*st]
		for j := 0; j < C; j++ {
			row[j] = q8z(f[i*C+j], inv, d.outZero)
		}
		clear(row[C:])
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
// phaseGemm result: output row S·a+py, pixels S·b .. S·b+S−1 come from GEMM row (a, b),
// columns py·S·Cout onwards, so each run is one contiguous slice on both sides. o is the
// run's offset in the HWC output, v its GEMM values and z their zero-point corrections.
func phaseRows(d *qdeconv, acc []int32, hp int, f func(o int, v, z []int32)) {
	sp, ph := &d.spec, d.ph
	s, C, n, ho, N := sp.S, sp.Cout, ph.side, sp.OutH, ph.w.Rows
	run := s * C
	for a := 0; a < n; a++ {
		for py := 0; py < s; py++ {
			z := ph.zcorr[py*run : (py+1)*run]
			o := (s*a + py) * ho * C
			for b := 0; b < n; b++ {
				g := (a*hp+b)*N + py*run
				f(o+b*run, acc[g:g+run], z)
			}
		}
	}
}

// phaseImage writes the image (HWC float) of a phase-split last layer straight from its
// phaseGemm result, run by run as phaseRows visits them, with no int32 image in between.
func phaseImage(d *qdeconv, img []float32, acc []int32, hp int, sig bool) {
	sp, ph := &d.spec, d.ph
	s, C, n, ho, N := sp.S, sp.Cout, ph.side, sp.OutH, ph.w.Rows
	run := s * C
	pm, pb := ph.mul[:run], ph.bias[:run]
	if run == 6 && !sig {
		phaseImage6(ph, img, acc, hp, n, ho*C, N)
		return
	}
	for a := 0; a < n; a++ {
		for py := 0; py < s; py++ {
			z := ph.zcorr[py*run : (py+1)*run]
			row := img[(s*a+py)*ho*C : (s*a+py+1)*ho*C]
			for b := 0; b < n; b++ {
				g := (a*hp+b)*N + py*run
				v := acc[g : g+run]
				dst := row[b*run : (b+1)*run]
				for j := range dst {
					f := float32(float32(v[j]+z[j])*pm[j]) + pb[j]
					if sig {
						dst[j] = model.Sigmoid(f)
					} else {
						dst[j] = f + 0.5
					}
				}
			}
		}
	}
}

// phaseImage6 is phaseImage for runs of 6 values (S 2, RGB: the walker's last layer) without
// a sigmoid, on fixed-size arrays so the loop carries no bounds checks.
func phaseImage6(ph *phaseSplit, img []float32, acc []int32, hp, n, rowLen, N int) {
	pm, pb := (*[6]float32)(ph.mul), (*[6]float32)(ph.bias)
	for a := 0; a < n; a++ {
		for py := 0; py < 2; py++ {
			z := (*[6]int32)(ph.zcorr[py*6:])
			row := img[(2*a+py)*rowLen : (2*a+py+1)*rowLen]
			src := acc[a*hp*N+py*6:]
			for b := 0; b < n; b++ {
				v := (*[6]int32)(src[b*N:])
				d := (*[6]float32)(row[b*6:])
				for j := range 6 {
					d[j] = float32(float32(v[j]+z[j])*pm[j]) + pb[j] + 0.5
				}
			}
		}
	}
}

// Head evaluates non-image decoder head i (float32) on concat(deter, stoch).
func (r *Runner) Head(i int, deter, stoch []float32) []float32 {
	h := &r.m.heads[i]
	x := r.Feature(deter, stoch)
	bufs := [2][]float32{r.mlpA, r.mlpB}
	for l := range h.layers {
		y := bufs[l%2][:h.layers[l].Out]
		h.layers[l].Forward(y, x)
		if l < len(h.layers)-1 {
			if h.norms[l] != nil {
				h.norms[l].Forward(y, y)
			}
			model.Activate(y, h.arch.Activation)
		}
		x = y
	}
	if h.arch.Kind == model.HeadBinary {
		model.Activate(x, "sigmoid")
	}
	return x
}

// Evaluate computes the per-step ELBO terms, as model.Runner.Evaluate, with the int8 decoder.
func (r *Runner) Evaluate(deter, stochMean []float32, image []uint8, targets []float32, kl float32, recon []float32, out *model.Likelihood) error {
	a := r.m.Arch
	if len(image) != model.ImageValues {
		return fmt.Errorf("%w: %d bytes, want %d", model.ErrImageSize, len(image), model.ImageValues)
	}
	if len(deter) != a.Deter || len(stochMean) != a.Stoch {
		return fmt.Errorf("evaluate: deter %d / stoch %d values, model has %d / %d", len(deter), len(stochMean), a.Deter, a.Stoch)
	}
	if len(out.Heads) < len(a.Heads) {
		return fmt.Errorf("likelihood has %d head slots, model has %d heads", len(out.Heads), len(a.Heads))
	}
	var elbo float64
	if a.Decoder != "" {
		r.decode(r.decoded, r.Feature(deter, stochMean))
		var sse float64
		for i, mu := range r.decoded {
			x := float32(image[i]) / 255
			d := float64(x - mu)
			sse += d * d
		}
		if recon != nil {
			copy(recon, r.decoded)
		}
		out.Recon = float32(-0.5 * sse)
		elbo += -0.5 * sse
	}
	for i, h := range a.Heads {
		t := float32(math.NaN())
		if i < len(targets) {
			t = targets[i]
		}
		if math.IsNaN(float64(t)) {
			out.Heads[i] = t
			continue
		}
		ll := model.HeadLogLik(h, r.Head(i, deter, stochMean), t)
		out.Heads[i] = float32(ll)
		elbo += ll
	}
	out.KL = kl
	out.ELBO = float32(elbo - float64(kl))
	return nil
}
