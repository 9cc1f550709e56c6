package quant

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rssmd/rssmd/model"
)

// Activation-scale points: the places where a float activation is quantised to int8. Each has
// one per-tensor symmetric scale chosen by calibration (package calibration).
const (
	PointDeter      = "deter"        // h, wherever it feeds a quantised layer (GRU, prior, posterior, decoder)
	PointEmb        = "emb"          // the encoder output, posterior input
	PointGRUX       = "gru.x"        // SiLU(LN(pre_memory)) output, GRU input
	PointPriorHid   = "prior.hidden" // SiLU(LN(·)) of the prior MLP, its head's input
	PointPostHid    = "post.hidden"  // same for the posterior MLP
	PointStoch      = "stoch"        // the stochastic state, decoder input
	pointEncPrefix  = "enc."         // enc.i: input of encoder conv i (enc.0 is the image, fixed)
	pointDecPrefix  = "dec."         // dec.i: input of decoder transposed conv i
	scaleTensorName = "act_scale/"
	zeroTensorName  = "act_zero/"
)

// EncPoint and DecPoint name the input of encoder conv i and decoder layer i.
func EncPoint(i int) string { return pointEncPrefix + strconv.Itoa(i) }

// DecPoint names the input of decoder transposed conv i.
func DecPoint(i int) string { return pointDecPrefix + strconv.Itoa(i) }

// Points lists the activation points calibration must give a scale for (the image input is
// fixed by its known range and is not listed).
func Points(a *model.Arch) []string {
	p := []string{PointDeter, PointEmb, PointGRUX, PointPriorHid, PointPostHid}
	for i := 1; i < len(model.EncoderLayers(a)); i++ {
		p = append(p, EncPoint(i))
	}
	if a.Decoder != "" {
		p = append(p, PointStoch)
		for i := range model.DecoderLayers(a) {
			if i == 0 && SeedMerged(a) {
				continue // folded into the seed Linear: no activation between them
			}
			p = append(p, DecPoint(i))
		}
	}
	return p
}

// SeedName is the state-dict-style name of the merged decoder seed layer (SeedMerged).
const SeedName = "decoders.image.seed"

// SeedMerged reports whether the image decoder's Linear and its first transposed conv are
// one int8 Linear. The cnn_ha decoder reshapes the Linear's output to C×1×1 with no activation
// before a stride-2 transposed conv: on a 1×1 input that conv is itself a Linear (C → K·K·C'),
// so the two compose into one Linear (542 → 3200 for walker) with under half the MACs and
// weight bytes (1.7 M against 3.9 M) and one quantisation step fewer.
func SeedMerged(a *model.Arch) bool {
	if a.Decoder == "" {
		return false
	}
	_, side := model.DecoderSeed(a)
	ls := model.DecoderLayers(a)
	return side == 1 && len(ls) >= 2 && ls[0].InH == 1 && ls[0].P == 0 && !ls[0].InstNorm && ls[0].Act == "relu"
}

// imageScale and imageZero quantise the encoder's input, whose range is known exactly, so no
// calibration is needed. cnn_ha's [0,1] pixels p/255 are stored as v = p − 128 (scale 1/255,
// zero −128): every byte value exactly, where a symmetric [0,1] scale (1/127) halves the
// resolution and was a measurable share of the encoder's error. dreamer_resnet's
// [-0.5,0.5] would need a half-integer zero point, so it stays symmetric.
func imageScale(a *model.Arch) float32 {
	if a.Encoder == model.VisualDreamerResnet {
		return 0.5 / 127
	}
	return 1.0 / 255
}

func imageZero(a *model.Arch) int32 {
	if a.Encoder == model.VisualDreamerResnet {
		return 0
	}
	return -128
}

// ZeroPointOK reports whether point p may have a calibrated zero point (asymmetric range):
// every point but the image input, whose coding is fixed.
func ZeroPointOK(p string) bool { return p != EncPoint(0) }

