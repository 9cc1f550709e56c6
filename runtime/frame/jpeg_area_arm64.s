#include "textflag.h"

// NEON (ARMv8.0 Advanced SIMD, baseline on arm64) area kernels. Go's
// assembler lacks the vector float mnemonics, so those are WORDs with the
// GNU mnemonic beside them (encodings from GNU as); TestAreaKernelsMatchGo
// and TestAreaRGBMatchesGo cover every line. Every float operation is the
// Go kernel's, in its order, each rounded once: FMUL then FADD/FSUB, never
// FMLA (the Go kernels convert each product to float32 before adding, so
// the compiler fuses nothing there either).

// Row kernel (areaRowGo), 8 output columns per group and up to 8
// frequency rows v per call (the wrapper splits larger ky): per group and
// tap t, the group's 8 block offsets idx[t][ox] become 8 lane pointers into
// coef; per row v and frequency u, one int32 per lane (LD1 single lane,
// post-incremented by 4: a block's coefficients are contiguous, row v after
// row v-1, so the pointers walk on from one row to the next and are set up
// once per tap, not once per tap and row), SCVTF, FMUL by wx[t*kx+u][group],
// FADD into row v's two accumulators (V16+2v, V17+2v). Each output still sums
// over t, then u, in areaRowGo's order; only independent outputs interleave.
// The rows are unrolled (registers cannot be indexed); ky picks how many run.
//
// Registers: R0 h, R1 coef, R2 idx, R3 wx, R4 outWp in bytes, R5 taps,
// R6 kx, R7 ky (1-8), R8 the group's byte offset, R9 &idx[t][group], R10
// &wx[t*kx][group], R11 taps left, R12 frequencies left, R13-R17 and
// R19-R21 the lane pointers (R18 is the platform's), R22 the store pointer,
// R23 &wx[t*kx+u][group], R24 kx*outWp*4 (wx bytes per tap).

// func areaRowNEON(h *float32, coef *int32, idx *int32, wx *float32, outWp, taps, kx, ky int)
TEXT ·areaRowNEON(SB), NOSPLIT, $0-64
	MOVD h+0(FP), R0
	MOVD coef+8(FP), R1
	MOVD idx+16(FP), R2
	MOVD wx+24(FP), R3
	MOVD outWp+32(FP), R4
	LSL  $2, R4, R4
	MOVD taps+40(FP), R5
	MOVD kx+48(FP), R6
	MOVD ky+56(FP), R7
	MUL  R6, R4, R24
	MOVD ZR, R8

rowgroup:
	// Zero the accumulators of rows 0..ky-1.
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	CMP  $1, R7
	BEQ  rowzeroed
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	CMP  $2, R7
	BEQ  rowzeroed
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	CMP  $3, R7
	BEQ  rowzeroed
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	CMP  $4, R7
	BEQ  rowzeroed
	VEOR V24.B16, V24.B16, V24.B16
	VEOR V25.B16, V25.B16, V25.B16
	CMP  $5, R7
	BEQ  rowzeroed
	VEOR V26.B16, V26.B16, V26.B16
	VEOR V27.B16, V27.B16, V27.B16
	CMP  $6, R7
	BEQ  rowzeroed
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	CMP  $7, R7
	BEQ  rowzeroed
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16

rowzeroed:
	ADD  R8, R2, R9
	ADD  R8, R3, R10
	MOVD R5, R11

rowtap:
	// The lane pointers: &coef[idx[t][ox]] for the group's 8 ox; each
	// walks its block's coefficients row v by row v, u by u.
	LDPSW 0(R9), (R13, R14)
	LDPSW 8(R9), (R15, R16)
	LDPSW 16(R9), (R17, R19)
	LDPSW 24(R9), (R20, R21)
	ADD   R13<<2, R1, R13
	ADD   R14<<2, R1, R14
	ADD   R15<<2, R1, R15
	ADD   R16<<2, R1, R16
	ADD   R17<<2, R1, R17
	ADD   R19<<2, R1, R19
	ADD   R20<<2, R1, R20
	ADD   R21<<2, R1, R21
	ADD   R4, R9, R9

	// Row v = 0 into V16, V17.
	MOVD R10, R23
	MOVD R6, R12
