#include "textflag.h"

// func quantizeAffineAVX512(dst *int8, src *float32, n int, invScale, zf float32)
// QuantizeAffine on n values, n a positive multiple of 16: v = src·inv + zf (two roundings,
// no FMA), NaN → zf, min with 127, VCVTPS2DQ (round half to even in the default MXCSR),
// VPMOVSDB. No max with −128: VCVTPS2DQ gives INT_MIN below −2³¹ and the saturating
// narrowing takes everything below −128 to −128.
TEXT ·quantizeAffineAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS invScale+24(FP), Z4
	VBROADCASTSS zf+28(FP), Z3
	MOVL $0x42fe0000, AX // 127.0
	VPBROADCASTD AX, Z5
	SHRQ $4, CX

qa512:
	VMULPS (SI), Z4, Z0
	VADDPS Z3, Z0, Z0
	VCMPPS $3, Z0, Z0, K1 // unordered: NaN lanes
	VMOVAPS Z3, K1, Z0    // NaN -> zero point
	VMINPS Z5, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPMOVSDB Z0, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	DECQ CX
	JNZ qa512
	VZEROUPPER
	RET

// func quantizeAffineAVX2(dst *int8, src *float32, n int, invScale, zf float32)
// quantizeAffineAVX512 on 8 lanes, n a positive multiple of 8 (VPACKSSDW and VPACKSSWB
// saturate as VPMOVSDB does).
TEXT ·quantizeAffineAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS invScale+24(FP), Y4
	VBROADCASTSS zf+28(FP), Y3
	MOVL $0x42fe0000, AX // 127.0
	VMOVD AX, X5
	VPBROADCASTD X5, Y5
	SHRQ $3, CX

qa256:
	VMULPS (SI), Y4, Y0
	VADDPS Y3, Y0, Y0
	VCMPPS $3, Y0, Y0, Y1 // unordered: NaN lanes all ones
	VBLENDVPS Y1, Y3, Y0, Y0
	VMINPS Y5, Y0, Y0
	VCVTPS2DQ Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKSSDW X1, X0, X0
	VPACKSSWB X0, X0, X0
	VMOVQ X0, (DI)
	ADDQ $32, SI
	ADDQ $8, DI
	DECQ CX
	JNZ qa256
	VZEROUPPER
	RET