// Model is an int8 RSSMO world model: packed int8 weights, float32 biases, norms and the
// float parts, and the calibrated activation scales. It is immutable and safe to share;
// per-goroutine scratch lives in a Runner.
type Model struct {
	Arch   *model.Arch
	Scales map[string]float32 // activation scale per point (see Points)
	// Zeros holds the zero point of each asymmetric point (x ≈ scale·(v − zero), v int8);
	// a point not listed is symmetric (zero 0).
	Zeros map[string]int32
	// Meta is carried into the bundle (calibration method, data, ...).
	Meta map[string]string

	floats map[string]*model.Tensor // float tensors the int8 model keeps, by state-dict name

	enc      []*qconv
	preMem   model.Linear
	preMemLN model.LayerNorm
	gru      *qlinear
	gruLN    model.LayerNorm
	prior    qmlp1
	post     qmlp1
	decLin   *qlinear
	decSeed  *qlinear // decLin and the first transposed conv merged (SeedMerged); then dec starts at layer 1
	dec      []*qdeconv
	heads    []fhead
}

type qmlp1 struct {
	in   *qlinear
	norm model.LayerNorm
	head *qlinear
}

// fhead is a float32 decoder head (is_terminal, reward): small, off the filter path.
type fhead struct {
	arch   model.HeadArch
	layers []model.Linear
	norms  []*model.LayerNorm
}

// source supplies the weights a Model is built from: either a float model being quantised or
// an int8 bundle being loaded, so both go through one constructor.
type source interface {
	float(name string, shape ...int) (*model.Tensor, error)
	linear(name string, out, in int, cuts []int, points []string) (*qlinear, error)
	// seed returns the merged decoder seed Linear (SeedMerged), rows in HWC order of the first
	// transposed conv's K×K×Cout output.
	seed(a *model.Arch, cuts []int, points []string) (*qlinear, error)
	conv(spec model.ConvSpec, point string) (*qconv, error)
	deconv(spec model.ConvSpec, point string) (*qdeconv, error)
}

// floatSource quantises the weights of a float32 model.
type floatSource struct {
	ts map[string]*model.Tensor
	// gram maps a decoder point (or SeedName) to the Gram matrix of its layer's
	// calibration inputs (QuantizeCalibrated); nil rounds every weight to nearest.
	gram map[string][]float64
	// int4 names the Linears whose weights get 4 bits, sq their inputs' sums of squares per
	// activation point (QuantizeCalibratedInt4).
	int4 map[string]bool
	sq   map[string][]float64
}

func (s floatSource) float(name string, shape ...int) (*model.Tensor, error) {
	return getTensor(s.ts, name, shape...)
}

func (s floatSource) linear(name string, out, in int, cuts []int, points []string) (*qlinear, error) {
	w, err := getTensor(s.ts, name+".weight", out, in)
	if err != nil {
		return nil, err
	}
	b, err := getTensor(s.ts, name+".bias", out)
	if err != nil {
		return nil, err
	}
	if s.int4[name] {
		return newQLinear4(name, w, b, cuts, points, s.sq)
	}
	return newQLinear(name, w, b, cuts, points, nil)
}