rowfreq0:
	VLD1.P 4(R13), V2.S[0]
	VLD1.P 4(R14), V2.S[1]
	VLD1.P 4(R15), V2.S[2]
	VLD1.P 4(R16), V2.S[3]
	VLD1.P 4(R17), V3.S[0]
	VLD1.P 4(R19), V3.S[1]
	VLD1.P 4(R20), V3.S[2]
	VLD1.P 4(R21), V3.S[3]
	VLD1.P (R23)(R4), [V4.S4, V5.S4]
	WORD   $0x4e21d842 // scvtf v2.4s, v2.4s
	WORD   $0x4e21d863 // scvtf v3.4s, v3.4s
	WORD   $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD   $0x6e25dc63 // fmul v3.4s, v3.4s, v5.4s
	WORD   $0x4e22d610 // fadd v16.4s, v16.4s, v2.4s
	WORD   $0x4e23d631 // fadd v17.4s, v17.4s, v3.4s
	SUBS   $1, R12, R12
	BNE    rowfreq0
	CMP    $1, R7
	BEQ    rowtapdone

	// Row v = 1 into V18, V19.
	MOVD R10, R23
	MOVD R6, R12
rowfreq1:
	VLD1.P 4(R13), V2.S[0]
	VLD1.P 4(R14), V2.S[1]
	VLD1.P 4(R15), V2.S[2]
	VLD1.P 4(R16), V2.S[3]
	VLD1.P 4(R17), V3.S[0]
	VLD1.P 4(R19), V3.S[1]
	VLD1.P 4(R20), V3.S[2]
	VLD1.P 4(R21), V3.S[3]
	VLD1.P (R23)(R4), [V4.S4, V5.S4]
	WORD   $0x4e21d842 // scvtf v2.4s, v2.4s
	WORD   $0x4e21d863 // scvtf v3.4s, v3.4s
	WORD   $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD   $0x6e25dc63 // fmul v3.4s, v3.4s, v5.4s
	WORD   $0x4e22d652 // fadd v18.4s, v18.4s, v2.4s
	WORD   $0x4e23d673 // fadd v19.4s, v19.4s, v3.4s
	SUBS   $1, R12, R12
	BNE    rowfreq1
	CMP    $2, R7
	BEQ    rowtapdone

	// Row v = 2 into V20, V21.
	MOVD R10, R23
	MOVD R6, R12
rowfreq2:
	VLD1.P 4(R13), V2.S[0]
	VLD1.P 4(R14), V2.S[1]
	VLD1.P 4(R15), V2.S[2]
	VLD1.P 4(R16), V2.S[3]
	VLD1.P 4(R17), V3.S[0]
	VLD1.P 4(R19), V3.S[1]
	VLD1.P 4(R20), V3.S[2]
	VLD1.P 4(R21), V3.S[3]
	VLD1.P (R23)(R4), [V4.S4, V5.S4]
	WORD   $0x4e21d842 // scvtf v2.4s, v2.4s
	WORD   $0x4e21d863 // scvtf v3.4s, v3.4s
	WORD   $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD   $0x6e25dc63 // fmul v3.4s, v3.4s, v5.4s
	WORD   $0x4e22d694 // fadd v20.4s, v20.4s, v2.4s
	WORD   $0x4e23d6b5 // fadd v21.4s, v21.4s, v3.4s
	SUBS   $1, R12, R12
	BNE    rowfreq2
	CMP    $3, R7
	BEQ    rowtapdone

	// Row v = 3 into V22, V23.
	MOVD R10, R23
	MOVD R6, R12
rowfreq3:
	VLD1.P 4(R13), V2.S[0]
	VLD1.P 4(R14), V2.S[1]
	VLD1.P 4(R15), V2.S[2]
	VLD1.P 4(R16), V2.S[3]
	VLD1.P 4(R17), V3.S[0]
	VLD1.P 4(R19), V3.S[1]
	VLD1.P 4(R20), V3.S[2]
	VLD1.P 4(R21), V3.S[3]
	VLD1.P (R23)(R4), [V4.S4, V5.S4]
	WORD   $0x4e21d842 // scvtf v2.4s, v2.4s
	WORD   $0x4e21d863 // scvtf v3.4s, v3.4s
	WORD   $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD   $0x6e25dc63 // fmul v3.4s, v3.4s, v5.4s
	WORD   $0x4e22d6d6 // fadd v22.4s, v22.4s, v2.4s
	WORD   $0x4e23d6f7 // fadd v23.4s, v23.4s, v3.4s
	SUBS   $1, R12, R12
	BNE    rowfreq3
	CMP    $4, R7
	BEQ    rowtapdone

	// Row v = 4 into V24, V25.
	MOVD R10, R23
	MOVD R6, R12
