#include "textflag.h"

// NEON (ARMv8.0 Advanced SIMD, baseline on arm64: no feature check) versions of the
// elementwise helpers. Go's assembler lacks most vector float and narrowing mnemonics, so
// those are WORDs with the GNU mnemonic beside them; the differential tests in
// requant_test.go, exp_test.go and ties_test.go cover every line. Every float operation is
// the Go reference's, in its order, one rounding each (no fused multiply-add, except where
// Go itself fuses on arm64: MulAdd's FMLA, LayerNorm's FMLA), so the results are bit-identical.

// func quantizeNEON(dst *int8, src *float32, n int, invScale float32)
// n a positive multiple of 4. FCVTNS rounds half to even like the Go magic-number
// rounding, turns NaN into 0 and saturates; the saturating narrows and a max with -127
// clamp to [-127, 127].
TEXT ·quantizeNEON(SB), NOSPLIT, $0-28
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	FMOVS invScale+24(FP), F31
	WORD $0x4e0407ff // dup v31.4s, v31.s[0]
	WORD $0x4f04e43e // movi v30.16b, #0x81
q16:
	CMP $16, R2
	BLT q4
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	WORD $0x6e3fdc00 // fmul v0.4s, v0.4s, v31.4s
	WORD $0x6e3fdc21 // fmul v1.4s, v1.4s, v31.4s
	WORD $0x6e3fdc42 // fmul v2.4s, v2.4s, v31.4s
	WORD $0x6e3fdc63 // fmul v3.4s, v3.4s, v31.4s
	WORD $0x4e21a800 // fcvtns v0.4s, v0.4s
	WORD $0x4e21a821 // fcvtns v1.4s, v1.4s
	WORD $0x4e21a842 // fcvtns v2.4s, v2.4s
	WORD $0x4e21a863 // fcvtns v3.4s, v3.4s
	WORD $0x0e614804 // sqxtn v4.4h, v0.4s
	WORD $0x4e614824 // sqxtn2 v4.8h, v1.4s
	WORD $0x0e614845 // sqxtn v5.4h, v2.4s
	WORD $0x4e614865 // sqxtn2 v5.8h, v3.4s
	WORD $0x0e214886 // sqxtn v6.8b, v4.8h
	WORD $0x4e2148a6 // sqxtn2 v6.16b, v5.8h
	WORD $0x4e3e64c6 // smax v6.16b, v6.16b, v30.16b
	VST1.P [V6.B16], 16(R0)
	SUB $16, R2, R2
	B q16
q4:
	CBZ R2, qdone
	VLD1.P 16(R1), [V0.S4]
	WORD $0x6e3fdc00 // fmul v0.4s, v0.4s, v31.4s
	WORD $0x4e21a800 // fcvtns v0.4s, v0.4s
	WORD $0x0e614804 // sqxtn v4.4h, v0.4s
	WORD $0x0e214886 // sqxtn v6.8b, v4.8h
	WORD $0x0e3e64c6 // smax v6.8b, v6.8b, v30.8b
	VMOV V6.S[0], R3
	MOVW R3, (R0)
	ADD $4, R0, R0
	SUB $4, R2, R2
	B q4
qdone:
	RET

