package frame

// NEON is baseline on arm64, so every arm64 CPU runs the "neon" kernels;
// the Go ones stay in areaKernels for the tests to compare against.

// areaRowNEON is areaRowGo for outWp a positive multiple of 8, taps and kx
// positive and ky 1-8: 8 output columns per group, each tap's coefficients
// loaded lane by lane (NEON has no gather), SCVTF, FMUL, FADD. It reads
// coef at every idx[t*outWp+ox] + v*kx + u unchecked: accumulate checks
// that the tables stay inside the plane.
//
//go:noescape
func areaRowNEON(h *float32, coef *int32, idx *int32, wx *float32, outWp, taps, kx, ky int)

// areaColNEON is areaColGo over groups·16 output columns, n positive:
// acc[ox] = Σ_j w[j] · h[rows[j]+ox], FMUL then FADD in j order.
//
//go:noescape
func areaColNEON(acc, h *float32, rows *int32, w *float32, n, groups int)

// areaRGBNEON is areaRGBGo over groups·8 pixels (groups positive), k
// pointing at areaRGBNEONK.
//
//go:noescape
func areaRGBNEON(dst *byte, y, cb, cr *float32, groups int, k *[6]float32)

// areaRGBNEONK: the level shift, the rounding half and the conversion
// factors, in the order areaRGBNEON broadcasts them.
var areaRGBNEONK = [6]float32{128, 0.5, areaRV, areaGU, areaGV, areaBU}

// areaRowNEONRow checks the shapes the asm assumes; any other shape (none
// that areaState builds: its rows are padded to areaLanes) goes to Go.
// Slicing to the lengths areaRowGo indexes makes a short buffer panic as
// it would there, instead of being read or written past its end.
func areaRowNEONRow(h []float32, coef []int32, idx []int32, wx []float32, outWp, taps, kx, ky int) {
	if outWp <= 0 || outWp%8 != 0 || taps <= 0 || kx <= 0 || ky <= 0 {
		areaRowGo(h, coef, idx, wx, outWp, taps, kx, ky)
		return
	}
	h, idx, wx = h[:ky*outWp], idx[:taps*outWp], wx[:taps*kx*outWp]
	_ = coef[kx*ky-1]
	// The asm keeps up to 8 rows' sums in registers; areaFreqs keeps at
	// most 8 frequencies, so this loop does not run for areaState's tables.
	for ky > 8 {
		areaRowNEON(&h[0], &coef[0], &idx[0], &wx[0], outWp, taps, kx, 8)
		h, coef, ky = h[8*outWp:], coef[8*kx:], ky-8
	}
	areaRowNEON(&h[0], &coef[0], &idx[0], &wx[0], outWp, taps, kx, ky)
}

// areaColNEONRow runs whole groups of 16 columns in asm and the rest in
// Go (areaColGo on the shifted row reads h[rows[j]+ox] for the same ox).
// rows are checked against h here (a few compares per output row): the
// asm reads h[rows[j] : rows[j]+16·groups] unchecked.
func areaColNEONRow(acc, h []float32, rows []int32, w []float32, outWp int) {
	n := outWp / 16 * 16
	if n == 0 || len(rows) == 0 {
		areaColGo(acc, h, rows, w, outWp)
		return
	}
	acc, w = acc[:outWp], w[:len(rows)]
	for _, r := range rows {
		if r < 0 || int(r)+outWp > len(h) {
			areaColGo(acc, h, rows, w, outWp) // panics on the row, as Go would
			return
		}
	}
	areaColNEON(&acc[0], &h[0], &rows[0], &w[0], len(rows), n/16)
	if n < outWp {
		areaColGo(acc[n:], h[n:], rows, w, outWp-n)
	}
}

// areaRGBNEONRow runs the NEON conversion over whole groups of 8 pixels
// and the Go one over the rest.
func areaRGBNEONRow(dst []byte, y, cb, cr []float32) {
	n := len(y) / 8 * 8
	cb, cr, dst = cb[:len(y)], cr[:len(y)], dst[:3*len(y)]
	if n > 0 {
		areaRGBNEON(&dst[0], &y[0], &cb[0], &cr[0], n/8, &areaRGBNEONK)
	}
	areaRGBGo(dst[3*n:], y[n:], cb[n:], cr[n:])
}

func areaSIMDKernels() []areaKernel {
	return []areaKernel{{"neon", areaRowNEONRow, areaColNEONRow, areaRGBNEONRow}}
}
