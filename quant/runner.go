package quant

import (
	"fmt"

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

// Runner evaluates a Model with its own scratch space and kernels. Its stages live in
// encode.go, transition.go (and the step API), decode.go and heads.go (heads and the ELBO
// terms, assembled by model.EvaluateStep). It is not safe for concurrent use; create one
// per goroutine. After NewRunner no method allocates.
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
	decoded []float32   // HWC decoder mean
	ebuf    []float32   // exponentials of the gates and SiLUs (armkernels.Exp, vectorised)
	pre     *colLinear  // pre_memory, column-major: a one-hot stoch is a gather (discrete.go)
	klbuf   []float32   // discrete models: discreteKL's exponentials and group maxima
	norm    normScratch // normAct's per-channel statistics (normact.go)
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
	r.pre = newColLinear(&m.preMem)
	r.pre.k = r.k
	r.norm = newNormScratch(maxC)
	if a.Discrete {
		r.klbuf = make([]float32, 2*a.Stoch+2*a.Groups)
	}
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