// func quantizeAffineNEON(dst *int8, src *float32, n int, invScale float32, zero int32)
// n a positive multiple of 4. Per value: v = float32(x·invScale) + float32(zero), rounded
// half to even and saturated to [-128, 127] (FCVTNS, SQXTN, SQXTN); NaN becomes zero.
TEXT ·quantizeAffineNEON(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	FMOVS invScale+24(FP), F31
	WORD $0x4e0407ff // dup v31.4s, v31.s[0]
	MOVW zero+28(FP), R3
	WORD $0x4e040c7d // dup v29.4s, w3
	WORD $0x4e21dbbe // scvtf v30.4s, v29.4s
a4:
	CBZ R2, adone
	VLD1.P 16(R1), [V0.S4]
	WORD $0x6e3fdc00 // fmul v0.4s, v0.4s, v31.4s
	WORD $0x4e3ed400 // fadd v0.4s, v0.4s, v30.4s
	WORD $0x4e20e401 // fcmeq v1.4s, v0.4s, v0.4s
	WORD $0x4e21a800 // fcvtns v0.4s, v0.4s
	WORD $0x6ee11fa0 // bif v0.16b, v29.16b, v1.16b
	WORD $0x0e614804 // sqxtn v4.4h, v0.4s
	WORD $0x0e214886 // sqxtn v6.8b, v4.8h
	VMOV V6.S[0], R4
	MOVW R4, (R0)
	ADD $4, R0, R0
	SUB $4, R2, R2
	B a4
adone:
	RET

// func reluRequantNEON(out *int8, acc *int32, rows, c int, mul, bias *float32, zero int32)
// c a positive multiple of 4. Per value: q = int32(float32(float32(acc)·mul[j]) + bias[j] +
// 0.5) (SCVTF, FMUL, FADD, FADD, FCVTZS truncating), then min(max(q, 0), 127−zero) + zero
// computed as max(sat8(q + zero), zero) (SQADD, SQXTN, SQXTN, SMAX): the same for every q.
TEXT ·reluRequantNEON(SB), NOSPLIT, $0-52
	MOVD out+0(FP), R0
	MOVD acc+8(FP), R1
	MOVD rows+16(FP), R2
	MOVD c+24(FP), R3
	MOVD mul+32(FP), R4
	MOVD bias+40(FP), R5
	MOVW zero+48(FP), R6
	WORD $0x4e040cdc // dup v28.4s, w6
	WORD $0x4e010cdd // dup v29.16b, w6
	WORD $0x4f03f41e // fmov v30.4s, #0.5
rrow:
	MOVD R4, R8
	MOVD R5, R9
	MOVD R3, R10
r16:
	CMP $16, R10
	BLT r4
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R8), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R9), [V16.S4, V17.S4, V18.S4, V19.S4]
	WORD $0x4e21d800 // scvtf v0.4s, v0.4s
	WORD $0x4e21d821 // scvtf v1.4s, v1.4s
	WORD $0x4e21d842 // scvtf v2.4s, v2.4s
	WORD $0x4e21d863 // scvtf v3.4s, v3.4s
	WORD $0x6e24dc00 // fmul v0.4s, v0.4s, v4.4s
	WORD $0x6e25dc21 // fmul v1.4s, v1.4s, v5.4s
	WORD $0x6e26dc42 // fmul v2.4s, v2.4s, v6.4s
	WORD $0x6e27dc63 // fmul v3.4s, v3.4s, v7.4s
	WORD $0x4e30d400 // fadd v0.4s, v0.4s, v16.4s
	WORD $0x4e31d421 // fadd v1.4s, v1.4s, v17.4s
	WORD $0x4e32d442 // fadd v2.4s, v2.4s, v18.4s
	WORD $0x4e33d463 // fadd v3.4s, v3.4s, v19.4s
	WORD $0x4e3ed400 // fadd v0.4s, v0.4s, v30.4s
	WORD $0x4e3ed421 // fadd v1.4s, v1.4s, v30.4s
	WORD $0x4e3ed442 // fadd v2.4s, v2.4s, v30.4s
	WORD $0x4e3ed463 // fadd v3.4s, v3.4s, v30.4s
	WORD $0x4ea1b800 // fcvtzs v0.4s, v0.4s
	WORD $0x4ea1b821 // fcvtzs v1.4s, v1.4s
	WORD $0x4ea1b842 // fcvtzs v2.4s, v2.4s
	WORD $0x4ea1b863 // fcvtzs v3.4s, v3.4s
	WORD $0x4ebc0c00 // sqadd v0.4s, v0.4s, v28.4s
	WORD $0x4ebc0c21 // sqadd v1.4s, v1.4s, v28.4s
	WORD $0x4ebc0c42 // sqadd v2.4s, v2.4s, v28.4s
	WORD $0x4ebc0c63 // sqadd v3.4s, v3.4s, v28.4s
	WORD $0x0e614804 // sqxtn v4.4h, v0.4s
	WORD $0x4e614824 // sqxtn2 v4.8h, v1.4s
	WORD $0x0e614845 // sqxtn v5.4h, v2.4s
	WORD $0x4e614865 // sqxtn2 v5.8h, v3.4s
	WORD $0x0e214886 // sqxtn v6.8b, v4.8h
	WORD $0x4e2148a6 // sqxtn2 v6.16b, v5.8h
	WORD $0x4e3d64c6 // smax v6.16b, v6.16b, v29.16b
	VST1.P [V6.B16], 16(R0)
	SUB $16, R10, R10
	B r16
