#include "textflag.h"

// func expAVX512(dst, src *float32, n int, c *float32)
// Exp32 on 16 lanes, the same float32 operations in the same order (no FMA). c holds
// expConsts: lo, hi, log2e, magic, ln2hi, ln2lo, then the polynomial 1/720 … 1, 1.
TEXT ·expAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), R8
	VBROADCASTSS 0(R8), Z20  // -87
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
	MOVL $127, AX
	VPBROADCASTD AX, Z19
	SHRQ $4, CX

loop:
	VMOVUPS (SI), Z0
	VMAXPS Z0, Z20, Z0 // second source is x: NaN passes through
	VMINPS Z0, Z21, Z0
	VMULPS Z22, Z0, Z1 // n = (x·log2e + magic) − magic
	VADDPS Z23, Z1, Z1
	VSUBPS Z23, Z1, Z1
	VMULPS Z24, Z1, Z2 // r = (x − n·ln2hi) − n·ln2lo
	VSUBPS Z2, Z0, Z2
	VMULPS Z25, Z1, Z3
	VSUBPS Z3, Z2, Z2
	VMULPS Z2, Z26, Z4 // p = ((1/720·r + 1/120)·r + …)
	VADDPS Z27, Z4, Z4
	VMULPS Z2, Z4, Z4
	VADDPS Z28, Z4, Z4
	VMULPS Z2, Z4, Z4
	VADDPS Z29, Z4, Z4
	VMULPS Z2, Z4, Z4
	VADDPS Z30, Z4, Z4
	VMULPS Z2, Z4, Z4
	VADDPS Z31, Z4, Z4
	VMULPS Z2, Z4, Z4
	VADDPS Z31, Z4, Z4
	VCVTTPS2DQ Z1, Z5  // 2^n: (n + 127) << 23
	VPADDD Z19, Z5, Z5
	VPSLLD $23, Z5, Z5
	VMULPS Z5, Z4, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loop
	VZEROUPPER
	RET
