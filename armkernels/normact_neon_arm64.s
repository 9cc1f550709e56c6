#include "textflag.h"

// NEON versions of NormStats and NormSiLU (normact.go), bit-identical to the Go loops: integer
// sums are exact (wrapping as Go's), and NormSiLU does Exp32's, the SiLU's and requant8's float32
// operations in their order, one rounding each (Go fuses none of them on arm64). Channel blocks
// are the outer loop so a block's per-channel constants stay in registers while the rows stream
// past. Vector arithmetic is WORDs with the GNU mnemonic beside them (Go's assembler lacks it);
// TestNormActHelpers and FuzzNormAct cover every line.

// func normStatsNEON(s1, s2 *int64, acc *int32, rows, c, cb int)
// rows ≥ 1, cb a positive multiple of 4: SADDW adds each int32 widened to int64, SMLAL adds its
// exact 64-bit square; 8 channels a block, then one block of 4 when cb%8 = 4.
TEXT ·normStatsNEON(SB), NOSPLIT, $0-48
	MOVD s1+0(FP), R0
	MOVD s2+8(FP), R1
	MOVD acc+16(FP), R2
	MOVD rows+24(FP), R3
	MOVD c+32(FP), R4
	LSL $2, R4, R4
	MOVD cb+40(FP), R5
tblk8:
	CMP $8, R5
	BLT tblk4
	VLD1 (R0), [V16.D2, V17.D2, V18.D2, V19.D2]
	VLD1 (R1), [V20.D2, V21.D2, V22.D2, V23.D2]
	MOVD R2, R11
	MOVD R3, R12
trow8:
	VLD1 (R11), [V0.S4, V1.S4]
	ADD R4, R11, R11
	WORD $0x0ea01210 // saddw v16.2d, v16.2d, v0.2s
	WORD $0x4ea01231 // saddw2 v17.2d, v17.2d, v0.4s
	WORD $0x0ea11252 // saddw v18.2d, v18.2d, v1.2s
	WORD $0x4ea11273 // saddw2 v19.2d, v19.2d, v1.4s
	WORD $0x0ea08014 // smlal v20.2d, v0.2s, v0.2s
	WORD $0x4ea08015 // smlal2 v21.2d, v0.4s, v0.4s
	WORD $0x0ea18036 // smlal v22.2d, v1.2s, v1.2s
	WORD $0x4ea18037 // smlal2 v23.2d, v1.4s, v1.4s
	SUBS $1, R12, R12
	BNE trow8
	VST1.P [V16.D2, V17.D2, V18.D2, V19.D2], 64(R0)
	VST1.P [V20.D2, V21.D2, V22.D2, V23.D2], 64(R1)
	ADD $32, R2, R2
	SUB $8, R5, R5
	B tblk8
tblk4:
	CBZ R5, tdone
	VLD1 (R0), [V16.D2, V17.D2]
	VLD1 (R1), [V20.D2, V21.D2]
	MOVD R2, R11
	MOVD R3, R12
trow4:
	VLD1 (R11), [V0.S4]
	ADD R4, R11, R11
	WORD $0x0ea01210 // saddw v16.2d, v16.2d, v0.2s
	WORD $0x4ea01231 // saddw2 v17.2d, v17.2d, v0.4s
	WORD $0x0ea08014 // smlal v20.2d, v0.2s, v0.2s
	WORD $0x4ea08015 // smlal2 v21.2d, v0.4s, v0.4s
	SUBS $1, R12, R12
	BNE trow4
	VST1 [V16.D2, V17.D2], (R0)
	VST1 [V20.D2, V21.D2], (R1)
tdone:
	RET