r4:
	CBZ R10, rnext
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R8), [V4.S4]
	VLD1.P 16(R9), [V16.S4]
	WORD $0x4e21d800 // scvtf v0.4s, v0.4s
	WORD $0x6e24dc00 // fmul v0.4s, v0.4s, v4.4s
	WORD $0x4e30d400 // fadd v0.4s, v0.4s, v16.4s
	WORD $0x4e3ed400 // fadd v0.4s, v0.4s, v30.4s
	WORD $0x4ea1b800 // fcvtzs v0.4s, v0.4s
	WORD $0x4ebc0c00 // sqadd v0.4s, v0.4s, v28.4s
	WORD $0x0e614804 // sqxtn v4.4h, v0.4s
	WORD $0x0e214886 // sqxtn v6.8b, v4.8h
	WORD $0x0e3d64c6 // smax v6.8b, v6.8b, v29.8b
	VMOV V6.S[0], R11
	MOVW R11, (R0)
	ADD $4, R0, R0
	SUB $4, R10, R10
	B r4
rnext:
	SUBS $1, R2, R2
	BNE rrow
	RET

// func addInt32RowsNEON(dst *int32, dstStride int, src *int32, srcStride, rows, n int)
// For each of rows runs (strides in bytes): dst[i] += src[i] for n values, n a positive
// multiple of 4; 16 at a time while it can.
TEXT ·addInt32RowsNEON(SB), NOSPLIT, $0-48
	MOVD dst+0(FP), R0
	MOVD dstStride+8(FP), R4
	MOVD src+16(FP), R1
	MOVD srcStride+24(FP), R5
	MOVD rows+32(FP), R3
	MOVD n+40(FP), R2
xrow:
	MOVD R0, R6
	MOVD R1, R7
	MOVD R2, R8
x16:
	CMP $16, R8
	BLT x4
	VLD1.P 64(R7), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1 (R6), [V4.S4, V5.S4, V6.S4, V7.S4]
	VADD V0.S4, V4.S4, V4.S4
	VADD V1.S4, V5.S4, V5.S4
	VADD V2.S4, V6.S4, V6.S4
	VADD V3.S4, V7.S4, V7.S4
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R6)
	SUB $16, R8, R8
	B x16
x4:
	CBZ R8, xnext
	VLD1.P 16(R7), [V0.S4]
	VLD1 (R6), [V4.S4]
	VADD V0.S4, V4.S4, V4.S4
	VST1.P [V4.S4], 16(R6)
	SUB $4, R8, R8
	B x4
xnext:
	ADD R4, R0, R0
	ADD R5, R1, R1
	SUBS $1, R3, R3
	BNE xrow
	RET

