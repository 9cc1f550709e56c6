package armkernels

import "golang.org/x/sys/cpu"

// haveGemv4: some GEMM path of this CPU has a 4-bit GEMV (hasGemv4): the AVX-512 VNNI one
// (which needs BW for the byte shifts) so far.
var haveGemv4 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI

// hasGemv4 reports whether GEMM path kind runs the 4-bit GEMV.
func hasGemv4(kind kernelKind) bool { return kind == kindVNNI }

// gemv4VNNI4 computes c[0:64] = corr[0:64] + W·a for 4 panels in the 4-bit layout (pairs
// = Stride/8 blocks per panel, pstride bytes apart), a the Stride activation bytes.
//
//go:noescape
func gemv4VNNI4(a *int8, w *byte, pstride int, pairs int, c *int32, corr *int32)

// gemv4VNNI1 is gemv4VNNI4 for one panel (16 rows).
//
//go:noescape
func gemv4VNNI1(a *int8, w *byte, pairs int, c *int32, corr *int32)

// gemv4 is Gemm for one activation row from the 4-bit weights, on path kind (hasGemv4).
// Rows past w.Rows in the last panel go to a stack tile, as in gemmBlocked.
func gemv4(kind kernelKind, c []int32, a []int8, w *Matrix) {
	pstride := w.kp * 8
	pairs := w.kp / 8
	p := 0
	for ; p+4 <= w.panels && (p+4)*panelCols <= w.Rows; p += 4 {
		gemv4VNNI4(&a[0], &w.nib[p*pstride], pstride, pairs, &c[p*panelCols], &w.corr[p*panelCols])
	}
	var tile [panelCols]int32
	for ; p < w.panels; p++ {
		j0 := p * panelCols
		if j0+panelCols <= w.Rows {
			gemv4VNNI1(&a[0], &w.nib[p*pstride], pairs, &c[j0], &w.corr[j0])
			continue
		}
		gemv4VNNI1(&a[0], &w.nib[p*pstride], pairs, &tile[0], &w.corr[j0])
		copy(c[j0:w.Rows], tile[:])
	}
}
