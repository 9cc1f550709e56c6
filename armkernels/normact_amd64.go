package armkernels

// normStatsAVX512 is NormStats over channels [0, cb) of rows rows of c channels, cb a
// positive multiple of 8: VPMOVSXDQ widens 8 int32 to int64, VPMULDQ squares them exactly.
// The Go loop it implements:
//
//	for j := 0; j < cb; j++ {
//		for i := 0; i < rows; i++ {
//			v := int64(acc[i*c+j])
//			s1[j] += v
//			s2[j] += v * v
//		}
//	}
//
//go:noescape
func normStatsAVX512(s1, s2 *int64, acc *int32, rows, c, cb int)

// normStatsAVX2 is normStatsAVX512 on 4 lanes (AVX2), cb a positive multiple of 4.
//
//go:noescape
func normStatsAVX2(s1, s2 *int64, acc *int32, rows, c, cb int)

// normStatsBlocks runs NormStats' whole-block channels in asm and returns how many.
func normStatsBlocks(h helperLevel, s1, s2 []int64, acc []int32, c int) int {
	var cb int
	switch h {
	case helperAVX512:
		cb = c &^ 7
		if cb > 0 {
			normStatsAVX512(&s1[0], &s2[0], &acc[0], len(acc)/c, c, cb)
		}
	case helperAVX2:
		cb = c &^ 3
		if cb > 0 {
			normStatsAVX2(&s1[0], &s2[0], &acc[0], len(acc)/c, c, cb)
		}
	}
	return cb
}

// normSiLUAVX512 is NormSiLU over channels [0, cb) of rows rows, cb a positive multiple of
// 16, on 16 lanes of AVX-512F: Exp32 inline (the operations of expAVX512), VDIVPS, then
// requant8 as VMULPS, VADDPS, VMINPS, VMAXPS, VADDPS magic, VPSUBD magic bits, VPMOVDB.
// zf is float32(zero); k points at normConsts. The Go loop it implements (normSiLUGo):
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < cb; j++ {
//			y := float32(float32(acc[i*c+j]-mi[j])*a[j]) + b[j]
//			out[i*ostride+j] = requant8(y/(1+Exp32(-y)), inv, zero)
//		}
//	}
//
//go:noescape
func normSiLUAVX512(out *int8, ostride int, acc *int32, rows, c, cb int, mi *int32, a, b *float32, inv, zf float32, k *float32)

// normSiLUAVX2 is normSiLUAVX512 on 8 lanes (AVX2), cb a positive multiple of 8.
//
//go:noescape
func normSiLUAVX2(out *int8, ostride int, acc *int32, rows, c, cb int, mi *int32, a, b *float32, inv, zf float32, k *float32)

// normSiLUBlocks runs NormSiLU's whole-block channels in asm and returns how many.
func normSiLUBlocks(h helperLevel, out []int8, ostride int, acc []int32, c int, mi []int32, a, b []float32, inv float32, zero int32) int {
	l := lanes(h)
	if l == 0 || c < l {
		return 0
	}
	cb := c &^ (l - 1)
	rows := len(acc) / c
	if l == 16 {
		normSiLUAVX512(&out[0], ostride, &acc[0], rows, c, cb, &mi[0], &a[0], &b[0], inv, float32(zero), &normConsts[0])
	} else {
		normSiLUAVX2(&out[0], ostride, &acc[0], rows, c, cb, &mi[0], &a[0], &b[0], inv, float32(zero), &normConsts[0])
	}
	return cb
}
