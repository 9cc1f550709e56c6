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