func (s floatSource) seed(a *model.Arch, cuts []int, points []string) (*qlinear, error) {
	c, _ := model.DecoderSeed(a)
	sp := model.DecoderLayers(a)[0]
	in := a.Deter + a.Stoch
	wl, err := getTensor(s.ts, "decoders.image.net.0.weight", c, in)
	if err != nil {
		return nil, err
	}
	bl, err := getTensor(s.ts, "decoders.image.net.0.bias", c)
	if err != nil {
		return nil, err
	}
	wd, err := getTensor(s.ts, sp.Prefix+".weight", sp.Cin, sp.Cout, sp.K, sp.K)
	if err != nil {
		return nil, err
	}
	bd, err := getTensor(s.ts, sp.Prefix+".bias", sp.Cout)
	if err != nil {
		return nil, err
	}
	if sp.Cin != c {
		return nil, fmt.Errorf("%w: decoder seed has %d channels, first transposed conv takes %d", model.ErrArch, c, sp.Cin)
	}
	// Row r = (ky·K + kx)·Cout + co of the merged W is Σ_ci Wd[ci][co][ky][kx] · Wl[ci][:],
	// its bias Σ_ci Wd[ci][co][ky][kx] · bl[ci] + bd[co]. The weights sum in float32 (1.8
	// GMAC for walker; the rounding, ~1e-6 relative, is far below int8's), the biases in
	// float64.
	kk := sp.K * sp.K
	rows := kk * sp.Cout
	wt := &model.Tensor{Shape: []int{rows, in}, Data: make([]float32, rows*in)}
	b := make([]float64, rows)
	for ci := 0; ci < c; ci++ {
		wrow := wl.Data[ci*in : (ci+1)*in]
		for co := 0; co < sp.Cout; co++ {
			for t := 0; t < kk; t++ {
				coef := wd.Data[(ci*sp.Cout+co)*kk+t]
				if coef == 0 {
					continue
				}
				r := t*sp.Cout + co
				axpy(wt.Data[r*in:(r+1)*in], wrow, coef)
				b[r] += float64(coef) * float64(bl.Data[ci])
			}
		}
	}
	bt := &model.Tensor{Shape: []int{rows}, Data: make([]float32, rows)}
	for r := range b {
		bt.Data[r] = float32(b[r] + float64(bd.Data[r%sp.Cout]))
	}
	return newQLinear(SeedName, wt, bt, cuts, points, s.gram[SeedName])
}

// axpy adds a·x into y (len(x) values), four independent lanes per iteration.
func axpy(y, x []float32, a float32) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
	}
	for ; i < len(x); i++ {
		y[i] += a * x[i]
	}
}

func (s floatSource) conv(spec model.ConvSpec, point string) (*qconv, error) {
	w, err := getTensor(s.ts, spec.Prefix+".weight", spec.Cout, spec.Cin, spec.K, spec.K)
	if err != nil {
		return nil, err
	}
	b, err := getTensor(s.ts, spec.Prefix+".bias", spec.Cout)
	if err != nil {
		return nil, err
	}
	return newQConv(spec, w, b, point), nil
}

func (s floatSource) deconv(spec model.ConvSpec, point string) (*qdeconv, error) {
	w, err := getTensor(s.ts, spec.Prefix+".weight", spec.Cin, spec.Cout, spec.K, spec.K)
	if err != nil {
		return nil, err
	}
	b, err := getTensor(s.ts, spec.Prefix+".bias", spec.Cout)
	if err != nil {
		return nil, err
	}
	return newQDeconv(spec, w, b, point, s.gram[point])
}

func getTensor(ts map[string]*model.Tensor, name string, shape ...int) (*model.Tensor, error) {
	t, ok := ts[name]
	if !ok {
		return nil, fmt.Errorf("%w: missing tensor %q", model.ErrArch, name)
	}
	if len(t.Shape) != len(shape) {
		return nil, fmt.Errorf("%w: tensor %q has shape %s, want %s", model.ErrArch, name, model.ShapeString(t.Shape), model.ShapeString(shape))
	}
	for i := range shape {
		if t.Shape[i] != shape[i] {
			return nil, fmt.Errorf("%w: tensor %q has shape %s, want %s", model.ErrArch, name, model.ShapeString(t.Shape), model.ShapeString(shape))
		}
	}
	if len(t.Data) != t.NumElements() {
		return nil, fmt.Errorf("%w: tensor %q holds %d values for shape %s", model.ErrArch, name, len(t.Data), model.ShapeString(t.Shape))
	}
	return t, nil
}

// Quantize builds the int8 model of a float32 model with the given activation scales (one per
// entry of Points; calibration.Calibrate chooses them), every point symmetric.
func Quantize(fm *model.Model, scales map[string]float32) (*Model, error) {
	return QuantizeAffine(fm, scales, nil)
}