rowfreq4:
	VLD1.P 4(R13), V2.S[0]
	VLD1.P 4(R14), V2.S[1]
	VLD1.P 4(R15), V2.S[2]
	VLD1.P 4(R16), V2.S[3]
	VLD1.P 4(R17), V3.S[0]
	VLD1.P 4(R19), V3.S[1]
	VLD1.P 4(R20), V3.S[2]
	VLD1.P 4(R21), V3.S[3]
	VLD1.P (R23)(R4), [V4.S4, V5.S4]
	WORD   $0x4e21d842 // scvtf v2.4s, v2.4s
	WORD   $0x4e21d863 // scvtf v3.4s, v3.4s
	WORD   $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD   $0x6e25dc63 // fmul v3.4s, v3.4s, v5.4s
	WORD   $0x4e22d718 // fadd v24.4s, v24.4s, v2.4s
	WORD   $0x4e23d739 // fadd v25.4s, v25.4s, v3.4s
	SUBS   $1, R12, R12
	BNE    rowfreq4
	CMP    $5, R7
	BEQ    rowtapdone

	// Row v = 5 into V26, V27.
	MOVD R10, R23
	MOVD R6, R12
rowfreq5:
	VLD1.P 4(R13), V2.S[0]
	VLD1.P 4(R14), V2.S[1]
	VLD1.P 4(R15), V2.S[2]
	VLD1.P 4(R16), V2.S[3]
	VLD1.P 4(R17), V3.S[0]
	VLD1.P 4(R19), V3.S[1]
	VLD1.P 4(R20), V3.S[2]
	VLD1.P 4(R21), V3.S[3]
	VLD1.P (R23)(R4), [V4.S4, V5.S4]
	WORD   $0x4e21d842 // scvtf v2.4s, v2.4s
	WORD   $0x4e21d863 // scvtf v3.4s, v3.4s
	WORD   $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD   $0x6e25dc63 // fmul v3.4s, v3.4s, v5.4s
	WORD   $0x4e22d75a // fadd v26.4s, v26.4s, v2.4s
	WORD   $0x4e23d77b // fadd v27.4s, v27.4s, v3.4s
	SUBS   $1, R12, R12
	BNE    rowfreq5
	CMP    $6, R7
	BEQ    rowtapdone

	// Row v = 6 into V28, V29.
	MOVD R10, R23
	MOVD R6, R12
rowfreq6:
	VLD1.P 4(R13), V2.S[0]
	VLD1.P 4(R14), V2.S[1]
	VLD1.P 4(R15), V2.S[2]
	VLD1.P 4(R16), V2.S[3]
	VLD1.P 4(R17), V3.S[0]
	VLD1.P 4(R19), V3.S[1]
	VLD1.P 4(R20), V3.S[2]
	VLD1.P 4(R21), V3.S[3]
	VLD1.P (R23)(R4), [V4.S4, V5.S4]
	WORD   $0x4e21d842 // scvtf v2.4s, v2.4s
	WORD   $0x4e21d863 // scvtf v3.4s, v3.4s
	WORD   $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD   $0x6e25dc63 // fmul v3.4s, v3.4s, v5.4s
	WORD   $0x4e22d79c // fadd v28.4s, v28.4s, v2.4s
	WORD   $0x4e23d7bd // fadd v29.4s, v29.4s, v3.4s
	SUBS   $1, R12, R12
	BNE    rowfreq6
	CMP    $7, R7
	BEQ    rowtapdone

	// Row v = 7 into V30, V31.
	MOVD R10, R23
	MOVD R6, R12
rowfreq7:
	VLD1.P 4(R13), V2.S[0]
	VLD1.P 4(R14), V2.S[1]
	VLD1.P 4(R15), V2.S[2]
	VLD1.P 4(R16), V2.S[3]
	VLD1.P 4(R17), V3.S[0]
	VLD1.P 4(R19), V3.S[1]
	VLD1.P 4(R20), V3.S[2]
	VLD1.P 4(R21), V3.S[3]
	VLD1.P (R23)(R4), [V4.S4, V5.S4]
	WORD   $0x4e21d842 // scvtf v2.4s, v2.4s
	WORD   $0x4e21d863 // scvtf v3.4s, v3.4s
	WORD   $0x6e24dc42 // fmul v2.4s, v2.4s, v4.4s
	WORD   $0x6e25dc63 // fmul v3.4s, v3.4s, v5.4s
	WORD   $0x4e22d7de // fadd v30.4s, v30.4s, v2.4s
	WORD   $0x4e23d7ff // fadd v31.4s, v31.4s, v3.4s
	SUBS   $1, R12, R12
	BNE    rowfreq7

