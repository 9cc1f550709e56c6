#include "textflag.h"

// func reluRequantAVX512(out *int8, acc *int32, rows, c int, mul, bias *float32, zero int32)
// Per value: int32(acc·mul[j] + bias[j] + 0.5) (each op rounded in float32, as the Go
// reference), truncated, clamped to [0, 127-zero], plus zero, stored as int8. rows > 0 and
// c a positive multiple of 16.
TEXT ·reluRequantAVX512(SB), NOSPLIT, $0-52
	MOVQ out+0(FP), DI
	MOVQ acc+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ c+24(FP), R9
	MOVQ mul+32(FP), R10
	MOVQ bias+40(FP), R11
	MOVL zero+48(FP), AX
	VPBROADCASTD AX, Z6   // zero
	MOVL $127, BX
	SUBL AX, BX
	VPBROADCASTD BX, Z7   // 127 - zero
	VPXORD Z8, Z8, Z8
	MOVL $0x3f000000, AX  // 0.5
	VPBROADCASTD AX, Z9
	SHRQ $4, R9

row:
	XORQ DX, DX
	MOVQ R9, CX

col:
	VCVTDQ2PS (SI), Z0
	VMULPS (R10)(DX*1), Z0, Z0
	VADDPS (R11)(DX*1), Z0, Z0
	VADDPS Z9, Z0, Z0
	VCVTTPS2DQ Z0, Z0
	VPMAXSD Z8, Z0, Z0
	VPMINSD Z7, Z0, Z0
	VPADDD Z6, Z0, Z0
	VPMOVSDB Z0, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	ADDQ $64, DX
	DECQ CX
	JNZ col
	DECQ R8
	JNZ row
	VZEROUPPER
	RET

// func addInt32AVX512(dst, src *int32, n int)
// dst[i] += src[i] for n values, n a positive multiple of 16; 64 at a time while it can.
TEXT ·addInt32AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

by64:
	CMPQ CX, $64
	JLT by16
	VMOVDQU32 (SI), Z0
	VMOVDQU32 64(SI), Z1
	VMOVDQU32 128(SI), Z2
	VMOVDQU32 192(SI), Z3
	VPADDD (DI), Z0, Z0
	VPADDD 64(DI), Z1, Z1
	VPADDD 128(DI), Z2, Z2
	VPADDD 192(DI), Z3, Z3
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, 64(DI)
	VMOVDQU32 Z2, 128(DI)
	VMOVDQU32 Z3, 192(DI)
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JMP by64

by16:
	TESTQ CX, CX
	JZ done
	VMOVDQU32 (SI), Z0
	VPADDD (DI), Z0, Z0
	VMOVDQU32 Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP by16

done:
	VZEROUPPER
	RET

// func addInt32RowsAVX512(dst *int32, dstStride int, src *int32, srcStride, rows, n int)
// For each of rows runs (strides in bytes): dst[i] += src[i] for n values, n a positive
// multiple of 16.
TEXT ·addInt32RowsAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	MOVQ rows+32(FP), R10
	MOVQ n+40(FP), R11

rrow:
	MOVQ DI, AX
	MOVQ SI, BX
	MOVQ R11, CX

rby64:
	CMPQ CX, $64
	JLT rby16
	VMOVDQU32 (BX), Z0
	VMOVDQU32 64(BX), Z1
	VMOVDQU32 128(BX), Z2
	VMOVDQU32 192(BX), Z3
	VPADDD (AX), Z0, Z0
	VPADDD 64(AX), Z1, Z1
	VPADDD 128(AX), Z2, Z2
	VPADDD 192(AX), Z3, Z3
	VMOVDQU32 Z0, (AX)
	VMOVDQU32 Z1, 64(AX)
	VMOVDQU32 Z2, 128(AX)
	VMOVDQU32 Z3, 192(AX)
	ADDQ $256, AX
	ADDQ $256, BX
	SUBQ $64, CX
	JMP rby64

rby16:
	TESTQ CX, CX
	JZ rnext
	VMOVDQU32 (BX), Z0
	VPADDD (AX), Z0, Z0
	VMOVDQU32 Z0, (AX)
	ADDQ $64, AX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP rby16

rnext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R10
	JNZ rrow
	VZEROUPPER
	RET
