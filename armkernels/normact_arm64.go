package armkernels

// normStatsNEON is NormStats over channels [0, cb) of rows ≥ 1 rows of c channels, cb a
// positive multiple of 4 (normact_neon_arm64.s): SADDW widens each int32 into the int64 sum,
// SMLAL adds its exact square, wrapping as Go's int64 adds do. The Go loop it implements:
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
func normStatsNEON(s1, s2 *int64, acc *int32, rows, c, cb int)

// normSiLUNEON is NormSiLU over channels [0, cb) of rows ≥ 1 rows, cb a positive multiple of
// 4, on 4-lane NEON: Exp32 inline (the operations of expNEON), FDIV, then requant8 as FMUL,
// FADD, FCVTNS and two saturating narrows. zf is float32(zero); k points at normConsts. The
// Go loop it implements (normSiLUGo; Go fuses none of its operations on arm64):
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < cb; j++ {
//			y := float32(float32(acc[i*c+j]-mi[j])*a[j]) + b[j]
//			out[i*ostride+j] = requant8(y/(1+Exp32(-y)), inv, zero)
//		}
//	}
//
//go:noescape
func normSiLUNEON(out *int8, ostride int, acc *int32, rows, c, cb int, mi *int32, a, b *float32, inv, zf float32, k *float32)

// normStatsBlocks runs NormStats' whole blocks of 4 channels in NEON and returns how many
// channels it did.
func normStatsBlocks(h helperLevel, s1, s2 []int64, acc []int32, c int) int {
	cb := neonPrefix(h, c)
	if cb > 0 {
		normStatsNEON(&s1[0], &s2[0], &acc[0], len(acc)/c, c, cb)
	}
	return cb
}

// normSiLUBlocks runs NormSiLU's whole blocks of 4 channels in NEON and returns how many.
func normSiLUBlocks(h helperLevel, out []int8, ostride int, acc []int32, c int, mi []int32, a, b []float32, inv float32, zero int32) int {
	cb := neonPrefix(h, c)
	if cb > 0 {
		normSiLUNEON(&out[0], ostride, &acc[0], len(acc)/c, c, cb, &mi[0], &a[0], &b[0], inv, float32(zero), &normConsts[0])
	}
	return cb
}