rowtapdone:
	ADD  R24, R10, R10
	SUBS $1, R11, R11
	BNE  rowtap

	// Store rows 0..ky-1 of the group: h[v*outWp + group].
	ADD  R8, R0, R22
	VST1.P [V16.S4, V17.S4], (R22)(R4)
	CMP    $1, R7
	BEQ    rowstored
	VST1.P [V18.S4, V19.S4], (R22)(R4)
	CMP    $2, R7
	BEQ    rowstored
	VST1.P [V20.S4, V21.S4], (R22)(R4)
	CMP    $3, R7
	BEQ    rowstored
	VST1.P [V22.S4, V23.S4], (R22)(R4)
	CMP    $4, R7
	BEQ    rowstored
	VST1.P [V24.S4, V25.S4], (R22)(R4)
	CMP    $5, R7
	BEQ    rowstored
	VST1.P [V26.S4, V27.S4], (R22)(R4)
	CMP    $6, R7
	BEQ    rowstored
	VST1.P [V28.S4, V29.S4], (R22)(R4)
	CMP    $7, R7
	BEQ    rowstored
	VST1.P [V30.S4, V31.S4], (R22)(R4)

rowstored:
	ADD $32, R8, R8
	CMP R4, R8
	BLT rowgroup
	RET


// Column kernel (areaColGo), 16 output columns per group:
// acc[ox] = Σ_j w[j] · h[rows[j]+ox], FMUL then FADD in j order.
// Registers: R0 acc, R1 h, R2 rows, R3 w, R4 n, R5 16-column groups,
// R6 the group's byte offset, R7 &rows[j], R8 &w[j], R9 rows left,
// R10 &h[group], R11 &h[rows[j]+group].

// func areaColNEON(acc, h *float32, rows *int32, w *float32, n, groups int)
TEXT ·areaColNEON(SB), NOSPLIT, $0-48
	MOVD acc+0(FP), R0
	MOVD h+8(FP), R1
	MOVD rows+16(FP), R2
	MOVD w+24(FP), R3
	MOVD n+32(FP), R4
	MOVD groups+40(FP), R5
	MOVD ZR, R6

colgroup:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	MOVD R2, R7
	MOVD R3, R8
	MOVD R4, R9
	ADD  R6, R1, R10

colj:
	MOVW.P 4(R7), R11
	ADD    R11<<2, R10, R11
	VLD1   (R11), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1R.P 4(R8), [V16.S4]
	WORD   $0x6e24de04 // fmul v4.4s, v16.4s, v4.4s
	WORD   $0x6e25de05 // fmul v5.4s, v16.4s, v5.4s
	WORD   $0x6e26de06 // fmul v6.4s, v16.4s, v6.4s
	WORD   $0x6e27de07 // fmul v7.4s, v16.4s, v7.4s
	WORD   $0x4e24d400 // fadd v0.4s, v0.4s, v4.4s
	WORD   $0x4e25d421 // fadd v1.4s, v1.4s, v5.4s
	WORD   $0x4e26d442 // fadd v2.4s, v2.4s, v6.4s
	WORD   $0x4e27d463 // fadd v3.4s, v3.4s, v7.4s
	SUBS   $1, R9, R9
	BNE    colj

	ADD  R6, R0, R12
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R12)
	ADD  $64, R6, R6
	SUBS $1, R5, R5
	BNE  colgroup
	RET

// RGB kernel (areaRGBGo), 8 pixels per group: t = y + 128, then
// R = t + RV·cr, G = (t − GU·cb) − GV·cr, B = t + BU·cb, each + 0.5 and
// truncated toward zero (FCVTZS: Go's int32 conversion on arm64), then
// clamped to 0..255 by SQXTUN (signed to 0..65535) and UQXTN (to 0..255),
// which is clampRound's max, min and byte; ST3 interleaves R, G and B.
// k points at areaRGBNEONK: level, half, rv, gu, gv, bu, broadcast into
// V20-V25.