// func normSiLUNEON(out *int8, ostride int, acc *int32, rows, c, cb int, mi *int32, a, b *float32, inv, zf float32, k *float32)
// rows ≥ 1, cb a positive multiple of 4; k points at normConsts. V16–V27 hold Exp32's constants
// (−87, 88, log2e, magic, ln2hi, ln2lo, 1/720 … 0.5, 1), V28 inv, V29 zf = float32(zero), V30
// the exponent bias 127; a block's mi, a, b sit in V8–V13. Per 4 values: y = float32(acc−mi)·a
// + b, then Exp32(−y) as expNEON, y/(1+e), and requant8 as FMUL inv, FADD zf, FCVTNS, SQXTN,
// SQXTN: rounding half to even then saturating to int8 is the same as requant8's clamp to
// [−128, 127] then rounding, because the bounds are integers (and both give 0 for NaN, which
// finite a, b and inv never produce). 8 channels a block (two interleaved groups), then one
// block of 4 when cb%8 = 4.
TEXT ·normSiLUNEON(SB), NOSPLIT, $0-88
	MOVD out+0(FP), R0
	MOVD ostride+8(FP), R1
	MOVD acc+16(FP), R2
	MOVD rows+24(FP), R3
	MOVD c+32(FP), R4
	LSL $2, R4, R4
	MOVD cb+40(FP), R5
	MOVD mi+48(FP), R6
	MOVD a+56(FP), R7
	MOVD b+64(FP), R8
	MOVD k+80(FP), R9
	VLD1 (R9), [V16.S4, V17.S4, V18.S4]
	FMOVS inv+72(FP), F28
	FMOVS zf+76(FP), F29
	WORD $0x4e04079c // dup v28.4s, v28.s[0]
	WORD $0x4e0407bd // dup v29.4s, v29.s[0]
	WORD $0x4e040658 // dup v24.4s, v18.s[0]
	WORD $0x4e0c0659 // dup v25.4s, v18.s[1]
	WORD $0x4e14065a // dup v26.4s, v18.s[2]
	WORD $0x4e1c065b // dup v27.4s, v18.s[3]
	WORD $0x4e040634 // dup v20.4s, v17.s[0]
	WORD $0x4e0c0635 // dup v21.4s, v17.s[1]
	WORD $0x4e140636 // dup v22.4s, v17.s[2]
	WORD $0x4e1c0637 // dup v23.4s, v17.s[3]
	WORD $0x4e1c0613 // dup v19.4s, v16.s[3]
	WORD $0x4e140612 // dup v18.4s, v16.s[2]
	WORD $0x4e0c0611 // dup v17.4s, v16.s[1]
	WORD $0x4e040610 // dup v16.4s, v16.s[0]
	WORD $0x4f0307fe // movi v30.4s, #127
sblk8:
	CMP $8, R5
	BLT sblk4
	VLD1.P 32(R6), [V8.S4, V9.S4]
	VLD1.P 32(R7), [V10.S4, V11.S4]
	VLD1.P 32(R8), [V12.S4, V13.S4]
	MOVD R0, R10
	MOVD R2, R11
	MOVD R3, R12
