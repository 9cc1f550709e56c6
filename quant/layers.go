package quant

import (
	"fmt"
	"math"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
)

// quantizeWeights quantises rows×k float weights per row (output channel), symmetric, with
// scale max|w|/127. An all-zero row gets scale 1 so dequantisation stays finite.
func quantizeWeights(w []float32, rows, k int) (q []int8, scale []float32) {
	q = make([]int8, rows*k)
	scale = make([]float32, rows)
	for j := 0; j < rows; j++ {
		row := w[j*k : (j+1)*k]
		var mx float32
		for _, v := range row {
			mx = max(mx, float32(math.Abs(float64(v))))
		}
		s := mx / 127
		if s == 0 {
			s = 1
		}
		scale[j] = s
		armkernels.Reference().QuantizeRow(q[j*k:(j+1)*k], row, 1/s) // load time: any path gives the same bits
	}
	return q, scale
}

// seg is one column range of a Linear whose input has its own activation scale: concat inputs
// such as [x, h] of the GRU mix values of very different ranges, and one scale for both would
// waste most of int8's levels on the narrower part (see doc.go).
type seg struct {
	off, n   int
	point    string // activation-scale point of the input columns
	q        []int8 // [out][n], kept for the bundle
	rowScale []float32
	w        *armkernels.Matrix
	inv      float32   // 1 / activation scale
	zero     int32     // activation zero point: x ≈ scale·(v − zero)
	mul      []float32 // activation scale · rowScale[j]
}

// qlinear is y = W·x + b with W int8 per output row and per input segment, x quantised on the fly.
type qlinear struct {
	name    string // state-dict prefix
	in, out int
	segs    []seg
	bias    []float32
	// ebias is bias minus every segment's zero-point term (scale·zero·Σ_p W[j][p]), so the
	// GEMM of the offset activations needs no correction at run time.
	ebias []float32
}

func (l *qlinear) setScales(scales map[string]float32, zeros map[string]int32) error {
	l.ebias = append(l.ebias[:0], l.bias...)
	for i := range l.segs {
		s := &l.segs[i]
		a, ok := scales[s.point]
		if !ok || !(a > 0) || math.IsInf(float64(a), 0) {
			return fmt.Errorf("%s: activation scale %q missing or not positive (%v)", l.name, s.point, a)
		}
		s.inv = 1 / a
		s.zero = zeros[s.point]
		s.mul = make([]float32, l.out)
		for j := range s.mul {
			s.mul[j] = a * s.rowScale[j]
		}
		subZeroTerm(l.ebias, s.mul, s.q, s.n, s.zero)
	}
	return nil
}

// subZeroTerm subtracts mul[j]·zero·Σ_p q[j][p] from bias[j]: with activations stored as
// v = x/scale + zero, W·x = scale·(W·v − zero·Σ W), and the second term is a per-row constant.
func subZeroTerm(bias, mul []float32, q []int8, k int, zero int32) {
	if zero == 0 {
		return
	}
	for j := range bias {
		var sum int64
		for _, w := range q[j*k : (j+1)*k] {
			sum += int64(w)
		}
		bias[j] = float32(float64(bias[j]) - float64(mul[j])*float64(zero)*float64(sum))
	}
}

// quantizeAffine writes dst[i] = clamp(round(x[i]·inv) + zero, −128, 127); NaN becomes zero.
// Symmetric points (zero 0) take k.QuantizeRow, the others k.QuantizeAffine (q8z per
// value, vectorised).
func quantizeAffine(k *armkernels.Kernels, dst []int8, x []float32, inv float32, zero int32) {
	if zero == 0 {
		k.QuantizeRow(dst, x, inv)
		return
	}
	k.QuantizeAffine(dst, x, inv, zero)
}

func (l *qlinear) pack() error {
	for i := range l.segs {
		s := &l.segs[i]
		w, err := armkernels.PackMatrix(l.out, s.n, s.q)
		if err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
		s.w = w
	}
	return nil
}