// func areaRGBNEON(dst *byte, y, cb, cr *float32, groups int, k *[6]float32)
TEXT ·areaRGBNEON(SB), NOSPLIT, $0-48
	MOVD dst+0(FP), R0
	MOVD y+8(FP), R1
	MOVD cb+16(FP), R2
	MOVD cr+24(FP), R3
	MOVD groups+32(FP), R4
	MOVD k+40(FP), R5
	VLD1R.P 4(R5), [V20.S4]
	VLD1R.P 4(R5), [V21.S4]
	VLD1R.P 4(R5), [V22.S4]
	VLD1R.P 4(R5), [V23.S4]
	VLD1R.P 4(R5), [V24.S4]
	VLD1R   (R5), [V25.S4]

rgbloop:
	VLD1.P 32(R1), [V0.S4, V1.S4]
	VLD1.P 32(R2), [V2.S4, V3.S4]
	VLD1.P 32(R3), [V4.S4, V5.S4]
	WORD   $0x4e34d400 // fadd v0.4s, v0.4s, v20.4s
	WORD   $0x4e34d421 // fadd v1.4s, v1.4s, v20.4s
	WORD   $0x6e24dec6 // fmul v6.4s, v22.4s, v4.4s
	WORD   $0x6e25dec7 // fmul v7.4s, v22.4s, v5.4s
	WORD   $0x4e26d406 // fadd v6.4s, v0.4s, v6.4s
	WORD   $0x4e27d427 // fadd v7.4s, v1.4s, v7.4s
	WORD   $0x6e22def0 // fmul v16.4s, v23.4s, v2.4s
	WORD   $0x6e23def1 // fmul v17.4s, v23.4s, v3.4s
	WORD   $0x4eb0d410 // fsub v16.4s, v0.4s, v16.4s
	WORD   $0x4eb1d431 // fsub v17.4s, v1.4s, v17.4s
	WORD   $0x6e24df12 // fmul v18.4s, v24.4s, v4.4s
	WORD   $0x6e25df13 // fmul v19.4s, v24.4s, v5.4s
	WORD   $0x4eb2d610 // fsub v16.4s, v16.4s, v18.4s
	WORD   $0x4eb3d631 // fsub v17.4s, v17.4s, v19.4s
	WORD   $0x6e22df32 // fmul v18.4s, v25.4s, v2.4s
	WORD   $0x6e23df33 // fmul v19.4s, v25.4s, v3.4s
	WORD   $0x4e32d412 // fadd v18.4s, v0.4s, v18.4s
	WORD   $0x4e33d433 // fadd v19.4s, v1.4s, v19.4s
	WORD   $0x4e35d4c6 // fadd v6.4s, v6.4s, v21.4s
	WORD   $0x4e35d4e7 // fadd v7.4s, v7.4s, v21.4s
	WORD   $0x4e35d610 // fadd v16.4s, v16.4s, v21.4s
	WORD   $0x4e35d631 // fadd v17.4s, v17.4s, v21.4s
	WORD   $0x4e35d652 // fadd v18.4s, v18.4s, v21.4s
	WORD   $0x4e35d673 // fadd v19.4s, v19.4s, v21.4s
	WORD   $0x4ea1b8c6 // fcvtzs v6.4s, v6.4s
	WORD   $0x4ea1b8e7 // fcvtzs v7.4s, v7.4s
	WORD   $0x4ea1ba10 // fcvtzs v16.4s, v16.4s
	WORD   $0x4ea1ba31 // fcvtzs v17.4s, v17.4s
	WORD   $0x4ea1ba52 // fcvtzs v18.4s, v18.4s
	WORD   $0x4ea1ba73 // fcvtzs v19.4s, v19.4s
	WORD   $0x2e6128da // sqxtun v26.4h, v6.4s
	WORD   $0x6e6128fa // sqxtun2 v26.8h, v7.4s
	WORD   $0x2e214b5a // uqxtn v26.8b, v26.8h
	WORD   $0x2e612a1b // sqxtun v27.4h, v16.4s
	WORD   $0x6e612a3b // sqxtun2 v27.8h, v17.4s
	WORD   $0x2e214b7b // uqxtn v27.8b, v27.8h
	WORD   $0x2e612a5c // sqxtun v28.4h, v18.4s
	WORD   $0x6e612a7c // sqxtun2 v28.8h, v19.4s
	WORD   $0x2e214b9c // uqxtn v28.8b, v28.8h
	VST3.P [V26.B8, V27.B8, V28.B8], 24(R0)
	SUBS   $1, R4, R4
	BNE    rgbloop
	RET