srow8:
	VLD1 (R11), [V0.S4, V1.S4]
	ADD R4, R11, R11
	WORD $0x6ea88400 // sub v0.4s, v0.4s, v8.4s
	WORD $0x6ea98421 // sub v1.4s, v1.4s, v9.4s
	WORD $0x4e21d800 // scvtf v0.4s, v0.4s
	WORD $0x4e21d821 // scvtf v1.4s, v1.4s
	WORD $0x6e2adc00 // fmul v0.4s, v0.4s, v10.4s
	WORD $0x6e2bdc21 // fmul v1.4s, v1.4s, v11.4s
	WORD $0x4e2cd400 // fadd v0.4s, v0.4s, v12.4s
	WORD $0x4e2dd421 // fadd v1.4s, v1.4s, v13.4s
	WORD $0x6ea0f802 // fneg v2.4s, v0.4s
	WORD $0x6ea0f825 // fneg v5.4s, v1.4s
	WORD $0x4e30f442 // fmax v2.4s, v2.4s, v16.4s
	WORD $0x4e30f4a5 // fmax v5.4s, v5.4s, v16.4s
	WORD $0x4eb1f442 // fmin v2.4s, v2.4s, v17.4s
	WORD $0x4eb1f4a5 // fmin v5.4s, v5.4s, v17.4s
	WORD $0x6e32dc43 // fmul v3.4s, v2.4s, v18.4s
	WORD $0x6e32dca6 // fmul v6.4s, v5.4s, v18.4s
	WORD $0x4e33d463 // fadd v3.4s, v3.4s, v19.4s
	WORD $0x4e33d4c6 // fadd v6.4s, v6.4s, v19.4s
	WORD $0x4eb3d463 // fsub v3.4s, v3.4s, v19.4s
	WORD $0x4eb3d4c6 // fsub v6.4s, v6.4s, v19.4s
	WORD $0x6e34dc64 // fmul v4.4s, v3.4s, v20.4s
	WORD $0x6e34dcc7 // fmul v7.4s, v6.4s, v20.4s
	WORD $0x4ea4d444 // fsub v4.4s, v2.4s, v4.4s
	WORD $0x4ea7d4a7 // fsub v7.4s, v5.4s, v7.4s
	WORD $0x6e35dc62 // fmul v2.4s, v3.4s, v21.4s
	WORD $0x6e35dcc5 // fmul v5.4s, v6.4s, v21.4s
	WORD $0x4ea2d484 // fsub v4.4s, v4.4s, v2.4s
	WORD $0x4ea5d4e7 // fsub v7.4s, v7.4s, v5.4s
	WORD $0x6e24dec2 // fmul v2.4s, v22.4s, v4.4s
	WORD $0x6e27dec5 // fmul v5.4s, v22.4s, v7.4s
	WORD $0x4e37d442 // fadd v2.4s, v2.4s, v23.4s
	WORD $0x4e37d4a5 // fadd v5.4s, v5.4s, v23.4s
	WORD $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD $0x6e27dca5 // fmul v5.4s, v5.4s, v7.4s
	WORD $0x4e38d442 // fadd v2.4s, v2.4s, v24.4s
	WORD $0x4e38d4a5 // fadd v5.4s, v5.4s, v24.4s
	WORD $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD $0x6e27dca5 // fmul v5.4s, v5.4s, v7.4s
	WORD $0x4e39d442 // fadd v2.4s, v2.4s, v25.4s
	WORD $0x4e39d4a5 // fadd v5.4s, v5.4s, v25.4s
	WORD $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD $0x6e27dca5 // fmul v5.4s, v5.4s, v7.4s
	WORD $0x4e3ad442 // fadd v2.4s, v2.4s, v26.4s
	WORD $0x4e3ad4a5 // fadd v5.4s, v5.4s, v26.4s
	WORD $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD $0x6e27dca5 // fmul v5.4s, v5.4s, v7.4s
	WORD $0x4e3bd442 // fadd v2.4s, v2.4s, v27.4s
	WORD $0x4e3bd4a5 // fadd v5.4s, v5.4s, v27.4s
	WORD $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD $0x6e27dca5 // fmul v5.4s, v5.4s, v7.4s
	WORD $0x4e3bd442 // fadd v2.4s, v2.4s, v27.4s
	WORD $0x4e3bd4a5 // fadd v5.4s, v5.4s, v27.4s
	WORD $0x4ea1b863 // fcvtzs v3.4s, v3.4s
	WORD $0x4ea1b8c6 // fcvtzs v6.4s, v6.4s
	WORD $0x4ebe8463 // add v3.4s, v3.4s, v30.4s
	WORD $0x4ebe84c6 // add v6.4s, v6.4s, v30.4s
	WORD $0x4f375463 // shl v3.4s, v3.4s, #23
	WORD $0x4f3754c6 // shl v6.4s, v6.4s, #23
	WORD $0x6e23dc42 // fmul v2.4s, v2.4s, v3.4s
	WORD $0x6e26dca5 // fmul v5.4s, v5.4s, v6.4s
	WORD $0x4e3bd442 // fadd v2.4s, v2.4s, v27.4s
	WORD $0x4e3bd4a5 // fadd v5.4s, v5.4s, v27.4s
	WORD $0x6e22fc02 // fdiv v2.4s, v0.4s, v2.4s
	WORD $0x6e25fc25 // fdiv v5.4s, v1.4s, v5.4s
	WORD $0x6e3cdc42 // fmul v2.4s, v2.4s, v28.4s
	WORD $0x6e3cdca5 // fmul v5.4s, v5.4s, v28.4s
	WORD $0x4e3dd442 // fadd v2.4s, v2.4s, v29.4s
	WORD $0x4e3dd4a5 // fadd v5.4s, v5.4s, v29.4s
	WORD $0x4e21a842 // fcvtns v2.4s, v2.4s
	WORD $0x4e21a8a5 // fcvtns v5.4s, v5.4s
	WORD $0x0e614842 // sqxtn v2.4h, v2.4s
	WORD $0x4e6148a2 // sqxtn2 v2.8h, v5.4s
	WORD $0x0e214842 // sqxtn v2.8b, v2.8h
	FMOVD F2, (R10)
	ADD R1, R10, R10
	SUBS $1, R12, R12
	BNE srow8
	ADD $8, R0, R0
	ADD $32, R2, R2
	SUB $8, R5, R5
	B sblk8