// maxStride is the widest padded segment, the size of the activation scratch it needs.
func (l *qlinear) maxStride() int {
	m := 0
	for i := range l.segs {
		m = max(m, l.segs[i].w.Stride())
	}
	return m
}

// forward computes y (out values) from x (in values). qa and acc are scratch of at least
// maxStride and out values.
func (l *qlinear) forward(k *armkernels.Kernels, y, x []float32, qa []int8, acc []int32) {
	y = y[:l.out]
	acc = acc[:l.out]
	for si := range l.segs {
		s := &l.segs[si]
		st := s.w.Stride()
		quantizeAffine(k, qa[:s.n], x[s.off:s.off+s.n], s.inv, s.zero)
		clear(qa[s.n:st])
		k.Gemm(acc, l.out, qa[:st], st, 1, s.w)
		mul := s.mul[:len(y)]
		if si == 0 {
			b := l.ebias[:len(y)]
			for j, a := range acc {
				y[j] = float32(float32(a)*mul[j]) + b[j]
			}
			continue
		}
		for j, a := range acc {
			y[j] += float32(a) * mul[j]
		}
	}
}

// newQLinear quantises a float Linear split at the given column boundaries. gram, when not
// nil, is the in×in Gram matrix of its calibration inputs: each segment's rows are then
// rounded, and their scales clipped, for the least output error on them (linearRound).
func newQLinear(name string, w *model.Tensor, b *model.Tensor, cuts []int, points []string, gram []float64) (*qlinear, error) {
	out, in := w.Shape[0], w.Shape[1]
	l := &qlinear{name: name, in: in, out: out, bias: b.Data}
	bounds := append(append([]int{0}, cuts...), in)
	if gram != nil && len(gram) != in*in {
		return nil, fmt.Errorf("%s: input Gram matrix holds %d values, want %d×%d", name, len(gram), in, in)
	}
	for i := range points {
		off, n := bounds[i], bounds[i+1]-bounds[i]
		sub := columns(w, off, n)
		q, sc := quantizeWeights(sub, out, n)
		if gram != nil {
			g := make([]float64, n*n)
			for r := 0; r < n; r++ {
				copy(g[r*n:(r+1)*n], gram[(off+r)*in+off:(off+r)*in+off+n])
			}
			if err := linearRound(q, sc, sub, n, g); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		l.segs = append(l.segs, seg{off: off, n: n, point: points[i], q: q, rowScale: sc})
	}
	return l, nil
}

// columns returns columns [off, off+n) of the [out][in] weight w, row-major.
func columns(w *model.Tensor, off, n int) []float32 {
	out, in := w.Shape[0], w.Shape[1]
	sub := make([]float32, out*n)
	for j := 0; j < out; j++ {
		copy(sub[j*n:(j+1)*n], w.Data[j*in+off:j*in+off+n])
	}
	return sub
}

// newQLinear4 is newQLinear with 4-bit weights (quantizeWeights4), rounded to nearest, each
// segment's errors weighted by sq[its point] when that holds one value per input.
func newQLinear4(name string, w *model.Tensor, b *model.Tensor, cuts []int, points []string, sq map[string][]float64) (*qlinear, error) {
	out, in := w.Shape[0], w.Shape[1]
	l := &qlinear{name: name, in: in, out: out, bias: b.Data}
	bounds := append(append([]int{0}, cuts...), in)
	for i := range points {
		off, n := bounds[i], bounds[i+1]-bounds[i]
		sub := columns(w, off, n)
		// Each input weighs its calibration mean square plus the mean over the segment's
		// inputs: the error an input's rounding causes grows with its energy, but the
		// calibration episodes do not see every input the model will. On the trained rssmo-m
		// (TestTrainedInt4Accuracy): unweighted, ELBO error 0.882% and deter cosine 0.99948;
		// mean squares alone 0.529% and 0.99924; plus 0.25 / 1 / 4 × their mean 0.656% /
		// 0.749% / 0.668% and 0.99943 / 0.99946 / 0.99948.
		var wt []float64
		if x := sq[points[i]]; len(x) == n {
			var mean float64
			for _, v := range x {
				mean += v / float64(n)
			}
			wt = make([]float64, n)
			for j, v := range x {
				wt[j] = v + mean
			}
		}
		q, sc := quantizeWeights4(sub, out, n, wt)
		l.segs = append(l.segs, seg{off: off, n: n, point: points[i], q: q, rowScale: sc})
	}
	return l, nil
}

// int4Clips are the clips quantizeWeights4 tries per row, as shares of max|w|: with 15
// levels, giving up a few outlying weights for a finer step usually lowers the row's error.
var int4Clips = []float64{1, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6}

// quantizeWeights4 is quantizeWeights with codes in [−7, 7]: per row, the scale
// c·max|w|/7 over int4Clips with the least squared error Σ d_i·(w_i − s·q_i)² (d nil: all 1).
func quantizeWeights4(w []float32, rows, k int, d []float64) (q []int8, scale []float32) {
	q = make([]int8, rows*k)
	scale = make([]float32, rows)
	for j := 0; j < rows; j++ {
		row := w[j*k : (j+1)*k]
		var mx float64
		for _, v := range row {
			mx = math.Max(mx, math.Abs(float64(v)))
		}
		if mx == 0 {
			scale[j] = 1
			continue
		}
		best, bestErr := mx/7, math.Inf(1)
		for _, c := range int4Clips {
			s := float32(c * mx / 7)
			var e float64
			for i, v := range row {
				r := float64(v) - float64(s)*float64(code4(v, s))
				if d != nil {
					r *= math.Sqrt(d[i])
				}
				e += r * r
			}
			if e < bestErr {
				best, bestErr = float64(s), e
			}
		}
		s := float32(best)
		scale[j] = s
		for i, v := range row {
			q[j*k+i] = code4(v, s)
		}
	}
	return q, scale
}

// code4 is the 4-bit code of v at scale s: round to nearest, clamped to [−7, 7].
func code4(v, s float32) int8 {
	return int8(min(max(math.Round(float64(v)/float64(s)), -7), 7))
}

// linearRound is deconvRound for one scale per row: q, sc (max|w|/127 per row, overwritten
// with the chosen clip) for the rows of w (n columns) on inputs of Gram matrix gram.
func linearRound(q []int8, sc []float32, w []float32, n int, gram []float64) error {
	rd, err := newRounder(gram, n)
	if err != nil {
		return err
	}
	work, d := make([]float64, n), make([]float64, n)
	tmp := make([]int8, n)
	for r := range sc {
		row := w[r*n : (r+1)*n]
		best, bestErr := float64(sc[r]), math.Inf(1)
		for _, c := range deconvClips {
			s := float64(sc[r]) * c
			rd.round(tmp, row, s, work)
			if e := rowError(row, tmp, s, gram, d); e < bestErr {
				best, bestErr = s, e
			}
		}
		sc[r] = float32(best)
		rd.round(q[r*n:(r+1)*n], row, best, work)
	}
	return nil
}

// qconv is an encoder conv as a GEMM over im2col patches of an int8 HWC input. Weight rows are
// reordered to [Cout][ky][kx][Cin] so a patch row is k runs of k·Cin contiguous input bytes.
type qconv struct {
	spec     model.ConvSpec
	q        []int8 // [Cout][K·K·Cin]
	rowScale []float32
	w        *armkernels.Matrix
	bias     []float32
	g, b     []float32 // affine InstanceNorm, nil if none
	inPoint  string
	inScale  float32
	inZero   int32     // input zero point; also the im2col padding value (x = 0)
	ebias    []float32 // bias with the input zero-point term taken out (subZeroTerm)
	mul      []float32
	outInv   float32 // 1/scale of the next layer's input; 0 for the last layer
	outZero  int32   // zero point of the next layer's input
	// mulq, biasq fold outInv into mul and bias for the fused ReLU requantisation; nil when
	// the layer's epilogue is not a plain ReLU into another int8 layer.
	mulq, biasq []float32
	// slide is the weight matrix with columns reordered [kx][ky][Cin] for the first layer's
	// sliding form (Runner.encodeSlide); nil for other layers or shapes it does not fit.
	slide *armkernels.Matrix
}

// newSlide packs c's weights for the sliding form of an image-input conv (Runner.encodeSlide).
// The input is stacked in units of S adjacent pixels: unit (oy, u) holds, for each kernel row
// ky, the S·Cin bytes of input row S·oy+ky at columns S·u .. S·u+S−1. The patch of output
// (oy, ox) is then the K/S units from (oy, ox): K·K·Cin contiguous bytes, and consecutive
// outputs are one unit apart, so a GEMM with overlapping rows replaces im2col. Weight columns
// are reordered to [kx/S][ky][kx%S][Cin] to match. Returns nil when the shape does not allow
// it (padding, K or the width not a multiple of S, a padded K).
func newSlide(c *qconv) (*armkernels.Matrix, error) {
	sp := &c.spec
	k, s, cin := sp.K, sp.S, sp.Cin
	kk := k * k * cin
	if sp.P != 0 || sp.Transposed || k%s != 0 || sp.InH%s != 0 || sp.InH/s < sp.OutH || kk%8 != 0 {
		return nil, nil
	}
	q := make([]int8, sp.Cout*kk)
	for co := 0; co < sp.Cout; co++ {
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				d := co*kk + ((kx/s*k+ky)*s+kx%s)*cin
				copy(q[d:d+cin], c.q[co*kk+(ky*k+kx)*cin:co*kk+(ky*k+kx+1)*cin])
			}
		}
	}
	w, err := armkernels.PackMatrix(sp.Cout, kk, q)
	if err != nil {
		return nil, fmt.Errorf("%s sliding form: %w", sp.Prefix, err)
	}
	if w.Stride() != kk {
		return nil, nil
	}
	return w, nil
}

