#include "textflag.h"

// func quantizeAVX512(dst *int8, src *float32, n int, invScale float32)
TEXT ·quantizeAVX512(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS invScale+24(FP), Z4
	MOVL $0x42fe0000, AX // 127.0
	VPBROADCASTD AX, Z5
	MOVL $0xc2fe0000, AX // -127.0
	VPBROADCASTD AX, Z6
	SHRQ $4, CX
	JZ done

loop:
	VMULPS (SI), Z4, Z0
	VCMPPS $3, Z0, Z0, K1 // unordered: NaN lanes
	VPXORD Z1, Z1, Z1
	VMOVAPS Z1, K1, Z0    // NaN -> 0
	VMINPS Z5, Z0, Z0
	VMAXPS Z6, Z0, Z0
	VCVTPS2DQ Z0, Z0      // MXCSR default: round half to even
	VPMOVSDB Z0, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	DECQ CX
	JNZ loop

done:
	VZEROUPPER
	RET
