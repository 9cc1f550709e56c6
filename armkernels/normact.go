package armkernels

import (
	"fmt"
	"math"
)

// NormStats adds each channel's sum and sum of squares over the rows of c channels in acc
// (rows = len(acc)/c): s1[j] += Σ_i acc[i·c+j], s2[j] += Σ_i acc[i·c+j]², in int64, wrapping
// as Go does (exact while the caller keeps rows·acc² below 2⁶³). They are the InstanceNorm
// statistics of a conv's int32 GEMM result, taken before any dequantisation. len(acc) must be
// a multiple of c and s1, s2 hold at least c values (it panics otherwise). It does not
// allocate.
func (k *Kernels) NormStats(s1, s2 []int64, acc []int32, c int) {
	if c <= 0 || len(acc)%c != 0 || len(s1) < c || len(s2) < c {
		panic(fmt.Sprintf("armkernels: NormStats with c %d, acc %d, s1 %d, s2 %d", c, len(acc), len(s1), len(s2)))
	}
	if len(acc) == 0 {
		return
	}
	// The Go loop walks every row even with no channels left: skip it then.
	if m := normStatsBlocks(k.helper, s1, s2, acc, c); m < c {
		normStatsGo(s1, s2, acc, c, m)
	}
}

// normStatsGo is NormStats in Go over channels [j0, c), the reference for the asm.
func normStatsGo(s1, s2 []int64, acc []int32, c, j0 int) {
	s1, s2 = s1[j0:c], s2[j0:c]
	for i := 0; i+c <= len(acc); i += c {
		row := acc[i+j0 : i+c]
		row = row[:len(s1)]
		for j, v := range row {
			s1[j] += int64(v)
			s2[j] += int64(v) * int64(v)
		}
	}
}

// NormSiLU is the fused epilogue of a normalised conv with a SiLU whose output feeds another
// int8 layer. Over rows of c channels (rows = len(acc)/c), for each value
//
//	y = float32(acc[i·c+j] − mi[j])·a[j] + b[j]
//	s = y / (1 + Exp32(−y))                                  (SiLU)
//	out[i·ostride+j] = clamp(roundHalfEven(s·inv + zero), −128, 127)
//
// with every operation rounded in float32 in that order (no FMA), so every implementation
// gives the same bits. a and b fold the dequantisation, the normalisation and its affine; mi
// is an integer offset (the rounded channel mean) subtracted exactly first so the product does
// not cancel. a and b must be finite. Bytes of out between c and ostride in each row are not
// written. len(acc) must be a multiple of c, mi, a, b hold at least c values, ostride ≥ c,
// out hold (rows−1)·ostride + c bytes and zero be in [−128, 127] (it panics otherwise). It
// does not allocate.
func (k *Kernels) NormSiLU(out []int8, ostride int, acc []int32, c int, mi []int32, a, b []float32, inv float32, zero int32) {
	if c <= 0 || len(acc)%c != 0 || len(mi) < c || len(a) < c || len(b) < c || ostride < c || zero < -128 || zero > 127 {
		panic(fmt.Sprintf("armkernels: NormSiLU with c %d, acc %d, mi %d, a %d, b %d, ostride %d, zero %d", c, len(acc), len(mi), len(a), len(b), ostride, zero))
	}
	rows := len(acc) / c
	if rows == 0 {
		return
	}
	if len(out) < (rows-1)*ostride+c {
		panic(fmt.Sprintf("armkernels: NormSiLU out holds %d bytes, %d rows of stride %d need %d", len(out), rows, ostride, (rows-1)*ostride+c))
	}
	if m := normSiLUBlocks(k.helper, out, ostride, acc, c, mi, a, b, inv, zero); m < c {
		normSiLUGo(out, ostride, acc, c, m, mi, a, b, inv, zero)
	}
}

// normSiLUGo is NormSiLU in Go over channels [j0, c), the reference for the asm.
func normSiLUGo(out []int8, ostride int, acc []int32, c, j0 int, mi []int32, a, b []float32, inv float32, zero int32) {
	mi, a, b = mi[j0:c], a[j0:c], b[j0:c]
	for r := 0; r*c < len(acc); r++ {
		row := acc[r*c+j0 : r*c+c]
		o := out[r*ostride+j0 : r*ostride+c]
		row, o = row[:len(a)], o[:len(a)]
		for j, v := range row {
			y := float32(float32(v-mi[j])*a[j]) + b[j]
			s := y / (1 + Exp32(-y))
			o[j] = requant8(s, inv, zero)
		}
	}
}

// requant8 is clamp(roundHalfEven(float32(v·inv) + zero), −128, 127) for finite v: the two
// clamps are rarely taken branches and the rounded value is read from the bits of
// v + 1.5·2²³ (the asm does VMINPS, VMAXPS, VADDPS, VPSUBD: the same result).
func requant8(v, inv float32, zero int32) int8 {
	v = float32(v*inv) + float32(zero)
	if v > 127 {
		v = 127
	} else if v < -128 {
		v = -128
	}
	return int8(int32(math.Float32bits(v+roundMagic)) - roundMagicBits)
}

// roundMagicBits is math.Float32bits(roundMagic).
const roundMagicBits = 0x4B400000

// normConsts feeds the NormSiLU asm: expConsts, then −0 (the sign mask), 127, −128, and the
// int32s roundMagicBits and 127 as float32 bits.
var normConsts = [...]float32{-87, 88, log2e, roundMagic, ln2hi, ln2lo,
	1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, float32(math.Copysign(0, -1)), 127, -128,
	math.Float32frombits(roundMagicBits), math.Float32frombits(127)}