func newQConv(spec model.ConvSpec, w, b *model.Tensor, point string) *qconv {
	k, cin, cout := spec.K, spec.Cin, spec.Cout
	kk := k * k * cin
	re := make([]float32, cout*kk)
	for co := 0; co < cout; co++ {
		for ci := 0; ci < cin; ci++ {
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					re[co*kk+(ky*k+kx)*cin+ci] = w.Data[((co*cin+ci)*k+ky)*k+kx]
				}
			}
		}
	}
	q, sc := quantizeWeights(re, cout, kk)
	return &qconv{spec: spec, q: q, rowScale: sc, bias: b.Data, inPoint: point}
}

// qdeconv is a transposed conv as a GEMM over input pixels: rows [ky][kx][Cout] × Cin, then an
// exact int32 col2im scatter; all the rows that sum into one output value share a weight
// scale, so the scatter can sum in int32 and dequantise once per output value.
type qdeconv struct {
	spec model.ConvSpec
	q    []int8 // [K·K·Cout][Cin]
	// rowScale holds Cout weight scales (one per output channel) or S·S·Cout, one per
	// (ky mod S, kx mod S, output channel): output pixel (oy, ox) only receives taps with
	// ky ≡ oy+P and kx ≡ ox+P (mod S), so each of its sums stays within one scale, and a
	// scale over a quarter of the taps (S = 2) is finer (phaseScalable layers only).
	rowScale []float32
	w        *armkernels.Matrix
	bias     []float32
	inPoint  string
	inScale  float32
	inZero   int32
	// zinit starts the int32 scatter target (HWC, OutH² × Cout) at minus the input
	// zero-point term, which depends on how many kernel taps reach each output position;
	// nil when the input is symmetric.
	zinit   []int32
	mul     []float32 // activation scale · rowScale
	outInv  float32
	outZero int32
	mulq    []float32 // as qconv
	biasq   []float32
	// With phase scales (len(rowScale) > Cout): rowMulq and rowBiasq hold, for output rows of
	// phase py = (oy+P) mod S, the S·Cout multipliers and biases of S consecutive pixels
	// from column 0 (at [py·S·Cout, (py+1)·S·Cout)), so a row requantises in runs of S
	// pixels; mulq and biasq are then nil.
	rowMulq, rowBiasq []float32
	// ph is the scatter-free form of the layer (phaseSplit); nil where it does not apply or
	// does not pay.
	ph *phaseSplit
}

