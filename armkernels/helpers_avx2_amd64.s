#include "textflag.h"

// AVX2 versions of the elementwise helpers, 8 lanes, for machines without AVX-512. Each
// does the same float32 operations in the same order as the Go reference (no FMA), so
// results are bit-identical; int32 → int8 packs through VPACKSSDW/VPACKSSWB (the values
// are already in range, so the saturation never bites).

// func quantizeAVX2(dst *int8, src *float32, n int, invScale float32)
// QuantizeRow on n values, n a positive multiple of 8.
TEXT ·quantizeAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS invScale+24(FP), Y4
	MOVL $0x42fe0000, AX // 127.0
	VMOVD AX, X5
	VPBROADCASTD X5, Y5
	MOVL $0xc2fe0000, AX // -127.0
	VMOVD AX, X6
	VPBROADCASTD X6, Y6
	SHRQ $3, CX

qloop:
	VMULPS (SI), Y4, Y0
	VCMPPS $3, Y0, Y0, Y1 // unordered: NaN lanes all ones
	VANDNPS Y0, Y1, Y0    // NaN -> 0
	VMINPS Y5, Y0, Y0
	VMAXPS Y6, Y0, Y0
	VCVTPS2DQ Y0, Y0      // MXCSR default: round half to even
	VEXTRACTI128 $1, Y0, X1
	VPACKSSDW X1, X0, X0
	VPACKSSWB X0, X0, X0
	VMOVQ X0, (DI)
	ADDQ $32, SI
	ADDQ $8, DI
	DECQ CX
	JNZ qloop
	VZEROUPPER
	RET

// func reluRequantAVX2(out *int8, acc *int32, rows, c int, mul, bias *float32, zero int32)
// ReluRequant over rows·c values, c a positive multiple of 8: int32(acc·mul[j] + bias[j] +
// 0.5) truncated, clamped to [0, 127-zero], plus zero.
TEXT ·reluRequantAVX2(SB), NOSPLIT, $0-52
	MOVQ out+0(FP), DI
	MOVQ acc+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ c+24(FP), R9
	MOVQ mul+32(FP), R10
	MOVQ bias+40(FP), R11
	MOVL zero+48(FP), AX
	VMOVD AX, X6
	VPBROADCASTD X6, Y6 // zero
	MOVL $127, BX
	SUBL AX, BX
	VMOVD BX, X7
	VPBROADCASTD X7, Y7 // 127 - zero
	VPXOR Y8, Y8, Y8
	MOVL $0x3f000000, AX // 0.5
	VMOVD AX, X9
	VPBROADCASTD X9, Y9
	SHRQ $3, R9

rrow:
	XORQ DX, DX
	MOVQ R9, CX

rcol:
	VCVTDQ2PS (SI), Y0
	VMULPS (R10)(DX*1), Y0, Y0
	VADDPS (R11)(DX*1), Y0, Y0
	VADDPS Y9, Y0, Y0
	VCVTTPS2DQ Y0, Y0
	VPMAXSD Y8, Y0, Y0
	VPMINSD Y7, Y0, Y0
	VPADDD Y6, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKSSDW X1, X0, X0
	VPACKSSWB X0, X0, X0
	VMOVQ X0, (DI)
	ADDQ $32, SI
	ADDQ $8, DI
	ADDQ $32, DX
	DECQ CX
	JNZ rcol
	DECQ R8
	JNZ rrow
	VZEROUPPER
	RET

// func addInt32AVX2(dst, src *int32, n int)
// dst[i] += src[i] for n values, n a positive multiple of 8; 32 at a time while it can.
TEXT ·addInt32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

aby32:
	CMPQ CX, $32
	JLT aby8
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VPADDD (DI), Y0, Y0
	VPADDD 32(DI), Y1, Y1
	VPADDD 64(DI), Y2, Y2
	VPADDD 96(DI), Y3, Y3
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP aby32

aby8:
	TESTQ CX, CX
	JZ adone
	VMOVDQU (SI), Y0
	VPADDD (DI), Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP aby8

adone:
	VZEROUPPER
	RET

// func expAVX2(dst, src *float32, n int, c *float32)
// Exp32 on 8 lanes, n a positive multiple of 8, the operations of expAVX512 in the same
// order; c holds expConsts.
TEXT ·expAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), R8
	VBROADCASTSS 0(R8), Y5   // -87
	VBROADCASTSS 4(R8), Y6   // 88
	VBROADCASTSS 8(R8), Y7   // log2e
	VBROADCASTSS 12(R8), Y8  // magic
	VBROADCASTSS 16(R8), Y9  // ln2hi
	VBROADCASTSS 20(R8), Y10 // ln2lo
	VBROADCASTSS 24(R8), Y11 // 1/720
	VBROADCASTSS 28(R8), Y12 // 1/120
	VBROADCASTSS 32(R8), Y13 // 1/24
	VBROADCASTSS 36(R8), Y14 // 1/6
	VBROADCASTSS 40(R8), Y15 // 0.5
	MOVL $127, AX
	SHRQ $3, CX

eloop:
	VMOVUPS (SI), Y0
	VMAXPS Y0, Y5, Y0 // second source is x: NaN passes through
	VMINPS Y0, Y6, Y0
	VMULPS Y7, Y0, Y1 // n = (x·log2e + magic) − magic
	VADDPS Y8, Y1, Y1
	VSUBPS Y8, Y1, Y1
	VMULPS Y9, Y1, Y2 // r = (x − n·ln2hi) − n·ln2lo
	VSUBPS Y2, Y0, Y2
	VMULPS Y10, Y1, Y3
	VSUBPS Y3, Y2, Y2
	VMULPS Y2, Y11, Y3 // p = ((1/720·r + 1/120)·r + …)
	VADDPS Y12, Y3, Y3
	VMULPS Y2, Y3, Y3
	VADDPS Y13, Y3, Y3
	VMULPS Y2, Y3, Y3
	VADDPS Y14, Y3, Y3
	VMULPS Y2, Y3, Y3
	VADDPS Y15, Y3, Y3
	VMULPS Y2, Y3, Y3
	VBROADCASTSS 44(R8), Y4 // 1
	VADDPS Y4, Y3, Y3
	VMULPS Y2, Y3, Y3
	VADDPS Y4, Y3, Y3
	VCVTTPS2DQ Y1, Y1 // 2^n: (n + 127) << 23
	VMOVD AX, X4
	VPBROADCASTD X4, Y4
	VPADDD Y4, Y1, Y1
	VPSLLD $23, Y1, Y1
	VMULPS Y1, Y3, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ eloop
	VZEROUPPER
	RET

// func addInt32RowsAVX2(dst *int32, dstStride int, src *int32, srcStride, rows, n int)
// For each of rows runs (strides in bytes): dst[i] += src[i] for n values, n a positive
// multiple of 8.
TEXT ·addInt32RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	MOVQ rows+32(FP), R10
	MOVQ n+40(FP), R11

wrow:
	MOVQ DI, AX
	MOVQ SI, BX
	MOVQ R11, CX

wby8:
	VMOVDQU (BX), Y0
	VPADDD (AX), Y0, Y0
	VMOVDQU Y0, (AX)
	ADDQ $32, AX
	ADDQ $32, BX
	SUBQ $8, CX
	JNZ wby8
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R10
	JNZ wrow
	VZEROUPPER
	RET