sblk4:
	CBZ R5, sdone
	VLD1 (R6), [V8.S4]
	VLD1 (R7), [V10.S4]
	VLD1 (R8), [V12.S4]
	MOVD R0, R10
	MOVD R2, R11
	MOVD R3, R12
srow4:
	VLD1 (R11), [V0.S4]
	ADD R4, R11, R11
	WORD $0x6ea88400 // sub v0.4s, v0.4s, v8.4s
	WORD $0x4e21d800 // scvtf v0.4s, v0.4s
	WORD $0x6e2adc00 // fmul v0.4s, v0.4s, v10.4s
	WORD $0x4e2cd400 // fadd v0.4s, v0.4s, v12.4s
	WORD $0x6ea0f802 // fneg v2.4s, v0.4s
	WORD $0x4e30f442 // fmax v2.4s, v2.4s, v16.4s
	WORD $0x4eb1f442 // fmin v2.4s, v2.4s, v17.4s
	WORD $0x6e32dc43 // fmul v3.4s, v2.4s, v18.4s
	WORD $0x4e33d463 // fadd v3.4s, v3.4s, v19.4s
	WORD $0x4eb3d463 // fsub v3.4s, v3.4s, v19.4s
	WORD $0x6e34dc64 // fmul v4.4s, v3.4s, v20.4s
	WORD $0x4ea4d444 // fsub v4.4s, v2.4s, v4.4s
	WORD $0x6e35dc62 // fmul v2.4s, v3.4s, v21.4s
	WORD $0x4ea2d484 // fsub v4.4s, v4.4s, v2.4s
	WORD $0x6e24dec2 // fmul v2.4s, v22.4s, v4.4s
	WORD $0x4e37d442 // fadd v2.4s, v2.4s, v23.4s
	WORD $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD $0x4e38d442 // fadd v2.4s, v2.4s, v24.4s
	WORD $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD $0x4e39d442 // fadd v2.4s, v2.4s, v25.4s
	WORD $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD $0x4e3ad442 // fadd v2.4s, v2.4s, v26.4s
	WORD $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD $0x4e3bd442 // fadd v2.4s, v2.4s, v27.4s
	WORD $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD $0x4e3bd442 // fadd v2.4s, v2.4s, v27.4s
	WORD $0x4ea1b863 // fcvtzs v3.4s, v3.4s
	WORD $0x4ebe8463 // add v3.4s, v3.4s, v30.4s
	WORD $0x4f375463 // shl v3.4s, v3.4s, #23
	WORD $0x6e23dc42 // fmul v2.4s, v2.4s, v3.4s
	WORD $0x4e3bd442 // fadd v2.4s, v2.4s, v27.4s
	WORD $0x6e22fc02 // fdiv v2.4s, v0.4s, v2.4s
	WORD $0x6e3cdc42 // fmul v2.4s, v2.4s, v28.4s
	WORD $0x4e3dd442 // fadd v2.4s, v2.4s, v29.4s
	WORD $0x4e21a842 // fcvtns v2.4s, v2.4s
	WORD $0x0e614842 // sqxtn v2.4h, v2.4s
	WORD $0x0e214842 // sqxtn v2.8b, v2.8h
	FMOVS F2, (R10)
	ADD R1, R10, R10
	SUBS $1, R12, R12
	BNE srow4
sdone:
	RET
