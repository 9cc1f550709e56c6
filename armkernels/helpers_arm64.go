package armkernels

// The elementwise helpers' NEON code (helpers_neon_arm64.s). Advanced SIMD is baseline on
// arm64, so helperNEON needs no feature check; Kernels values with helpers "go" still run
// the Go loops. The asm does whole blocks of 4 values, Go the tails.

// quantizeNEON is QuantizeRow on n values, n a positive multiple of 4. The Go loop it
// implements (FMUL, FCVTNS, SQXTN, SQXTN, SMAX with -127):
//
//	for i := 0; i < n; i++ {
//		v := float32(src[i] * invScale)
//		if v != v { v = 0 }
//		dst[i] = int8(math.RoundToEven(min(max(v, -127), 127)))
//	}
//
//go:noescape
func quantizeNEON(dst *int8, src *float32, n int, invScale float32)

// quantizeAffineNEON is QuantizeAffine on n values, n a positive multiple of 4:
//
//	for i := 0; i < n; i++ {
//		v := float32(src[i]*invScale) + float32(zero)
//		if v != v { dst[i] = int8(zero); continue }
//		dst[i] = int8(math.RoundToEven(min(max(v, -128), 127)))
//	}
//
//go:noescape
func quantizeAffineNEON(dst *int8, src *float32, n int, invScale float32, zero int32)

// reluRequantNEON is ReluRequant over rows·c values, c a positive multiple of 4:
//
//	for i := 0; i < rows*c; i++ {
//		q := int32(float32(float32(acc[i])*mul[i%c]) + bias[i%c] + 0.5)
//		out[i] = int8(min(max(q, 0), 127-zero) + zero)
//	}
//
//go:noescape
func reluRequantNEON(out *int8, acc *int32, rows, c int, mul, bias *float32, zero int32)

// addInt32RowsNEON adds rows runs of n int32 (n a positive multiple of 4), strides in bytes:
//
//	for r := 0; r < rows; r++ {
//		for i := 0; i < n; i++ { dst[r*dstStride/4+i] += src[r*srcStride/4+i] }
//	}
//
//go:noescape
func addInt32RowsNEON(dst *int32, dstStride int, src *int32, srcStride, rows, n int)

// expNEON is Exp on n values, n a positive multiple of 4, c pointing at expConsts: Exp32's
// float32 operations in Exp32's order, each rounded once (no FMA).
//
//go:noescape
func expNEON(dst, src *float32, n int, c *float32)

// neonPrefix is the longest prefix of n the 4-lane asm handles under level h, 0 for Go.
func neonPrefix(h helperLevel, n int) int {
	if h != helperNEON {
		return 0
	}
	return n &^ 3
}

func quantizeBlocks(h helperLevel, dst []int8, src []float32, invScale float32) int {
	n := neonPrefix(h, len(src))
	if n > 0 {
		quantizeNEON(&dst[0], &src[0], n, invScale)
	}
	return n
}

func quantizeAffineBlocks(h helperLevel, dst []int8, src []float32, invScale float32, zero int32) int {
	n := neonPrefix(h, len(src))
	if n > 0 {
		quantizeAffineNEON(&dst[0], &src[0], n, invScale, zero)
	}
	return n
}

func reluRequantBlocks(h helperLevel, out []int8, c int, acc []int32, mul, bias []float32, zero int32) bool {
	if h != helperNEON || c%4 != 0 {
		return false
	}
	reluRequantNEON(&out[0], &acc[0], len(out)/c, c, &mul[0], &bias[0], zero)
	return true
}

func addInt32Blocks(h helperLevel, dst, src []int32) int {
	n := neonPrefix(h, len(src))
	if n > 0 {
		addInt32RowsNEON(&dst[0], 0, &src[0], 0, 1, n)
	}
	return n
}

func addInt32RowsBlocks(h helperLevel, dst []int32, dstStride int, src []int32, srcStride, rows, n int) int {
	m := neonPrefix(h, n)
	if m > 0 {
		addInt32RowsNEON(&dst[0], 4*dstStride, &src[0], 4*srcStride, rows, m)
	}
	return m
}

func expBlocks(h helperLevel, dst, src []float32) int {
	n := neonPrefix(h, len(src))
	if n > 0 {
		expNEON(&dst[0], &src[0], n, &expConsts[0])
	}
	return n
}

// mulAddNEON is MulAdd on n values, n a positive multiple of 4, with FMLA because Go fuses
// the loop's multiply-add on arm64 (FMADDS: one rounding per element; v is the first
// multiplicand there and here; only the payload of a NaN result may differ):
//
//	for j := 0; j < n; j++ { a[j] += w[j] * v }
//
//go:noescape
func mulAddNEON(a, w *float32, n int, v float32)

func mulAddBlocks(h helperLevel, a, w []float32, v float32) int {
	n := neonPrefix(h, len(a))
	if n > 0 {
		mulAddNEON(&a[0], &w[0], n, v)
	}
	return n
}