// QuantizeAffine is Quantize with zero points for asymmetric points (see Model.Zeros and
// ZeroPointOK); nil means all symmetric.
func QuantizeAffine(fm *model.Model, scales map[string]float32, zeros map[string]int32) (*Model, error) {
	if fm == nil || fm.Arch == nil {
		return nil, fmt.Errorf("quantize: nil model")
	}
	return build(fm.Arch, floatSource{ts: fm.Tensors}, scales, zeros)
}

// QuantizeCalibrated is QuantizeAffine with output-aware weight rounding: inputGram maps a
// decoder point (DecPoint) to Σ x·xᵀ over the float inputs x (Cin values at one pixel) its
// transposed conv saw in calibration, row-major Cin×Cin, and SeedName to that of the merged
// seed's input (the feature, Deter+Stoch values); those layers' weights are then rounded,
// and their scales clipped, for the least output error on such inputs (rounding.go) instead
// of to nearest. Layers without one are rounded to nearest. The bundle format is unchanged.
func QuantizeCalibrated(fm *model.Model, scales map[string]float32, zeros map[string]int32, inputGram map[string][]float64) (*Model, error) {
	return QuantizeCalibratedInt4(fm, scales, zeros, inputGram, nil, nil)
}

// Int4Layers are the Linears (state-dict prefixes) whose weights can take 4 bits: the GRU,
// the posterior's first layer and the image decoder's Linear, the widest batch-1 weights of
// a step (9.7 of rssmo-m's 10.4 MB per filter step, 6.5 MB per decode). Their GEMVs stream
// the weights from L3 once per step, so half the bytes is most of half the time
// (armkernels.BenchmarkGemv4Cold); tools/int4probe measures what it costs in accuracy.
var Int4Layers = []string{"memory_cell.input_layer", "posterior_net.net.0", "decoders.image.net.0"}

// QuantizeCalibratedInt4 is QuantizeCalibrated with the weights of the named Linears (from
// Int4Layers) rounded to 4 bits: one scale per row, codes in [−7, 7], the clip that
// minimises each row's squared error, each input weighted by its calibration inputs' mean
// square where inputSq has it (per activation point, Σ x_i² per element: an error on an
// input that is mostly near zero costs little). The bundle stores them as int8 codes like any
// other; armkernels runs a matrix whose codes all fit 4 bits from a nibble copy where it has
// a 4-bit GEMV, bit-identically to the int8 path elsewhere.
func QuantizeCalibratedInt4(fm *model.Model, scales map[string]float32, zeros map[string]int32, inputGram map[string][]float64, int4 []string, inputSq map[string][]float64) (*Model, error) {
	if fm == nil || fm.Arch == nil {
		return nil, fmt.Errorf("quantize: nil model")
	}
	four := map[string]bool{}
	for _, name := range int4 {
		if !slices.Contains(Int4Layers, name) {
			return nil, fmt.Errorf("quantize: %q cannot take 4-bit weights (only %s)", name, strings.Join(Int4Layers, ", "))
		}
		four[name] = true
	}
	return build(fm.Arch, floatSource{ts: fm.Tensors, gram: inputGram, int4: four, sq: inputSq}, scales, zeros)
}