// func expNEON(dst, src *float32, n int, c *float32)
// Exp32 on n values, n a positive multiple of 4; c points at expConsts. The same float32
// operations as Exp32 in the same order, each rounded once: FMAX/FMIN clamp (NaN stays
// NaN), n by the magic-number rounding, r = (x − n·ln2hi) − n·ln2lo, the Horner steps
// as separate FMUL and FADD, 2ⁿ from FCVTZS (n is integral), +127, << 23.
TEXT ·expNEON(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD n+16(FP), R2
	MOVD c+24(FP), R3
	VLD1 (R3), [V16.S4, V17.S4, V18.S4]
	WORD $0x4e040614 // dup v20.4s, v16.s[0]
	WORD $0x4e0c0615 // dup v21.4s, v16.s[1]
	WORD $0x4e140616 // dup v22.4s, v16.s[2]
	WORD $0x4e1c0617 // dup v23.4s, v16.s[3]
	WORD $0x4e040638 // dup v24.4s, v17.s[0]
	WORD $0x4e0c0639 // dup v25.4s, v17.s[1]
	WORD $0x4e14063a // dup v26.4s, v17.s[2]
	WORD $0x4e1c063b // dup v27.4s, v17.s[3]
	WORD $0x4e04065c // dup v28.4s, v18.s[0]
	WORD $0x4e0c065d // dup v29.4s, v18.s[1]
	WORD $0x4e14065e // dup v30.4s, v18.s[2]
	WORD $0x4e1c065f // dup v31.4s, v18.s[3]
	WORD $0x4f0307f3 // movi v19.4s, #127
e4:
	CBZ R2, edone
	VLD1.P 16(R1), [V0.S4]
	WORD $0x4e34f400 // fmax v0.4s, v0.4s, v20.4s
	WORD $0x4eb5f400 // fmin v0.4s, v0.4s, v21.4s
	WORD $0x6e36dc01 // fmul v1.4s, v0.4s, v22.4s
	WORD $0x4e37d421 // fadd v1.4s, v1.4s, v23.4s
	WORD $0x4eb7d421 // fsub v1.4s, v1.4s, v23.4s
	WORD $0x6e38dc22 // fmul v2.4s, v1.4s, v24.4s
	WORD $0x4ea2d402 // fsub v2.4s, v0.4s, v2.4s
	WORD $0x6e39dc23 // fmul v3.4s, v1.4s, v25.4s
	WORD $0x4ea3d442 // fsub v2.4s, v2.4s, v3.4s
	WORD $0x6e22df43 // fmul v3.4s, v26.4s, v2.4s
	WORD $0x4e3bd463 // fadd v3.4s, v3.4s, v27.4s
	WORD $0x6e22dc63 // fmul v3.4s, v3.4s, v2.4s
	WORD $0x4e3cd463 // fadd v3.4s, v3.4s, v28.4s
	WORD $0x6e22dc63 // fmul v3.4s, v3.4s, v2.4s
	WORD $0x4e3dd463 // fadd v3.4s, v3.4s, v29.4s
	WORD $0x6e22dc63 // fmul v3.4s, v3.4s, v2.4s
	WORD $0x4e3ed463 // fadd v3.4s, v3.4s, v30.4s
	WORD $0x6e22dc63 // fmul v3.4s, v3.4s, v2.4s
	WORD $0x4e3fd463 // fadd v3.4s, v3.4s, v31.4s
	WORD $0x6e22dc63 // fmul v3.4s, v3.4s, v2.4s
	WORD $0x4e3fd463 // fadd v3.4s, v3.4s, v31.4s
	WORD $0x4ea1b824 // fcvtzs v4.4s, v1.4s
	VADD V19.S4, V4.S4, V4.S4
	WORD $0x4f375484 // shl v4.4s, v4.4s, #23
	WORD $0x6e24dc60 // fmul v0.4s, v3.4s, v4.4s
	VST1.P [V0.S4], 16(R0)
	SUB $4, R2, R2
	B e4
edone:
	RET

// func mulAddNEON(a, w *float32, n int, v float32)
TEXT ·mulAddNEON(SB), NOSPLIT, $0-28
	MOVD  a+0(FP), R0
	MOVD  w+8(FP), R1
	MOVD  n+16(FP), R2
	FMOVS v+24(FP), F31
	WORD  $0x4e0407ff  // dup v31.4s, v31.s[0]
	MOVD  R0, R3       // store pointer, trailing the load pointer

muladd16:
	CMP  $16, R2
	BLT  muladd4
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x4e24cfe0 // fmla v0.4s, v31.4s, v4.4s
	WORD $0x4e25cfe1 // fmla v1.4s, v31.4s, v5.4s
	WORD $0x4e26cfe2 // fmla v2.4s, v31.4s, v6.4s
	WORD $0x4e27cfe3 // fmla v3.4s, v31.4s, v7.4s
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R3)
	SUB  $16, R2
	B    muladd16

