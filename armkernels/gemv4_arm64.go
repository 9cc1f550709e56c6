package armkernels

// haveGemv4: every arm64 CPU has a 4-bit GEMV, NEON being baseline.
const haveGemv4 = true

// hasGemv4 reports whether GEMM path kind runs the 4-bit GEMV: NEON (SMULL/SMLAL), SDOT,
// and I8MM through the SDOT one (every I8MM CPU has SDOT, and a GEMV has one activation
// row, which SMMLA's 2-row tiles would half waste).
func hasGemv4(kind kernelKind) bool {
	return kind == kindNEON || kind == kindSDOT || kind == kindI8MM
}

// gemv4SumNEON returns Σ_{p < 8·pairs} a[p] (pairs ≥ 1), with ARMv8 Advanced SIMD
// (SADDLP, SADALP, ADDP):
//
//	var s int32
//	for p := 0; p < 8*pairs; p++ {
//		s += int32(a[p])
//	}
//	return int(s)
//
//go:noescape
func gemv4SumNEON(a *int8, pairs int) int

// gemv4SDOT4 computes 64 outputs, 4 panels in the 4-bit layout (pstride bytes apart),
// from the nibbles n = W+8 and init = −8·Σa, with ARMv8.2 dot product (SDOT, FEAT_DotProd).
// The Go loop it implements, with N(j, p) the nibble of row j, column p:
//
//	for j := 0; j < 64; j++ {
//		s := int32(init)
//		for p := 0; p < 8*pairs; p++ {
//			s += int32(a[p]) * int32(N(j, p)) // N = W+8: init takes the 8s back
//		}
//		c[j] = s
//	}
//
//go:noescape
func gemv4SDOT4(a *int8, w *byte, pstride int, pairs int, c *int32, init int)

// gemv4SDOT1 is gemv4SDOT4 for one panel (16 outputs).
//
//go:noescape
func gemv4SDOT1(a *int8, w *byte, pairs int, c *int32, init int)

// gemv4NEON4 is gemv4SDOT4 with ARMv8.0 Advanced SIMD only (SMULL, SMLAL, SMULL2, SMLAL2,
// ADDP, SADALP): each block's products of one row quarter go to 16 bits (at most
// 2·15·128·2 = 7680 after the ADDP) and are added pairwise into the int32 sums.
//
//go:noescape
func gemv4NEON4(a *int8, w *byte, pstride int, pairs int, c *int32, init int)

// gemv4NEON1 is gemv4NEON4 for one panel (16 outputs).
//
//go:noescape
func gemv4NEON1(a *int8, w *byte, pairs int, c *int32, init int)

// gemv4 is Gemm for one activation row from the 4-bit weights, on path kind (hasGemv4).
// Rows past w.Rows in the last panel go to a stack tile, as in gemmBlocked. The stubs are
// called directly, not through func values, so that the tile stays on the stack.
func gemv4(kind kernelKind, c []int32, a []int8, w *Matrix) {
	pstride := w.kp * 8
	pairs := w.kp / 8
	init := -8 * gemv4SumNEON(&a[0], pairs)
	sdot := kind != kindNEON
	p := 0
	for ; p+4 <= w.panels && (p+4)*panelCols <= w.Rows; p += 4 {
		if sdot {
			gemv4SDOT4(&a[0], &w.nib[p*pstride], pstride, pairs, &c[p*panelCols], init)
		} else {
			gemv4NEON4(&a[0], &w.nib[p*pstride], pstride, pairs, &c[p*panelCols], init)
		}
	}
	var tile [panelCols]int32
	for ; p < w.panels; p++ {
		j0 := p * panelCols
		if j0+panelCols <= w.Rows {
			gemv4Panel(sdot, &a[0], &w.nib[p*pstride], pairs, &c[j0], init)
			continue
		}
		gemv4Panel(sdot, &a[0], &w.nib[p*pstride], pairs, &tile[0], init)
		copy(c[j0:w.Rows], tile[:])
	}
}

// gemv4Panel runs the one-panel kernel of the SDOT or the NEON path.
func gemv4Panel(sdot bool, a *int8, w *byte, pairs int, c *int32, init int) {
	if sdot {
		gemv4SDOT1(a, w, pairs, c, init)
	} else {
		gemv4NEON1(a, w, pairs, c, init)
	}
}
