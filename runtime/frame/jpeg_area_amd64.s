#include "textflag.h"

// Row kernel (areaRowGo): for each frequency row v and each group of output
// columns, the sum over taps t and frequencies u of the gathered
// coefficients, converted to float32, times their weights: multiply then
// add, in areaRowGo's order, so the bits are the same. Each gather's
// destination is zeroed first: a gather merges into its destination, and
// without the zero idiom every gather would wait for the previous one.
//
// Registers: DI h row of v, BX &coef[v*kx], SI end of v's kx coefficients,
// R8 idx, R9 wx, R14 table row in bytes, R11 taps, R12 kx*4, CX the group's
// byte offset, DX &idx[t][group], R15 &wx[t*kx+u][group], R13 gather base
// (&coef[v*kx+u]), R10 taps left, AX v.

// func areaRowAVX512(h *float32, coef *int32, idx *int32, wx *float32, outWp, taps, kx, ky int)
TEXT ·areaRowAVX512(SB), NOSPLIT, $0-64
	MOVQ h+0(FP), DI
	MOVQ coef+8(FP), BX
	MOVQ idx+16(FP), R8
	MOVQ wx+24(FP), R9
	MOVQ outWp+32(FP), R14
	SHLQ $2, R14
	MOVQ taps+40(FP), R11
	MOVQ kx+48(FP), R12
	SHLQ $2, R12
	XORQ AX, AX

row512_v:
	LEAQ (BX)(R12*1), SI
	XORQ CX, CX

row512_group:
	VXORPS Z0, Z0, Z0
	LEAQ (R8)(CX*1), DX
	LEAQ (R9)(CX*1), R15
	MOVQ R11, R10

row512_tap:
	VMOVDQU32 (DX), Z1
	MOVQ BX, R13

row512_freq:
	KXNORW K0, K0, K1
	VPXORD Z2, Z2, Z2
	VPGATHERDD (R13)(Z1*4), K1, Z2
	VCVTDQ2PS Z2, Z2
	VMULPS (R15), Z2, Z2
	VADDPS Z2, Z0, Z0
	ADDQ $4, R13
	ADDQ R14, R15
	CMPQ R13, SI
	JLT row512_freq
	ADDQ R14, DX
	DECQ R10
	JNZ row512_tap

	VMOVUPS Z0, (DI)(CX*1)
	ADDQ $64, CX
	CMPQ CX, R14
	JLT row512_group

	ADDQ R14, DI
	MOVQ SI, BX
	INCQ AX
	CMPQ AX, ky+56(FP)
	JLT row512_v
	VZEROUPPER
	RET

// func areaRowAVX2(h *float32, coef *int32, idx *int32, wx *float32, outWp, taps, kx, ky int)
TEXT ·areaRowAVX2(SB), NOSPLIT, $0-64
	MOVQ h+0(FP), DI
	MOVQ coef+8(FP), BX
	MOVQ idx+16(FP), R8
	MOVQ wx+24(FP), R9
	MOVQ outWp+32(FP), R14
	SHLQ $2, R14
	MOVQ taps+40(FP), R11
	MOVQ kx+48(FP), R12
	SHLQ $2, R12
	XORQ AX, AX

row2_v:
	LEAQ (BX)(R12*1), SI
	XORQ CX, CX

row2_group:
	VXORPS Y0, Y0, Y0
	LEAQ (R8)(CX*1), DX
	LEAQ (R9)(CX*1), R15
	MOVQ R11, R10

row2_tap:
	VMOVDQU (DX), Y1
	MOVQ BX, R13

row2_freq:
	VPCMPEQD Y3, Y3, Y3
	VPXOR Y2, Y2, Y2
	VPGATHERDD Y3, (R13)(Y1*4), Y2
	VCVTDQ2PS Y2, Y2
	VMULPS (R15), Y2, Y2
	VADDPS Y2, Y0, Y0
	ADDQ $4, R13
	ADDQ R14, R15
	CMPQ R13, SI
	JLT row2_freq
	ADDQ R14, DX
	DECQ R10
	JNZ row2_tap

	VMOVUPS Y0, (DI)(CX*1)
	ADDQ $32, CX
	CMPQ CX, R14
	JLT row2_group

	ADDQ R14, DI
	MOVQ SI, BX
	INCQ AX
	CMPQ AX, ky+56(FP)
	JLT row2_v
	VZEROUPPER
	RET

// Column kernel (areaColGo): acc[ox] = Σ_j w[j] · h[rows[j]+ox], multiply
// then add in j order. Registers: DI acc, SI h, R8 rows, R9 w, R10 n,
// R11 outWp in bytes, CX the group's byte offset, AX j, DX &h[rows[j]].

