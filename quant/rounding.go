package quant

import (
	"fmt"
	"math"
	"sort"
)

// Output-aware weight rounding (the GPTQ/OBQ idea: Frantar et al. 2022, "GPTQ: Accurate
// Post-Training Quantization for Generative Pre-trained Transformers", §3). Rounding each
// weight to nearest minimises ‖ΔW‖², but what matters is the layer's output error on the
// inputs it sees, E‖ΔW·x‖² = ΔW·H·ΔWᵀ with H = E[x·xᵀ]. Rounding the inputs of one row in
// turn and spreading each rounding error over the inputs not yet rounded, along the rows of
// the Cholesky factor of H⁻¹, lowers that error where inputs are correlated (the ReLU
// feature maps of the decoder are), at no cost at run time: the int8 weights and their
// scales keep their format.

// gramDamp is the share of the mean diagonal added to H before inverting it: inputs that
// calibration saw little of (or that are linear combinations of others) would otherwise let
// the error feedback push other weights far, fitted to the calibration data alone. 1% is
// GPTQ's default.
const gramDamp = 0.01

// roundingFactor returns the upper Cholesky factor U of (H + damp·I)⁻¹ (row-major n×n),
// with H the n×n Gram matrix of a layer's inputs, or an error when H is not a finite
// symmetric positive semi-definite matrix of that size.
func roundingFactor(h []float64, n int) ([]float64, error) {
	if len(h) != n*n {
		return nil, fmt.Errorf("input Gram matrix holds %d values, want %d×%d", len(h), n, n)
	}
	var tr float64
	for i := 0; i < n; i++ {
		d := h[i*n+i]
		if !(d >= 0) || math.IsInf(d, 0) {
			return nil, fmt.Errorf("input Gram matrix diagonal %d is %v, want a finite value ≥ 0", i, d)
		}
		tr += d
	}
	a := make([]float64, n*n)
	copy(a, h)
	damp := gramDamp * tr / float64(n)
	if damp == 0 {
		damp = 1
	}
	for i := 0; i < n; i++ {
		if a[i*n+i] == 0 {
			// An input that was always zero: its weights never matter, and its row
			// and column carry no correlation to feed back along.
			for j := 0; j < n; j++ {
				a[i*n+j], a[j*n+i] = 0, 0
			}
		}
		a[i*n+i] += damp
	}
	// H = L·Lᵀ, then H⁻¹ = L⁻ᵀ·L⁻¹ and its upper factor by a second Cholesky.
	if err := cholesky(a, n); err != nil {
		return nil, err
	}
	inv := make([]float64, n*n)
	// Columns of L⁻¹ by forward substitution, then H⁻¹ = (L⁻¹)ᵀ·L⁻¹.
	li := make([]float64, n*n)
	for c := 0; c < n; c++ {
		for i := c; i < n; i++ {
			s := 0.0
			if i == c {
				s = 1
			}
			for k := c; k < i; k++ {
				s -= a[i*n+k] * li[k*n+c]
			}
			li[i*n+c] = s / a[i*n+i]
		}
	}
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			s := 0.0
			for k := i; k < n; k++ {
				s += li[k*n+i] * li[k*n+j]
			}
			inv[i*n+j], inv[j*n+i] = s, s
		}
	}
	if err := cholesky(inv, n); err != nil {
		return nil, err
	}
	// cholesky left L with H⁻¹ = L·Lᵀ in the lower triangle; U = Lᵀ.
	u := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			u[i*n+j] = inv[j*n+i]
		}
	}
	return u, nil
}

// cholesky overwrites the lower triangle of the symmetric n×n matrix a with L, a = L·Lᵀ.
func cholesky(a []float64, n int) error {
	for j := 0; j < n; j++ {
		d := a[j*n+j]
		for k := 0; k < j; k++ {
			d -= a[j*n+k] * a[j*n+k]
		}
		if !(d > 0) {
			return fmt.Errorf("input Gram matrix is not positive definite (pivot %d is %v)", j, d)
		}
		d = math.Sqrt(d)
		a[j*n+j] = d
		for i := j + 1; i < n; i++ {
			s := a[i*n+j]
			for k := 0; k < j; k++ {
				s -= a[i*n+k] * a[j*n+k]
			}
			a[i*n+j] = s / d
		}
	}
	return nil
}