// phaseSplit is a stride-S transposed conv with K = T·S rewritten as one correlation: without
// padding, output pixel (S·a+py, S·b+px) receives only the taps (py+S·t, px+S·u), from input
// pixel (a−t, b−u). Every output phase (py, px) thus reads the same T×T window of the input
// (padded by T−1 with the zero-point code), and one GEMM over the windows × rows
// [py][px][Cout] writes each output once: no col2im scatter (for the walker's last layer that
// was ~5,400 runs of 18 values). Padding P crops P pixels from each side of that unpadded
// output (the dreamer_resnet decoder's k4 s2 p1 layers): output (oy, ox) is unpadded pixel
// (oy+P, ox+P), so the GEMM is the same and only the runs at the borders are clipped.
type phaseSplit struct {
	t    int // sub-kernel side T = K/S
	side int // phase grid side h+T−1 = OutH/S
	q    []int8
	w    *armkernels.Matrix // rows [py][px][Cout]; columns [c][r][Cin], window row r = T−1−t, column c = T−1−u
	// zcorr is −zero·Σ_p W[row][p]: padding and inputs all carry the zero point, so the
	// correction is one constant per row (zeros when the input is symmetric).
	zcorr []int32
	// mul holds the multipliers of output phase (py, px) at [(py·S+px)·Cout, …+Cout), so
	// the S·Cout values from py·S·Cout are those of one output run as phaseRows visits it;
	// bias repeats the biases over the S pixels of a run.
	mul, bias []float32
}