muladd4:
	CBZ  R2, muladddone
	VLD1.P 16(R0), [V0.S4]
	VLD1.P 16(R1), [V4.S4]
	WORD $0x4e24cfe0 // fmla v0.4s, v31.4s, v4.4s
	VST1.P [V0.S4], 16(R3)
	SUB  $4, R2
	B    muladd4

muladddone:
	RET

// func lnSumNEON(x *float32, n int, s *[4]float64)
// n a positive multiple of 4. V0 holds sums 0 and 1, V1 sums 2 and 3: FCVTL/FCVTL2 widen
// lanes 0-1 and 2-3 of each block of four, so each lane adds its values in Go's order.
TEXT ·lnSumNEON(SB), NOSPLIT, $0-24
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	MOVD s+16(FP), R2
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16

lnsum16:
	CMP $16, R1
	BLT lnsum4
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x0e617890 // fcvtl v16.2d, v4.2s
	WORD $0x4e617891 // fcvtl2 v17.2d, v4.4s
	WORD $0x0e6178b2 // fcvtl v18.2d, v5.2s
	WORD $0x4e6178b3 // fcvtl2 v19.2d, v5.4s
	WORD $0x0e6178d4 // fcvtl v20.2d, v6.2s
	WORD $0x4e6178d5 // fcvtl2 v21.2d, v6.4s
	WORD $0x0e6178f6 // fcvtl v22.2d, v7.2s
	WORD $0x4e6178f7 // fcvtl2 v23.2d, v7.4s
	WORD $0x4e70d400 // fadd v0.2d, v0.2d, v16.2d
	WORD $0x4e71d421 // fadd v1.2d, v1.2d, v17.2d
	WORD $0x4e72d400 // fadd v0.2d, v0.2d, v18.2d
	WORD $0x4e73d421 // fadd v1.2d, v1.2d, v19.2d
	WORD $0x4e74d400 // fadd v0.2d, v0.2d, v20.2d
	WORD $0x4e75d421 // fadd v1.2d, v1.2d, v21.2d
	WORD $0x4e76d400 // fadd v0.2d, v0.2d, v22.2d
	WORD $0x4e77d421 // fadd v1.2d, v1.2d, v23.2d
	SUB $16, R1
	B lnsum16

lnsum4:
	CBZ R1, lnsumdone
	VLD1.P 16(R0), [V4.S4]
	WORD $0x0e617890 // fcvtl v16.2d, v4.2s
	WORD $0x4e617891 // fcvtl2 v17.2d, v4.4s
	WORD $0x4e70d400 // fadd v0.2d, v0.2d, v16.2d
	WORD $0x4e71d421 // fadd v1.2d, v1.2d, v17.2d
	SUB $4, R1
	B lnsum4

lnsumdone:
	VST1 [V0.D2, V1.D2], (R2)
	RET

// func lnSqNEON(x *float32, n int, mean float64, s *[4]float64)
// As lnSumNEON, over d = float64(x) − mean (FSUB, rounded) with s += d·d fused (FMLA), as
// Go's FMADDD.
TEXT ·lnSqNEON(SB), NOSPLIT, $0-32
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	FMOVD mean+16(FP), F31
	MOVD s+24(FP), R2
	WORD $0x4e0807ff // dup v31.2d, v31.d[0]
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16