// build constructs and packs a Model; every weight goes through src.
func build(a *model.Arch, src source, scales map[string]float32, zeros map[string]int32) (*Model, error) {
	m := &Model{Arch: a, Scales: map[string]float32{}, Zeros: map[string]int32{}, Meta: map[string]string{}, floats: map[string]*model.Tensor{}}
	for k, v := range scales {
		m.Scales[k] = v
	}
	for k, z := range zeros {
		if z == 0 {
			continue
		}
		if _, ok := scales[k]; !ok || !ZeroPointOK(k) || k == EncPoint(0) {
			return nil, fmt.Errorf("quantize: zero point %d for %q, which takes none", z, k)
		}
		if z < -128 || z > 127 {
			return nil, fmt.Errorf("quantize: zero point %q = %d, want [-128, 127]", k, z)
		}
		m.Zeros[k] = z
	}
	m.Scales[EncPoint(0)] = imageScale(a)
	if z := imageZero(a); z != 0 {
		m.Zeros[EncPoint(0)] = z
	}
	for _, p := range Points(a) {
		v, ok := m.Scales[p]
		if !ok {
			return nil, fmt.Errorf("quantize: no activation scale for %q", p)
		}
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("quantize: activation scale %q = %v, want a positive finite value", p, v)
		}
	}
	H, S, M, A, E := a.Deter, a.Stoch, a.Hidden, a.ActionDim, a.EmbDim
	flt := func(name string, shape ...int) []float32 {
		if m.floats == nil {
			return nil
		}
		t, err := src.float(name, shape...)
		if err != nil {
			m.floats = nil
			m.Meta["error"] = err.Error()
			return nil
		}
		m.floats[name] = t
		return t.Data
	}
	lnorm := func(prefix string, n int) model.LayerNorm {
		return model.LayerNorm{N: n, G: flt(prefix+".weight", n), B: flt(prefix+".bias", n)}
	}
	var err error
	lin := func(name string, out, in int, cuts []int, points ...string) *qlinear {
		if err != nil {
			return nil
		}
		var l *qlinear
		l, err = src.linear(name, out, in, cuts, points)
		return l
	}

	// Encoder.
	specs := model.EncoderLayers(a)
	for i, sp := range specs {
		c, cerr := src.conv(sp, EncPoint(i))
		if cerr != nil {
			return nil, cerr
		}
		if sp.Norm != "" {
			c.g, c.b = flt(sp.Norm+".weight", sp.Cout), flt(sp.Norm+".bias", sp.Cout)
		}
		m.enc = append(m.enc, c)
	}
	// Transition. pre_memory stays float: it is (S+A)×M, a few tens of kMACs (doc.go).
	out := 2 * S
	if a.Discrete {
		out = S
	}
	m.preMem = model.Linear{In: S + A, Out: M, W: flt("pre_memory.net.0.weight", M, S+A), B: flt("pre_memory.net.0.bias", M)}
	m.preMemLN = lnorm("pre_memory.net.1", M)
	m.gru = lin("memory_cell.input_layer", 3*H, M+H, []int{M}, PointGRUX, PointDeter)
	m.gruLN = lnorm("memory_cell.norm", 3*H)
	m.prior = qmlp1{
		in:   lin("prior_net.net.0", M, H, nil, PointDeter),
		norm: lnorm("prior_net.net.1", M),
		head: lin("prior_net.net.3", out, M, nil, PointPriorHid),
	}
	m.post = qmlp1{
		in:   lin("posterior_net.net.0", M, H+E, []int{H}, PointDeter, PointEmb),
		norm: lnorm("posterior_net.net.1", M),
		head: lin("posterior_net.net.3", out, M, nil, PointPostHid),
	}
	if a.Decoder != "" {
		c, side := model.DecoderSeed(a)
		merged := SeedMerged(a)
		if merged {
			if err == nil {
				m.decSeed, err = src.seed(a, []int{H}, []string{PointDeter, PointStoch})
			}
		} else {
			m.decLin = lin("decoders.image.net.0", c*side*side, H+S, []int{H}, PointDeter, PointStoch)
		}
		for i, sp := range model.DecoderLayers(a) {
			if i == 0 && merged {
				continue
			}
			d, derr := src.deconv(sp, DecPoint(i))
			if derr != nil {
				return nil, derr
			}
			m.dec = append(m.dec, d)
		}
	}
	if err != nil {
		return nil, err
	}
	for _, hd := range a.Heads {
		h := fhead{arch: hd}
		linear, norm := model.HeadLayout(hd)
		prefix := model.HeadPrefix(hd)
		in := a.FeatureDim()
		for i, li := range linear {
			o := hd.Width
			if i == len(linear)-1 {
				o = hd.Out
			}
			p := prefix + strconv.Itoa(li)
			h.layers = append(h.layers, model.Linear{In: in, Out: o, W: flt(p+".weight", o, in), B: flt(p+".bias", o)})
			if i < len(norm) {
				if norm[i] >= 0 {
					n := lnorm(prefix+strconv.Itoa(norm[i]), o)
					h.norms = append(h.norms, &n)
				} else {
					h.norms = append(h.norms, nil)
				}
			}
			in = o
		}
		m.heads = append(m.heads, h)
	}
	if m.floats == nil {
		return nil, fmt.Errorf("quantize: %s", m.Meta["error"])
	}
	// Record the biases of quantised layers as float tensors too, for the bundle.
	for _, l := range m.linears() {
		m.floats[l.name+".bias"] = &model.Tensor{Shape: []int{l.out}, Data: l.bias}
	}
	for _, c := range m.enc {
		m.floats[c.spec.Prefix+".bias"] = &model.Tensor{Shape: []int{c.spec.Cout}, Data: c.bias}
	}
	for _, d := range m.dec {
		m.floats[d.spec.Prefix+".bias"] = &model.Tensor{Shape: []int{d.spec.Cout}, Data: d.bias}
	}
	if err := m.pack(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) linears() []*qlinear {
	ls := []*qlinear{m.gru, m.prior.in, m.prior.head, m.post.in, m.post.head}
	if m.decLin != nil {
		ls = append(ls, m.decLin)
	}
	if m.decSeed != nil {
		ls = append(ls, m.decSeed)
	}
	return ls
}