// phaseSplitMaxRun bounds the scatter run (K·Cout int32 values) below which the phase split
// pays: it removes the scatter but computes T² window taps for every phase position (padding
// included) and, for the walker's last layer, fills 12 of 16 GEMM lanes. Measured on the
// walker decoder (AVX-512 VNNI): last layer (runs of 18) split, decode 244 → 223 µs; the
// middle layer (runs of 192: a cheap scatter) would need ~50% more VNNI work than it saves.
const phaseSplitMaxRun = 64

// newPhaseSplit returns the phase form of d, or nil when the layer is not a transposed conv
// with K a multiple of S (and PyTorch's output size), or its scatter runs are long enough to be
// cheap.
func newPhaseSplit(d *qdeconv) (*phaseSplit, error) {
	sp := &d.spec
	k, s, c, cin := sp.K, sp.S, sp.Cout, sp.Cin
	if !sp.Transposed || sp.P < 0 || s < 2 || k%s != 0 || k*c > phaseSplitMaxRun || sp.OutH != s*(sp.InH-1+k/s)-2*sp.P || sp.OutH < 1 {
		return nil, nil
	}
	t := k / s
	rows, kk := s*s*c, t*t*cin
	q := make([]int8, rows*kk)
	for py := 0; py < s; py++ {
		for px := 0; px < s; px++ {
			for co := 0; co < c; co++ {
				row := q[((py*s+px)*c+co)*kk:]
				for r := 0; r < t; r++ {
					for cc := 0; cc < t; cc++ {
						ky, kx := py+s*(t-1-r), px+s*(t-1-cc)
						copy(row[(cc*t+r)*cin:(cc*t+r+1)*cin], d.q[((ky*k+kx)*c+co)*cin:((ky*k+kx)*c+co+1)*cin])
					}
				}
			}
		}
	}
	w, err := armkernels.PackMatrix(rows, kk, q)
	if err != nil {
		return nil, fmt.Errorf("%s phase split: %w", sp.Prefix, err)
	}
	if w.Stride() != kk {
		return nil, nil // the sliding GEMM needs unpadded rows (armkernels.Gemm)
	}
	ph := &phaseSplit{t: t, side: sp.InH - 1 + t, q: q, w: w}
	for py := range s {
		for px := range s {
			ph.mul = append(ph.mul, d.phaseMul(py, px)...)
		}
	}
	for range s {
		ph.bias = append(ph.bias, d.bias...)
	}
	ph.zcorr = make([]int32, rows)
	for j, sum := range w.RowSums() {
		ph.zcorr[j] = -d.inZero * sum
	}
	return ph, nil
}