lnsq16:
	CMP $16, R1
	BLT lnsq4
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x0e617890 // fcvtl v16.2d, v4.2s
	WORD $0x4e617891 // fcvtl2 v17.2d, v4.4s
	WORD $0x0e6178b2 // fcvtl v18.2d, v5.2s
	WORD $0x4e6178b3 // fcvtl2 v19.2d, v5.4s
	WORD $0x0e6178d4 // fcvtl v20.2d, v6.2s
	WORD $0x4e6178d5 // fcvtl2 v21.2d, v6.4s
	WORD $0x0e6178f6 // fcvtl v22.2d, v7.2s
	WORD $0x4e6178f7 // fcvtl2 v23.2d, v7.4s
	WORD $0x4effd610 // fsub v16.2d, v16.2d, v31.2d
	WORD $0x4effd631 // fsub v17.2d, v17.2d, v31.2d
	WORD $0x4effd652 // fsub v18.2d, v18.2d, v31.2d
	WORD $0x4effd673 // fsub v19.2d, v19.2d, v31.2d
	WORD $0x4effd694 // fsub v20.2d, v20.2d, v31.2d
	WORD $0x4effd6b5 // fsub v21.2d, v21.2d, v31.2d
	WORD $0x4effd6d6 // fsub v22.2d, v22.2d, v31.2d
	WORD $0x4effd6f7 // fsub v23.2d, v23.2d, v31.2d
	WORD $0x4e70ce00 // fmla v0.2d, v16.2d, v16.2d
	WORD $0x4e71ce21 // fmla v1.2d, v17.2d, v17.2d
	WORD $0x4e72ce40 // fmla v0.2d, v18.2d, v18.2d
	WORD $0x4e73ce61 // fmla v1.2d, v19.2d, v19.2d
	WORD $0x4e74ce80 // fmla v0.2d, v20.2d, v20.2d
	WORD $0x4e75cea1 // fmla v1.2d, v21.2d, v21.2d
	WORD $0x4e76cec0 // fmla v0.2d, v22.2d, v22.2d
	WORD $0x4e77cee1 // fmla v1.2d, v23.2d, v23.2d
	SUB $16, R1
	B lnsq16

lnsq4:
	CBZ R1, lnsqdone
	VLD1.P 16(R0), [V4.S4]
	WORD $0x0e617890 // fcvtl v16.2d, v4.2s
	WORD $0x4e617891 // fcvtl2 v17.2d, v4.4s
	WORD $0x4effd610 // fsub v16.2d, v16.2d, v31.2d
	WORD $0x4effd631 // fsub v17.2d, v17.2d, v31.2d
	WORD $0x4e70ce00 // fmla v0.2d, v16.2d, v16.2d
	WORD $0x4e71ce21 // fmla v1.2d, v17.2d, v17.2d
	SUB $4, R1
	B lnsq4

lnsqdone:
	VST1 [V0.D2, V1.D2], (R2)
	RET

// func lnApplyNEON(y, x, gain, bias *float32, n int, mean, inv float32)
// n a positive multiple of 4: t = (x−mean)·inv (FSUB, FMUL), then b + t·g in one rounding
// (FMLA into the loaded b), as Go's FMADDS.
TEXT ·lnApplyNEON(SB), NOSPLIT, $0-48
	MOVD y+0(FP), R0
	MOVD x+8(FP), R1
	MOVD gain+16(FP), R2
	MOVD bias+24(FP), R3
	MOVD n+32(FP), R4
	FMOVS mean+40(FP), F30
	FMOVS inv+44(FP), F31
	WORD $0x4e0407de // dup v30.4s, v30.s[0]
	WORD $0x4e0407ff // dup v31.4s, v31.s[0]

lnapply16:
	CMP $16, R4
	BLT lnapply4
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R3), [V8.S4, V9.S4, V10.S4, V11.S4]
	WORD $0x4ebed400 // fsub v0.4s, v0.4s, v30.4s
	WORD $0x4ebed421 // fsub v1.4s, v1.4s, v30.4s
	WORD $0x4ebed442 // fsub v2.4s, v2.4s, v30.4s
	WORD $0x4ebed463 // fsub v3.4s, v3.4s, v30.4s
	WORD $0x6e3fdc00 // fmul v0.4s, v0.4s, v31.4s
	WORD $0x6e3fdc21 // fmul v1.4s, v1.4s, v31.4s
	WORD $0x6e3fdc42 // fmul v2.4s, v2.4s, v31.4s
	WORD $0x6e3fdc63 // fmul v3.4s, v3.4s, v31.4s
	WORD $0x4e24cc08 // fmla v8.4s, v0.4s, v4.4s
	WORD $0x4e25cc29 // fmla v9.4s, v1.4s, v5.4s
	WORD $0x4e26cc4a // fmla v10.4s, v2.4s, v6.4s
	WORD $0x4e27cc6b // fmla v11.4s, v3.4s, v7.4s
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], 64(R0)
	SUB $16, R4
	B lnapply16

