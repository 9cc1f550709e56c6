package quant

// Two float parts of the step that a discrete (one-hot) stoch makes costly when done densely:
// pre_memory over [stoch, action] (1030 columns for rssmo-discrete, of which 38 are non-zero) and
// the categorical KL between the 32×32 posterior and prior logits.

import (
	"math"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
)

// colLinear is a float32 Linear stored column-major (W transposed: In rows of Out values), so
// y = W·x + b costs one pass over Out values per non-zero x[i]. A one-hot stoch has one non-zero
// per group: for rssmo-discrete that is 38 of 1030 columns (with the 6 actions), 19.5 k instead
// of 527 k multiply-adds, and no 1024-wide dense pass. A continuous state (every column non-zero)
// costs what the dense product costs.
//
// The result is bit-identical to model.Linear.Forward: its dot product keeps four partial sums
// (x[i] goes to sum i mod 4, the tail past the last full group of four to the first) added as
// (s0+s1)+(s2+s3) after the loop; colLinear keeps the same four sums per output, fills them in the
// same order of i, and adds them the same way. A skipped zero column would only add ±0 to a
// partial sum, which cannot change it (a sum starts at +0, and +0 + −0 = +0).
type colLinear struct {
	in, out int
	wt      []float32 // [in][out]
	b       []float32
	acc     []float32           // [4][out] partial sums
	k       *armkernels.Kernels // runs the column updates; the Runner sets its own
}

func newColLinear(l *model.Linear) *colLinear {
	c := &colLinear{in: l.In, out: l.Out, wt: make([]float32, l.In*l.Out), b: l.B[:l.Out], acc: make([]float32, 4*l.Out), k: armkernels.Reference()}
	for o := 0; o < l.Out; o++ {
		for i := 0; i < l.In; i++ {
			c.wt[i*l.Out+o] = l.W[o*l.In+i]
		}
	}
	return c
}

// forward writes y = W·x + b (len(x) ≥ In, len(y) ≥ Out), each column's multiply-adds on c.k
// (MulAdd rounds them as model.Linear's dot rounds its own on this arch). It does not
// allocate.
func (c *colLinear) forward(y, x []float32) {
	o := c.out
	acc := c.acc[:4*o]
	clear(acc)
	full := c.in &^ 3 // columns from here on go to the first partial sum, as dot's tail does
	for i, v := range x[:c.in] {
		if v == 0 {
			continue
		}
		p := i & 3
		if i >= full {
			p = 0
		}
		c.k.MulAdd(acc[p*o:(p+1)*o], c.wt[i*o:(i+1)*o], v)
	}
	s0, s1, s2, s3 := acc[:o], acc[o:2*o], acc[2*o:3*o], acc[3*o:4*o]
	y, b := y[:o], c.b[:o]
	for j := range y {
		y[j] = b[j] + ((s0[j] + s1[j]) + (s2[j] + s3[j]))
	}
}

// probEps is float32's machine epsilon, the clamp of the categorical probabilities (spec 2.9).
const probEps = 0x1p-23

// discreteKL is model.DiscreteKL (spec 2.9: per group Σ_k q_k·(log q_k − log p_k), the logs of
// probabilities clamped to [ε, 1−ε]) with every exponential of both heads in one vectorised
// float32 pass (k.Exp, relative error < 3e-7) instead of four float64 exps and two logs per
// value: a probability inside the clamp has log q_k = (l_k − max) − log Σ, one log per group.
// Sums stay float64. tmp needs 2·groups·classes + 2·groups values. Its result is within 1e-5
// relative (or 1e-6 absolute) of model.DiscreteKL (TestDiscreteKLMatchesModel).
func discreteKL(k *armkernels.Kernels, q, p []float32, groups, classes int, tmp []float32) float32 {
	n := groups * classes
	e := tmp[:2*n]
	mx := tmp[2*n : 2*n+2*groups]
	for h, l := range [2][]float32{q[:n], p[:n]} {
		for g := 0; g < groups; g++ {
			v := l[g*classes : (g+1)*classes]
			// A compare, not the builtin max (which orders NaN and −0 in several more
			// instructions per value): a NaN logit makes the KL NaN either way.
			m := v[0]
			for _, x := range v[1:] {
				if x > m {
					m = x
				}
			}
			mx[h*groups+g] = m
			d := e[h*n+g*classes : h*n+(g+1)*classes]
			for i, x := range v {
				d[i] = x - m
			}
		}
	}
	k.Exp(e, e)
	var total float64
	for g := 0; g < groups; g++ {
		eq, ep := e[g*classes:(g+1)*classes], e[n+g*classes:n+(g+1)*classes]
		lq, lp := q[g*classes:(g+1)*classes], p[g*classes:(g+1)*classes]
		var zq, zp float64
		for i := range eq {
			zq += float64(eq[i])
			zp += float64(ep[i])
		}
		logZq, logZp := math.Log(zq), math.Log(zp)
		rq, rp := 1/zq, 1/zp // a multiply per value instead of a float64 divide
		mq, mp := mx[g], mx[groups+g]
		for i := range eq {
			qk, pk := float64(eq[i])*rq, float64(ep[i])*rp
			logq := float64(lq[i]-mq) - logZq
			if qk < probEps || qk > 1-probEps {
				logq = math.Log(min(max(qk, probEps), 1-probEps))
			}
			logp := float64(lp[i]-mp) - logZp
			if pk < probEps || pk > 1-probEps {
				logp = math.Log(min(max(pk, probEps), 1-probEps))
			}
			total += qk * (logq - logp)
		}
	}
	return float32(total)
}