// pack packs every int8 matrix for the kernels and derives the requantisation multipliers.
func (m *Model) pack() error {
	for _, l := range m.linears() {
		if err := l.pack(); err != nil {
			return err
		}
		if err := l.setScales(m.Scales, m.Zeros); err != nil {
			return err
		}
	}
	var err error
	for i, c := range m.enc {
		sp := c.spec
		if c.w, err = packRows(sp.Prefix, sp.Cout, sp.K*sp.K*sp.Cin, c.q); err != nil {
			return err
		}
		c.inScale = m.Scales[c.inPoint]
		c.inZero = m.Zeros[c.inPoint]
		c.slide = nil
		if i == 0 && sp.Cin == 3 {
			if c.slide, err = newSlide(c); err != nil {
				return err
			}
		}
		c.mul = scaled(c.rowScale, c.inScale)
		c.ebias = append([]float32(nil), c.bias...)
		subZeroTerm(c.ebias, c.mul, c.q, sp.K*sp.K*sp.Cin, c.inZero)
		c.outInv, c.outZero, c.mulq, c.biasq = 0, 0, nil, nil
		if i+1 < len(m.enc) {
			c.outInv = 1 / m.Scales[m.enc[i+1].inPoint]
			c.outZero = m.Zeros[m.enc[i+1].inPoint]
			if !sp.InstNorm && sp.Act == "relu" {
				c.mulq, c.biasq = foldRequant(c.mul, c.ebias, c.outInv, sp.K*sp.K*sp.Cin)
			}
		}
	}
	for i, d := range m.dec {
		sp := d.spec
		if d.w, err = packRows(sp.Prefix, sp.K*sp.K*sp.Cout, sp.Cin, d.q); err != nil {
			return err
		}
		d.inScale = m.Scales[d.inPoint]
		d.inZero = m.Zeros[d.inPoint]
		d.zinit = d.zeroTermInit()
		d.mul = scaled(d.rowScale, d.inScale)
		if d.ph, err = newPhaseSplit(d); err != nil {
			return err
		}
		d.outInv, d.outZero, d.mulq, d.biasq, d.rowMulq, d.rowBiasq = 0, 0, nil, nil, nil, nil
		last := i+1 == len(m.dec)
		if !last {
			d.outInv = 1 / m.Scales[m.dec[i+1].inPoint]
			d.outZero = m.Zeros[m.dec[i+1].inPoint]
			if !sp.InstNorm && sp.Act == "relu" {
				// The scatter sums up to ⌈K/S⌉² products per output.
				t := (sp.K + sp.S - 1) / sp.S
				bias := d.bias
				for len(bias) < len(d.mul) {
					bias = append(bias[:len(bias):len(bias)], d.bias...)
				}
				d.mulq, d.biasq = foldRequant(d.mul, bias, d.outInv, t*t*sp.Cin)
			}
		}
		if len(d.rowScale) != sp.Cout {
			// Phase scales: only the ReLU requantisation and the image epilogue apply them.
			if !phaseScalable(&sp) || (!last && d.mulq == nil) {
				return fmt.Errorf("%w: %s has %d weight scales per output channel, which only a stride-2+ transposed conv with a ReLU into another int8 layer or the image layer can take", model.ErrArch, sp.Prefix, len(d.rowScale)/sp.Cout)
			}
			d.rowMulq, d.rowBiasq = rowPattern(d, d.mulq), rowPattern(d, d.biasq)
			d.mulq, d.biasq = nil, nil
		}
	}
	return nil
}