// lnSumNEON adds x's n values (n a positive multiple of 4) into four float64 sums, lane i%4
// of each block of four, starting from zero:
//
//	for i := 0; i < n; i += 4 { for l := range 4 { s[l] += float64(x[i+l]) } }
//
//go:noescape
func lnSumNEON(x *float32, n int, s *[4]float64)

// lnSqNEON is lnSumNEON over squared deviations, FMLA because Go fuses s += d·d on arm64:
//
//	for i := 0; i < n; i += 4 { for l := range 4 { d := float64(x[i+l]) - mean; s[l] += d * d } }
//
//go:noescape
func lnSqNEON(x *float32, n int, mean float64, s *[4]float64)

// lnApplyNEON is LayerNorm's affine step on n values (n a positive multiple of 4); FSUB,
// FMUL, then FMLA because Go fuses t·g + b on arm64:
//
//	for i := 0; i < n; i++ { y[i] = (x[i]-mean)*inv*gain[i] + bias[i] }
//
//go:noescape
func lnApplyNEON(y, x, gain, bias *float32, n int, mean, inv float32)

func lnSumBlocks(h helperLevel, x []float32) (n int, s0, s1, s2, s3 float64) {
	n = neonPrefix(h, len(x))
	if n == 0 {
		return 0, 0, 0, 0, 0
	}
	var s [4]float64
	lnSumNEON(&x[0], n, &s)
	return n, s[0], s[1], s[2], s[3]
}

func lnSqBlocks(h helperLevel, x []float32, mean float64) (n int, s0, s1, s2, s3 float64) {
	n = neonPrefix(h, len(x))
	if n == 0 {
		return 0, 0, 0, 0, 0
	}
	var s [4]float64
	lnSqNEON(&x[0], n, mean, &s)
	return n, s[0], s[1], s[2], s[3]
}

func lnApplyBlocks(h helperLevel, y, x, g, b []float32, mean, inv float32) int {
	n := neonPrefix(h, len(x))
	if n > 0 {
		lnApplyNEON(&y[0], &x[0], &g[0], &b[0], n, mean, inv)
	}
	return n
}

// stackRGBNEON is StackRGB over rows output rows of pairs unit pairs each (2·pairs units of
// a row, rowLen image bytes apart): per pair, one 16-byte load from each of the 4 image rows
// (reading 4 bytes past the pair's 12), three TBLs with the index vectors idx, an EOR with
// 0x80 and a 48-byte store. The caller keeps the over-read inside the image.
//
//go:noescape
func stackRGBNEON(dst *int8, image *uint8, rowLen, rows, pairs int, idx *byte)

// stackIdx maps the 48 bytes of two units to the 4 rows × 16 bytes of TBL's table: output
// byte o is unit o/24, kernel row (o%24)/6, byte o%6 of that unit's 6.
var stackIdx = func() (t [48]byte) {
	for o := range t {
		t[o] = byte(16*((o%24)/6) + 6*(o/24) + o%6)
	}
	return t
}()

func stackRGBBlocks(h helperLevel, dst []int8, image []uint8, w, ho int) bool {
	per := w / 2
	if h != helperNEON || per%2 != 0 {
		return false
	}
	rowLen, pairs := 3*w, per/2
	// Output rows whose last 16-byte load (4 bytes past its row) stays inside the image.
	rows := 0
	if len(image) >= 4*rowLen+4 {
		rows = min(ho, (len(image)-4-4*rowLen)/(2*rowLen)+1)
	}
	stackRGBNEON(&dst[0], &image[0], rowLen, rows, pairs, &stackIdx[0])
	for oy := rows; oy < ho; oy++ {
		// The image's last row: every pair but the last by NEON, the last in Go.
		d := dst[oy*per*24:]
		src := image[2*oy*rowLen:]
		if pairs > 1 {
			stackRGBNEON(&d[0], &src[0], rowLen, 1, pairs-1, &stackIdx[0])
		}
		for o := 48 * (pairs - 1); o < 48*pairs; o++ {
			u, ky, i := o/24, (o%24)/6, o%6
			d[o] = int8(src[ky*rowLen+6*u+i] ^ 0x80)
		}
	}
	return true
}

// copyRowsNEON copies rows ≥ 1 runs of n bytes (n a positive multiple of 16), strides in
// bytes, with 64- and 16-byte LD1/ST1:
//
//	for r := 0; r < rows; r++ { copy(dst[r*dstStride:][:n], src[r*srcStride:][:n]) }
//
//go:noescape
func copyRowsNEON(dst *int8, dstStride int, src *int8, srcStride, rows, n int)

func copyRowsBlocks(h helperLevel, dst []int8, dstStride int, src []int8, srcStride, rows, n int) int {
	if h != helperNEON || n < 16 {
		return 0
	}
	m := n &^ 15
	copyRowsNEON(&dst[0], dstStride, &src[0], srcStride, rows, m)
	return m
}
