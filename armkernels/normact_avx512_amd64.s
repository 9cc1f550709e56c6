#include "textflag.h"

// func normStatsAVX512(s1, s2 *int64, acc *int32, rows, c, cb int)
// Per block of 8 channels: the two int64 sums stay in registers while the rows stream past.
TEXT ·normStatsAVX512(SB), NOSPLIT, $0-48
	MOVQ s1+0(FP), DI
	MOVQ s2+8(FP), R9
	MOVQ acc+16(FP), SI
	MOVQ c+32(FP), R10
	SHLQ $2, R10 // row stride in bytes
	MOVQ cb+40(FP), R11
	SHRQ $3, R11

sblock:
	VMOVDQU64 (DI), Z10
	VMOVDQU64 (R9), Z11
	VPXORQ Z12, Z12, Z12 // second pair of sums: odd rows
	VPXORQ Z13, Z13, Z13
	MOVQ SI, AX
	MOVQ rows+24(FP), CX

srow2:
	CMPQ CX, $2
	JLT srow1
	VPMOVSXDQ (AX), Z0
	VPMOVSXDQ (AX)(R10*1), Z1
	VPADDQ Z0, Z10, Z10
	VPADDQ Z1, Z12, Z12
	VPMULDQ Z0, Z0, Z0
	VPMULDQ Z1, Z1, Z1
	VPADDQ Z0, Z11, Z11
	VPADDQ Z1, Z13, Z13
	LEAQ (AX)(R10*2), AX
	SUBQ $2, CX
	JMP srow2

srow1:
	TESTQ CX, CX
	JZ sstore
	VPMOVSXDQ (AX), Z0
	VPADDQ Z0, Z10, Z10
	VPMULDQ Z0, Z0, Z0
	VPADDQ Z0, Z11, Z11

sstore:
	VPADDQ Z12, Z10, Z10
	VPADDQ Z13, Z11, Z11
	VMOVDQU64 Z10, (DI)
	VMOVDQU64 Z11, (R9)
	ADDQ $64, DI
	ADDQ $64, R9
	ADDQ $32, SI
	DECQ R11
	JNZ sblock
	VZEROUPPER
	RET

// func normSiLUAVX512(out *int8, ostride int, acc *int32, rows, c, cb int, mi *int32, a, b *float32, inv, zf float32, k *float32)
// k holds normConsts: the Exp32 constants (as expAVX512 reads them), −0, 127, −128, magic
// bits, int 127.
TEXT ·normSiLUAVX512(SB), NOSPLIT, $0-88
	MOVQ out+0(FP), DI
	MOVQ acc+16(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ mi+48(FP), R10
	MOVQ a+56(FP), R11
	MOVQ b+64(FP), R12
	MOVQ k+80(FP), R8
	VBROADCASTSS inv+72(FP), Z14
	VBROADCASTSS zf+76(FP), Z15
	VBROADCASTSS 48(R8), Z18 // −0: the sign bit
	VBROADCASTSS 52(R8), Z16 // 127
	VBROADCASTSS 56(R8), Z17 // −128
	VPBROADCASTD 60(R8), Z13 // magic bits
	VPBROADCASTD 64(R8), Z19 // 127 (int)
	VBROADCASTSS 0(R8), Z20  // −87
	VBROADCASTSS 4(R8), Z21  // 88
	VBROADCASTSS 8(R8), Z22  // log2e
	VBROADCASTSS 12(R8), Z23 // magic
	VBROADCASTSS 16(R8), Z24 // ln2hi
	VBROADCASTSS 20(R8), Z25 // ln2lo
	VBROADCASTSS 24(R8), Z26 // 1/720
	VBROADCASTSS 28(R8), Z27 // 1/120
	VBROADCASTSS 32(R8), Z28 // 1/24
	VBROADCASTSS 36(R8), Z29 // 1/6
	VBROADCASTSS 40(R8), Z30 // 0.5
	VBROADCASTSS 44(R8), Z31 // 1

nrow:
	XORQ DX, DX // byte offset in acc, mi, a, b
	XORQ BX, BX // byte offset in out
	MOVQ cb+40(FP), CX
	SHRQ $4, CX

ncol:
	VMOVDQU32 (SI)(DX*1), Z0
	VPSUBD (R10)(DX*1), Z0, Z0
	VCVTDQ2PS Z0, Z0
	VMULPS (R11)(DX*1), Z0, Z0
	VADDPS (R12)(DX*1), Z0, Z0 // y
	VPXORD Z18, Z0, Z1         // x = −y
	VMAXPS Z1, Z20, Z1         // Exp32(x), as expAVX512
	VMINPS Z1, Z21, Z1
	VMULPS Z22, Z1, Z2
	VADDPS Z23, Z2, Z2
	VSUBPS Z23, Z2, Z2 // n
	VMULPS Z24, Z2, Z3
	VSUBPS Z3, Z1, Z3
	VMULPS Z25, Z2, Z4
	VSUBPS Z4, Z3, Z3 // r
	VMULPS Z3, Z26, Z4
	VADDPS Z27, Z4, Z4
	VMULPS Z3, Z4, Z4
	VADDPS Z28, Z4, Z4
	VMULPS Z3, Z4, Z4
	VADDPS Z29, Z4, Z4
	VMULPS Z3, Z4, Z4
	VADDPS Z30, Z4, Z4
	VMULPS Z3, Z4, Z4
	VADDPS Z31, Z4, Z4
	VMULPS Z3, Z4, Z4
	VADDPS Z31, Z4, Z4
	VCVTTPS2DQ Z2, Z5
	VPADDD Z19, Z5, Z5
	VPSLLD $23, Z5, Z5
	VMULPS Z5, Z4, Z1  // e^−y
	VADDPS Z31, Z1, Z1 // 1 + e^−y
	VDIVPS Z1, Z0, Z0  // SiLU
	VMULPS Z14, Z0, Z0 // requant8
	VADDPS Z15, Z0, Z0
	VMINPS Z16, Z0, Z0
	VMAXPS Z17, Z0, Z0
	VADDPS Z23, Z0, Z0
	VPSUBD Z13, Z0, Z0
	VPMOVDB Z0, (DI)(BX*1)
	ADDQ $64, DX
	ADDQ $16, BX
	DECQ CX
	JNZ ncol
	MOVQ c+32(FP), AX
	LEAQ (SI)(AX*4), SI
	ADDQ ostride+8(FP), DI
	DECQ R9
	JNZ nrow
	VZEROUPPER
	RET