// rowPattern lays out per-(phase, channel) values v ([py][px][Cout], S·S·Cout) as the
// requantisation of an output row visits them: for each row phase py, the S·Cout values of
// S consecutive pixels from column 0, whose phases are (0+P) mod S, (1+P) mod S, …. nil
// stays nil (the image layer has no requantisation).
func rowPattern(d *qdeconv, v []float32) []float32 {
	if v == nil {
		return nil
	}
	s, c, p := d.spec.S, d.spec.Cout, d.spec.P
	out := make([]float32, 0, s*s*c)
	for py := 0; py < s; py++ {
		for m := 0; m < s; m++ {
			g := (py*s + (m+p)%s) * c
			out = append(out, v[g:g+c]...)
		}
	}
	return out
}

// foldRequant folds the next layer's inverse scale into the multipliers and biases of a
// ReLU requantisation, or returns nils (the general float path) when a value could reach
// 2³⁰ in units of the output's levels, where reluRequant's int32 conversion would overflow.
func foldRequant(mul, bias []float32, outInv float32, k int) (mulq, biasq []float32) {
	mulq, biasq = scaled(mul, outInv), scaled(bias, outInv)
	bound := 128.0 * 127 * float64(k)
	for j := range mulq {
		if bound*math.Abs(float64(mulq[j]))+math.Abs(float64(biasq[j])) >= 1<<30 {
			return nil, nil
		}
	}
	return mulq, biasq
}

func scaled(rowScale []float32, s float32) []float32 {
	out := make([]float32, len(rowScale))
	for j, r := range rowScale {
		out[j] = s * r
	}
	return out
}

// ScaleNames returns the model's activation-scale points in sorted order.
func (m *Model) ScaleNames() []string {
	names := make([]string, 0, len(m.Scales))
	for k := range m.Scales {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// MACs returns the multiply-accumulates of one filter step (encoder + transition + prior +
// posterior) and of one decode, counted from the architecture as the int8 kernels run them.
func MACs(a *model.Arch) (filter, decode int64) {
	for _, sp := range model.EncoderLayers(a) {
		filter += int64(sp.OutH*sp.OutH) * int64(sp.Cout) * int64(sp.Cin*sp.K*sp.K)
	}
	H, S, M, E := int64(a.Deter), int64(a.Stoch), int64(a.Hidden), int64(a.EmbDim)
	out := 2 * S
	if a.Discrete {
		out = S
	}
	filter += (S+int64(a.ActionDim))*M + 3*H*(M+H) + M*H + out*M + M*(H+E) + out*M
	if a.Decoder != "" {
		c, side := model.DecoderSeed(a)
		ls := model.DecoderLayers(a)
		if SeedMerged(a) {
			decode += int64(ls[0].K*ls[0].K*ls[0].Cout) * (H + S)
			ls = ls[1:]
		} else {
			decode += int64(c*side*side) * (H + S)
		}
		for _, sp := range ls {
			decode += int64(sp.InH*sp.InH) * int64(sp.Cin) * int64(sp.Cout*sp.K*sp.K)
		}
	}
	return filter, decode
}