// phaseMul returns the Cout multipliers of the output pixels of phase (py, px), py =
// (oy+P) mod S and px = (ox+P) mod S.
func (d *qdeconv) phaseMul(py, px int) []float32 {
	c := d.spec.Cout
	if len(d.mul) == c {
		return d.mul
	}
	g := (py*d.spec.S + px) * c
	return d.mul[g : g+c]
}

// zeroTermInit returns −Σ zero·Σ_ci W[row][ci] scattered exactly as the runner scatters the
// GEMM rows, so starting the scatter from it cancels the zero point of every input pixel.
func (d *qdeconv) zeroTermInit() []int32 {
	sp := &d.spec
	if d.inZero == 0 {
		return nil
	}
	h, ho, k, s, p, C, cin := sp.InH, sp.OutH, sp.K, sp.S, sp.P, sp.Cout, sp.Cin
	src := make([]int32, k*k*C)
	for r := range src {
		var sum int32
		for _, w := range d.q[r*cin : (r+1)*cin] {
			sum += int32(w)
		}
		src[r] = -d.inZero * sum
	}
	out := make([]int32, ho*ho*C)
	for iy := 0; iy < h; iy++ {
		for ix := 0; ix < h; ix++ {
			scatterPixel(armkernels.Reference(), out, src, iy, ix, ho, k, s, p, C)
		}
	}
	return out
}

// scatterPixel adds the K·K·C GEMM row block src of input pixel (iy, ix) into the HWC output
// of a transposed conv (stride s, padding p, ho×ho outputs).
func scatterPixel(kern *armkernels.Kernels, io, src []int32, iy, ix, ho, k, s, p, C int) {
	x0, y0 := ix*s-p, iy*s-p
	kx0, kx1 := max(0, -x0), min(k, ho-x0)
	ky0, ky1 := max(0, -y0), min(k, ho-y0)
	if kx0 >= kx1 || ky0 >= ky1 {
		return
	}
	// One call for all kernel rows: output rows are ho·C apart, GEMM rows k·C.
	kern.AddInt32Rows(io[((y0+ky0)*ho+x0+kx0)*C:], ho*C, src[(ky0*k+kx0)*C:], k*C, ky1-ky0, (kx1-kx0)*C)
}