lnapply4:
	CBZ R4, lnapplydone
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R2), [V4.S4]
	VLD1.P 16(R3), [V8.S4]
	WORD $0x4ebed400 // fsub v0.4s, v0.4s, v30.4s
	WORD $0x6e3fdc00 // fmul v0.4s, v0.4s, v31.4s
	WORD $0x4e24cc08 // fmla v8.4s, v0.4s, v4.4s
	VST1.P [V8.S4], 16(R0)
	SUB $4, R4
	B lnapply4

lnapplydone:
	RET

// func stackRGBNEON(dst *int8, image *uint8, rowLen, rows, pairs int, idx *byte)
// rows ≥ 0, pairs ≥ 1. R4-R7 walk the 4 image rows of an output row, 12 bytes a pair;
// output rows start 2·rowLen apart in the image and follow each other in dst.
TEXT ·stackRGBNEON(SB), NOSPLIT, $0-48
	MOVD dst+0(FP), R0
	MOVD image+8(FP), R1
	MOVD rowLen+16(FP), R2
	MOVD rows+24(FP), R3
	MOVD pairs+32(FP), R9
	MOVD idx+40(FP), R10
	VLD1 (R10), [V24.B16, V25.B16, V26.B16]
	WORD $0x4f04e41f // movi v31.16b, #0x80
	MOVD $12, R8
	LSL  $1, R2, R11

stackrow:
	CBZ  R3, stackdone
	MOVD R1, R4
	ADD  R2, R4, R5
	ADD  R2, R5, R6
	ADD  R2, R6, R7
	MOVD R9, R12

stackpair:
	WORD $0x4cc87080 // ld1 {v0.16b}, [x4], x8
	WORD $0x4cc870a1 // ld1 {v1.16b}, [x5], x8
	WORD $0x4cc870c2 // ld1 {v2.16b}, [x6], x8
	WORD $0x4cc870e3 // ld1 {v3.16b}, [x7], x8
	WORD $0x4e186004 // tbl v4.16b, {v0.16b-v3.16b}, v24.16b
	WORD $0x4e196005 // tbl v5.16b, {v0.16b-v3.16b}, v25.16b
	WORD $0x4e1a6006 // tbl v6.16b, {v0.16b-v3.16b}, v26.16b
	WORD $0x6e3f1c84 // eor v4.16b, v4.16b, v31.16b
	WORD $0x6e3f1ca5 // eor v5.16b, v5.16b, v31.16b
	WORD $0x6e3f1cc6 // eor v6.16b, v6.16b, v31.16b
	VST1.P [V4.B16, V5.B16, V6.B16], 48(R0)
	SUBS $1, R12
	BNE  stackpair
	ADD  R11, R1
	SUB  $1, R3
	B    stackrow

stackdone:
	RET

// func copyRowsNEON(dst *int8, dstStride int, src *int8, srcStride, rows, n int)
// rows ≥ 1, n a positive multiple of 16.
TEXT ·copyRowsNEON(SB), NOSPLIT, $0-48
	MOVD dst+0(FP), R0
	MOVD dstStride+8(FP), R1
	MOVD src+16(FP), R2
	MOVD srcStride+24(FP), R3
	MOVD rows+32(FP), R4
	MOVD n+40(FP), R5

copyrow:
	MOVD R0, R6
	MOVD R2, R7
	MOVD R5, R8

copy64:
	CMP $64, R8
	BLT copy16
	VLD1.P 64(R7), [V0.B16, V1.B16, V2.B16, V3.B16]
	VST1.P [V0.B16, V1.B16, V2.B16, V3.B16], 64(R6)
	SUB $64, R8
	B copy64

copy16:
	CBZ R8, copynext
	VLD1.P 16(R7), [V0.B16]
	VST1.P [V0.B16], 16(R6)
	SUB $16, R8
	B copy16

copynext:
	ADD  R1, R0
	ADD  R3, R2
	SUBS $1, R4
	BNE  copyrow
	RET
