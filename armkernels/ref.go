package armkernels

import (
	"errors"
	"fmt"
	"math"
)

// Packed layout, shared by every implementation so a Matrix packed once runs
// on whichever kernel is chosen: W rows are grouped in panels of panelCols
// rows (zero rows pad the last one); inside a panel, K runs in groups of 4
// bytes, and group g holds the 4 bytes of each of the panelCols rows, row after
// row (64 bytes). That is one zmm for VPDPBUSD, two ymm for AVX2 and four q
// registers for SDOT/NEON, each lane a dot product of 4 bytes.
const (
	panelCols = 16
	kGroup    = 4
	// strideAlign is the activation stride granule: SMMLA consumes K in
	// steps of 8 (two groups).
	strideAlign = 8
)

// ErrRange reports a weight or shape outside what the kernels compute exactly.
var ErrRange = errors.New("armkernels: value out of range")

// Matrix is an int8 weight matrix W[Rows][K] packed once at load time for the kernels.
type Matrix struct {
	Rows, K int

	kp      int     // K rounded up to kGroup: the activation stride the kernels need
	panels  int     // ceil(Rows / panelCols)
	data    []int8  // panels × kp × panelCols bytes, layout above
	corr    []int32 // per padded row: -128·Σ_p W[j][p], the VNNI zero-point correction
	rowSums []int32 // Σ_p W[j][p] for the first Rows rows
	// nib holds the weights again two to a byte (gemv4.go) when they all fit 4 bits and this
	// machine has a 4-bit GEMV; nil otherwise.
	nib []byte
}

// maxK bounds K so that no accumulator can overflow int32 even in the
// VNNI kernel, whose activations are offset to [1, 255]: 255·127·K < 2³¹.
const maxK = 1 << 16

// PackMatrix packs w, row-major [rows][k], for the kernels. Values must be in
// [-127, 127]: the AVX2 kernel relies on it to stay exact.
func PackMatrix(rows, k int, w []int8) (*Matrix, error) {
	if rows <= 0 || k <= 0 {
		return nil, fmt.Errorf("armkernels: matrix shape %dx%d: %w", rows, k, ErrRange)
	}
	if k > maxK || rows > maxK*16 {
		return nil, fmt.Errorf("armkernels: matrix shape %dx%d exceeds %d columns or %d rows: %w", rows, k, maxK, maxK*16, ErrRange)
	}
	if len(w) != rows*k {
		return nil, fmt.Errorf("armkernels: matrix %dx%d needs %d values, got %d: %w", rows, k, rows*k, len(w), ErrRange)
	}
	for i, v := range w {
		if v == math.MinInt8 {
			return nil, fmt.Errorf("armkernels: weight [%d][%d] = -128, want [-127, 127]: %w", i/k, i%k, ErrRange)
		}
	}
	m := &Matrix{Rows: rows, K: k}
	m.kp = (k + strideAlign - 1) / strideAlign * strideAlign
	m.panels = (rows + panelCols - 1) / panelCols
	m.data = make([]int8, m.panels*m.kp*panelCols)
	m.corr = make([]int32, m.panels*panelCols)
	m.rowSums = make([]int32, rows)
	for j := 0; j < rows; j++ {
		base := (j/panelCols)*m.kp*panelCols + (j%panelCols)*kGroup
		var sum int32
		for p, v := range w[j*k : (j+1)*k] {
			m.data[base+(p/kGroup)*kGroup*panelCols+p%kGroup] = v
			sum += int32(v)
		}
		m.rowSums[j] = sum
		m.corr[j] = -128 * sum
	}
	if haveGemv4 && nibRange(w) {
		m.nib = packNibbles(m)
	}
	return m, nil
}

// Stride returns the K padding the activations must use: K rounded up to 8.
// Activation rows passed to Gemm hold zeros in bytes [K, Stride).
func (m *Matrix) Stride() int { return m.kp }

// RowSums returns Σ_p W[j][p] for every row j, for callers whose activations
// carry a zero point. The slice is shared: do not modify it.
func (m *Matrix) RowSums() []int32 { return m.rowSums }

// at returns W[j][p] from the packed layout.
func (m *Matrix) at(j, p int) int8 {
	return m.data[(j/panelCols)*m.kp*panelCols+(p/kGroup)*kGroup*panelCols+(j%panelCols)*kGroup+p%kGroup]
}

// gemmRef is the reference: one exact dot product per output.
func gemmRef(c []int32, ldc int, a []int8, lda, m int, w *Matrix) {
	for i := 0; i < m; i++ {
		row := a[i*lda : i*lda+w.K]
		out := c[i*ldc : i*ldc+w.Rows]
		for j := range out {
			var s int32
			for p, x := range row {
				s += int32(x) * int32(w.at(j, p))
			}
			out[j] = s
		}
	}
}
