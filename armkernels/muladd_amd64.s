#include "textflag.h"

// func mulAddAVX512(a, w *float32, n int, v float32)
// a[j] += w[j]·v for n values, n a positive multiple of 16: VMULPS then VADDPS with a as
// the first addend, as Go's MULSS then ADDSS on amd64 (no FMA).
TEXT ·mulAddAVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS v+24(FP), Z1
	SHRQ $4, CX

m512:
	VMULPS (SI), Z1, Z0
	VMOVUPS (DI), Z2
	VADDPS Z0, Z2, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ m512
	VZEROUPPER
	RET

// func mulAddAVX2(a, w *float32, n int, v float32)
// mulAddAVX512 on 8 lanes, n a positive multiple of 8.
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS v+24(FP), Y1
	SHRQ $3, CX

m256:
	VMULPS (SI), Y1, Y0
	VMOVUPS (DI), Y2
	VADDPS Y0, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ m256
	VZEROUPPER
	RET