// rounder rounds weight rows for one input Gram matrix H. Inputs are rounded in order of
// decreasing H_ii (GPTQ's "act order"): the strongest inputs go first, while the most
// inputs are left to absorb their rounding errors.
type rounder struct {
	perm []int     // rounding order: input perm[i] is rounded i-th
	u    []float64 // roundingFactor of H with rows and columns in that order
}

func newRounder(h []float64, n int) (*rounder, error) {
	if len(h) != n*n {
		return nil, fmt.Errorf("input Gram matrix holds %d values, want %d×%d", len(h), n, n)
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	// NaN diagonals sort anywhere: roundingFactor rejects them.
	sort.SliceStable(perm, func(a, b int) bool { return h[perm[a]*n+perm[a]] > h[perm[b]*n+perm[b]] })
	hp := make([]float64, n*n)
	for i, pi := range perm {
		for j, pj := range perm {
			hp[i*n+j] = h[pi*n+pj]
		}
	}
	u, err := roundingFactor(hp, n)
	if err != nil {
		return nil, err
	}
	return &rounder{perm: perm, u: u}, nil
}

// round writes q = the int8 codes of the n weights w at scale s, rounded one input at a time
// with each rounding error fed back to the inputs not yet rounded along u: the codes
// minimise (w − s·q)·H·(w − s·q)ᵀ greedily instead of |w − s·q|². work holds n values of
// scratch; w is not modified.
func (r *rounder) round(q []int8, w []float32, s float64, work []float64) {
	n, u := len(w), r.u
	for i, p := range r.perm {
		work[i] = float64(w[p])
	}
	for i := 0; i < n; i++ {
		c := math.Round(work[i] / s)
		c = min(max(c, -127), 127)
		q[r.perm[i]] = int8(c)
		e := (work[i] - s*c) / u[i*n+i]
		for j := i + 1; j < n; j++ {
			work[j] -= e * u[i*n+j]
		}
	}
}

// refineRow lowers (w − s·q)·H·(w − s·q)ᵀ further by moving single codes one step while
// that helps (coordinate descent from rounder.round's codes, which are greedy in one order only).
// g and d hold n values of scratch.
func refineRow(q []int8, w []float32, s float64, h []float64, g, d []float64) {
	n := len(w)
	for i := range w {
		d[i] = float64(w[i]) - s*float64(q[i])
	}
	// g = H·d; moving code i by δ changes the error by −2sδ·g_i + s²·H_ii.
	for i := 0; i < n; i++ {
		var r float64
		for j := 0; j < n; j++ {
			r += h[i*n+j] * d[j]
		}
		g[i] = r
	}
	for pass := 0; pass < 4; pass++ {
		moved := false
		for i := 0; i < n; i++ {
			hii := h[i*n+i]
			for _, delta := range [2]float64{1, -1} {
				c := float64(q[i]) + delta
				if c < -127 || c > 127 {
					continue
				}
				if -2*s*delta*g[i]+s*s*hii < -1e-12*s*s*hii {
					q[i] = int8(c)
					for j := 0; j < n; j++ {
						g[j] -= s * delta * h[j*n+i]
					}
					moved = true
					break
				}
			}
		}
		if !moved {
			return
		}
	}
}

// rowError is (w − s·q)·H·(w − s·q)ᵀ, the output error energy of one row's rounding.
func rowError(w []float32, q []int8, s float64, h []float64, d []float64) float64 {
	n := len(w)
	for i := range w {
		d[i] = float64(w[i]) - s*float64(q[i])
	}
	var e float64
	for i := 0; i < n; i++ {
		var r float64
		for j := 0; j < n; j++ {
			r += h[i*n+j] * d[j]
		}
		e += d[i] * r
	}
	return e
}