// func areaColAVX512(acc, h *float32, rows *int32, w *float32, n, outWp int)
TEXT ·areaColAVX512(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ h+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ w+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ outWp+40(FP), R11
	SHLQ $2, R11
	XORQ CX, CX

col512_group:
	VXORPS Z0, Z0, Z0
	XORQ AX, AX

col512_j:
	MOVLQSX (R8)(AX*4), DX
	LEAQ (SI)(DX*4), DX
	VBROADCASTSS (R9)(AX*4), Z1
	VMULPS (DX)(CX*1), Z1, Z1
	VADDPS Z1, Z0, Z0
	INCQ AX
	CMPQ AX, R10
	JLT col512_j

	VMOVUPS Z0, (DI)(CX*1)
	ADDQ $64, CX
	CMPQ CX, R11
	JLT col512_group
	VZEROUPPER
	RET

// func areaColAVX2(acc, h *float32, rows *int32, w *float32, n, outWp int)
TEXT ·areaColAVX2(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ h+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ w+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ outWp+40(FP), R11
	SHLQ $2, R11
	XORQ CX, CX

col2_group:
	VXORPS Y0, Y0, Y0
	XORQ AX, AX

col2_j:
	MOVLQSX (R8)(AX*4), DX
	LEAQ (SI)(DX*4), DX
	VBROADCASTSS (R9)(AX*4), Y1
	VMULPS (DX)(CX*1), Y1, Y1
	VADDPS Y1, Y0, Y0
	INCQ AX
	CMPQ AX, R10
	JLT col2_j

	VMOVUPS Y0, (DI)(CX*1)
	ADDQ $32, CX
	CMPQ CX, R11
	JLT col2_group
	VZEROUPPER
	RET

// RGB kernel (areaRGBGo) for 16 pixels per group: t = y + 128, then
// R = t + RV·cr, G = t − GU·cb − GV·cr, B = t + BU·cb, each + 0.5,
// truncated, clamped to 0..255 — areaRGBGo's operations in its order. The
// three bytes go into one dword per pixel and VPERMB drops every fourth
// byte: 48 bytes, stored under a 48-bit mask.

// func areaRGBAVX512(dst *byte, y, cb, cr *float32, groups int, k *areaRGBConsts)
TEXT ·areaRGBAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ cb+16(FP), R8
	MOVQ cr+24(FP), R9
	MOVQ groups+32(FP), CX
	MOVQ k+40(FP), AX
	VBROADCASTSS 0(AX), Z10
	VBROADCASTSS 4(AX), Z11
	VBROADCASTSS 8(AX), Z12
	VBROADCASTSS 12(AX), Z13
	VBROADCASTSS 16(AX), Z14
	VBROADCASTSS 20(AX), Z15
	VPBROADCASTD 24(AX), Z18
	VMOVDQU8 32(AX), Z16
	VPXORD Z17, Z17, Z17
	MOVQ $0xFFFFFFFFFFFF, DX
	KMOVQ DX, K1

rgb512_loop:
	VMOVUPS (SI), Z0
	VADDPS Z10, Z0, Z0
	VMOVUPS (R8), Z1
	VMOVUPS (R9), Z2
	VMULPS Z2, Z12, Z3
	VADDPS Z3, Z0, Z3
	VMULPS Z1, Z13, Z4
	VSUBPS Z4, Z0, Z4
	VMULPS Z2, Z14, Z5
	VSUBPS Z5, Z4, Z4
	VMULPS Z1, Z15, Z5
	VADDPS Z5, Z0, Z5
	VADDPS Z11, Z3, Z3
	VADDPS Z11, Z4, Z4
	VADDPS Z11, Z5, Z5
	VCVTTPS2DQ Z3, Z3
	VCVTTPS2DQ Z4, Z4
	VCVTTPS2DQ Z5, Z5
	VPMAXSD Z17, Z3, Z3
	VPMAXSD Z17, Z4, Z4
	VPMAXSD Z17, Z5, Z5
	VPMINSD Z18, Z3, Z3
	VPMINSD Z18, Z4, Z4
	VPMINSD Z18, Z5, Z5
	VPSLLD $8, Z4, Z4
	VPSLLD $16, Z5, Z5
	VPORD Z4, Z3, Z3
	VPORD Z5, Z3, Z3
	VPERMB Z3, Z16, Z3
	VMOVDQU8 Z3, K1, (DI)
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $48, DI
	DECQ CX
	JNZ rgb512_loop
	VZEROUPPER
	RET