// newQDeconv quantises a transposed conv with one scale per output channel over all of its
// (ci, ky, kx) weights. gram, when not nil, is the Cin×Cin Gram matrix of the layer's
// calibration inputs: each row's weights are then rounded for the least output error on them
// (rounder), each scale is the clip, from max|w| down, that gives its rows the least output
// error, and where the layer's epilogue allows it (phaseScalable) each output channel gets
// one scale per weight phase (ky mod S, kx mod S) instead of one.
func newQDeconv(spec model.ConvSpec, w, b *model.Tensor, point string, gram []float64) (*qdeconv, error) {
	k, s, cin, cout := spec.K, spec.S, spec.Cin, spec.Cout
	rows := k * k * cout
	// Rows [ky][kx][Cout] × Cin in float, as the kernel takes them.
	re := make([]float32, rows*cin)
	for ci := 0; ci < cin; ci++ {
		for co := 0; co < cout; co++ {
			for t := 0; t < k*k; t++ {
				re[(t*cout+co)*cin+ci] = w.Data[(ci*cout+co)*k*k+t]
			}
		}
	}
	// group[r] is row r's scale: its output channel, or its (phase, channel).
	nScale := cout
	group := make([]int, rows)
	phased := gram != nil && phaseScalable(&spec)
	if phased {
		nScale = s * s * cout
	}
	for r := range group {
		t, co := r/cout, r%cout
		if phased {
			group[r] = ((t/k%s)*s+t%k%s)*cout + co
		} else {
			group[r] = co
		}
	}
	sc := make([]float32, nScale)
	for r, g := range group {
		for _, v := range re[r*cin : (r+1)*cin] {
			sc[g] = max(sc[g], float32(math.Abs(float64(v))))
		}
	}
	for g := range sc {
		sc[g] /= 127
		if sc[g] == 0 {
			sc[g] = 1
		}
	}
	q := make([]int8, rows*cin)
	if gram != nil {
		if err := deconvRound(q, sc, re, cin, group, gram); err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Prefix, err)
		}
	} else {
		for r := 0; r < rows; r++ {
			// load time: any path gives the same bits
			armkernels.Reference().QuantizeRow(q[r*cin:(r+1)*cin], re[r*cin:(r+1)*cin], 1/sc[group[r]])
		}
	}
	return &qdeconv{spec: spec, q: q, rowScale: sc, bias: b.Data, inPoint: point}, nil
}

// phaseScalable reports whether a transposed conv's epilogue can take a weight scale per
// (phase, output channel) (see qdeconv.rowScale): a stride of 2 or more, and no InstanceNorm
// (its statistics run on the per-channel multipliers); either a ReLU into another int8 layer
// (ReLU requantisation) or no activation (the image layer).
func phaseScalable(sp *model.ConvSpec) bool {
	return sp.Transposed && sp.S >= 2 && !sp.InstNorm && (sp.Act == "relu" || sp.Act == "")
}

// deconvClips are the clips tried per scale, as shares of max|w|: error feedback makes a
// narrower clip pay where a few outlying weights set the max.
var deconvClips = []float64{1, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7}

// deconvRound fills q (rows × cin) with output-aware rounding of re on inputs of Gram
// matrix gram, row r at scale sc[group[r]], choosing each scale from deconvClips·sc (sc
// holds max|w|/127 per group, overwritten with the choice).
func deconvRound(q []int8, sc []float32, re []float32, cin int, group []int, gram []float64) error {
	rd, err := newRounder(gram, cin)
	if err != nil {
		return err
	}
	work, d := make([]float64, cin), make([]float64, cin)
	tmp := make([]int8, cin)
	members := make([][]int, len(sc))
	for r, g := range group {
		members[g] = append(members[g], r)
	}
	for g, rs := range members {
		best, bestErr := float64(sc[g]), math.Inf(1)
		for _, c := range deconvClips {
			s := float64(sc[g]) * c
			var e float64
			for _, r := range rs {
				row := re[r*cin : (r+1)*cin]
				rd.round(tmp, row, s, work)
				refineRow(tmp, row, s, gram, work, d)
				e += rowError(row, tmp, s, gram, d)
			}
			if e < bestErr {
				best, bestErr = s, e
			}
		}
		sc[g] = float32(best)
		for _, r := range rs {
			row := re[r*cin : (r+1)*cin]
			rd.round(q[r*cin:(r+1)*cin], row, best, work)
			refineRow(q[r*cin:(r+1)*cin], row, best, gram, work, d)
		}
	}
	return nil
}
