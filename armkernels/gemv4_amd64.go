package armkernels

import "golang.org/x/sys/cpu"

// haveGemv4: some GEMM path of this CPU has a 4-bit GEMV (hasGemv4): every amd64 path but
// the reference needs AVX2, which the AVX2 4-bit GEMV needs too.
var haveGemv4 = cpu.X86.HasAVX2

// hasGemv4 reports whether GEMM path kind runs the 4-bit GEMV: AVX-512 VNNI its own, AVX2
// and AVX-VNNI the AVX2 one (VPMADDUBSW on unsigned nibbles is as fast as a 256-bit
// VPDPBUSD here: it needs no activation offset and widens only every 8 K groups).
func hasGemv4(kind kernelKind) bool {
	return kind == kindVNNI || kind == kindAVX2 || kind == kindAVXVNNI
}

// gemv4AVX2x2 computes c[0:32] = W·a for 2 panels in the 4-bit layout minus adj = 8·Σa
// (the nibbles' offset), a the Stride activation bytes.
//
//go:noescape
func gemv4AVX2x2(a *int8, w *byte, pstride int, pairs int, c *int32, adj int32)

// gemv4AVX2x1 is gemv4AVX2x2 for one panel.
//
//go:noescape
func gemv4AVX2x1(a *int8, w *byte, pstride int, pairs int, c *int32, adj int32)

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
	if kind != kindVNNI {
		gemv4AVX2(c, a, w, pstride, pairs)
		return
	}
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

// gemv4AVX2 is gemv4 on the AVX2 kernels, two panels per call.
func gemv4AVX2(c []int32, a []int8, w *Matrix, pstride, pairs int) {
	var sum int32
	for _, v := range a[:w.kp] {
		sum += int32(v)
	}
	adj := 8 * sum
	p := 0
	for ; p+2 <= w.panels && (p+2)*panelCols <= w.Rows; p += 2 {
		gemv4AVX2x2(&a[0], &w.nib[p*pstride], pstride, pairs, &c[p*panelCols], adj)
	}
	var tile [panelCols]int32
	for ; p < w.panels; p++ {
		j0 := p * panelCols
		if j0+panelCols <= w.Rows {
			gemv4AVX2x1(&a[0], &w.nib[p*pstride], pstride, pairs, &c[j0], adj)
			continue
		}
		gemv4AVX2x1(&a[0], &w.nib[p*pstride], pstride, pairs, &tile[0], adj)
		copy(c[j0:w.Rows], tile[:])
	}
}
