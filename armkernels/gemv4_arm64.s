#include "textflag.h"

// The 4-bit GEMV on arm64 (gemv4.go, gemv4_arm64.go). Each 64-byte block holds K groups 2q
// and 2q+1 of one panel as nibbles n = w+8: AND 0x0F gives group 2q's, USHR #4 group
// 2q+1's, as bytes 0..15 that the signed dot products take as they are. The +8 is not
// subtracted per weight (8 SUBs per block and panel): every accumulator starts at
// init = −8·Σa instead (gemv4SumNEON), which takes the 8·Σ_p a[p] the nibbles add back
// out of every row at once. Activations are signed on arm64, so no other correction.
//
// Registers: R0 activations, R1-R4 the weight blocks of panels 0-3, R5 the pair count,
// V31 the 0x0F mask, V0-V15 the accumulators (panel p, quarter r: V(4p+r), lanes rows
// 16p+4r .. 16p+4r+3).

// func gemv4SumNEON(a *int8, pairs int) int
TEXT ·gemv4SumNEON(SB), NOSPLIT, $0-24
	MOVD a+0(FP), R0
	MOVD pairs+8(FP), R5
	VEOR V2.B16, V2.B16, V2.B16
sum:
	VLD1.P 8(R0), [V0.B8]
	WORD $0x0e202801 // saddlp v1.4h, v0.8b
	WORD $0x0e606822 // sadalp v2.2s, v1.4h
	SUBS $1, R5, R5
	BNE sum
	WORD $0x0ea2bc42 // addp v2.2s, v2.2s, v2.2s
	VMOV V2.S[0], R1
	MOVW R1, R1
	MOVD R1, ret+16(FP)
	RET

// func gemv4SDOT4(a *int8, w *byte, pstride int, pairs int, c *int32, init int)
TEXT ·gemv4SDOT4(SB), NOSPLIT, $0-48
	MOVD a+0(FP), R0
	MOVD w+8(FP), R1
	MOVD pstride+16(FP), R7
	MOVD pairs+24(FP), R5
	MOVD c+32(FP), R6
	MOVD init+40(FP), R8
	ADD R7, R1, R2
	ADD R7, R2, R3
	ADD R7, R3, R4
	VMOVI $15, V31.B16
	VDUP R8, V0.S4
	VDUP R8, V1.S4
	VDUP R8, V2.S4
	VDUP R8, V3.S4
	VDUP R8, V4.S4
	VDUP R8, V5.S4
	VDUP R8, V6.S4
	VDUP R8, V7.S4
	VDUP R8, V8.S4
	VDUP R8, V9.S4
	VDUP R8, V10.S4
	VDUP R8, V11.S4
	VDUP R8, V12.S4
	VDUP R8, V13.S4
	VDUP R8, V14.S4
	VDUP R8, V15.S4
loop:
	VLD1.P 8(R0), [V30.B8]
	VLD1.P 64(R1), [V16.B16, V17.B16, V18.B16, V19.B16]
	VLD1.P 64(R2), [V24.B16, V25.B16, V26.B16, V27.B16]
	VAND V31.B16, V16.B16, V20.B16
	VUSHR $4, V16.B16, V16.B16
	VAND V31.B16, V17.B16, V21.B16
	VUSHR $4, V17.B16, V17.B16
	VAND V31.B16, V18.B16, V22.B16
	VUSHR $4, V18.B16, V18.B16
	VAND V31.B16, V19.B16, V23.B16
	VUSHR $4, V19.B16, V19.B16
	WORD $0x4f9ee280 // sdot v0.4s, v20.16b, v30.4b[0]
	WORD $0x4f9ee2a1 // sdot v1.4s, v21.16b, v30.4b[0]
	WORD $0x4f9ee2c2 // sdot v2.4s, v22.16b, v30.4b[0]
	WORD $0x4f9ee2e3 // sdot v3.4s, v23.16b, v30.4b[0]
	WORD $0x4fbee200 // sdot v0.4s, v16.16b, v30.4b[1]
	WORD $0x4fbee221 // sdot v1.4s, v17.16b, v30.4b[1]
	WORD $0x4fbee242 // sdot v2.4s, v18.16b, v30.4b[1]
	WORD $0x4fbee263 // sdot v3.4s, v19.16b, v30.4b[1]
	VLD1.P 64(R3), [V16.B16, V17.B16, V18.B16, V19.B16]
	VAND V31.B16, V24.B16, V20.B16
	VUSHR $4, V24.B16, V24.B16
	VAND V31.B16, V25.B16, V21.B16
	VUSHR $4, V25.B16, V25.B16
	VAND V31.B16, V26.B16, V22.B16
	VUSHR $4, V26.B16, V26.B16
	VAND V31.B16, V27.B16, V23.B16
	VUSHR $4, V27.B16, V27.B16
	WORD $0x4f9ee284 // sdot v4.4s, v20.16b, v30.4b[0]
	WORD $0x4f9ee2a5 // sdot v5.4s, v21.16b, v30.4b[0]
	WORD $0x4f9ee2c6 // sdot v6.4s, v22.16b, v30.4b[0]
	WORD $0x4f9ee2e7 // sdot v7.4s, v23.16b, v30.4b[0]
	WORD $0x4fbee304 // sdot v4.4s, v24.16b, v30.4b[1]
	WORD $0x4fbee325 // sdot v5.4s, v25.16b, v30.4b[1]
	WORD $0x4fbee346 // sdot v6.4s, v26.16b, v30.4b[1]
	WORD $0x4fbee367 // sdot v7.4s, v27.16b, v30.4b[1]
	VLD1.P 64(R4), [V24.B16, V25.B16, V26.B16, V27.B16]
	VAND V31.B16, V16.B16, V20.B16
	VUSHR $4, V16.B16, V16.B16
	VAND V31.B16, V17.B16, V21.B16
	VUSHR $4, V17.B16, V17.B16
	VAND V31.B16, V18.B16, V22.B16
	VUSHR $4, V18.B16, V18.B16
	VAND V31.B16, V19.B16, V23.B16
	VUSHR $4, V19.B16, V19.B16
	WORD $0x4f9ee288 // sdot v8.4s, v20.16b, v30.4b[0]
	WORD $0x4f9ee2a9 // sdot v9.4s, v21.16b, v30.4b[0]
	WORD $0x4f9ee2ca // sdot v10.4s, v22.16b, v30.4b[0]
	WORD $0x4f9ee2eb // sdot v11.4s, v23.16b, v30.4b[0]
	WORD $0x4fbee208 // sdot v8.4s, v16.16b, v30.4b[1]
	WORD $0x4fbee229 // sdot v9.4s, v17.16b, v30.4b[1]
	WORD $0x4fbee24a // sdot v10.4s, v18.16b, v30.4b[1]
	WORD $0x4fbee26b // sdot v11.4s, v19.16b, v30.4b[1]
	VAND V31.B16, V24.B16, V20.B16
	VUSHR $4, V24.B16, V24.B16
	VAND V31.B16, V25.B16, V21.B16
	VUSHR $4, V25.B16, V25.B16
	VAND V31.B16, V26.B16, V22.B16
	VUSHR $4, V26.B16, V26.B16
	VAND V31.B16, V27.B16, V23.B16
	VUSHR $4, V27.B16, V27.B16
	WORD $0x4f9ee28c // sdot v12.4s, v20.16b, v30.4b[0]
	WORD $0x4f9ee2ad // sdot v13.4s, v21.16b, v30.4b[0]
	WORD $0x4f9ee2ce // sdot v14.4s, v22.16b, v30.4b[0]
	WORD $0x4f9ee2ef // sdot v15.4s, v23.16b, v30.4b[0]
	WORD $0x4fbee30c // sdot v12.4s, v24.16b, v30.4b[1]
	WORD $0x4fbee32d // sdot v13.4s, v25.16b, v30.4b[1]
	WORD $0x4fbee34e // sdot v14.4s, v26.16b, v30.4b[1]
	WORD $0x4fbee36f // sdot v15.4s, v27.16b, v30.4b[1]
	SUBS $1, R5, R5
	BNE loop
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R6)
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R6)
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], 64(R6)
	VST1.P [V12.S4, V13.S4, V14.S4, V15.S4], 64(R6)
	RET

// func gemv4SDOT1(a *int8, w *byte, pairs int, c *int32, init int)
TEXT ·gemv4SDOT1(SB), NOSPLIT, $0-40
	MOVD a+0(FP), R0
	MOVD w+8(FP), R1
	MOVD pairs+16(FP), R5
	MOVD c+24(FP), R6
	MOVD init+32(FP), R8
	VMOVI $15, V31.B16
	VDUP R8, V0.S4
	VDUP R8, V1.S4
	VDUP R8, V2.S4
	VDUP R8, V3.S4
loop:
	VLD1.P 8(R0), [V30.B8]
	VLD1.P 64(R1), [V16.B16, V17.B16, V18.B16, V19.B16]
	VAND V31.B16, V16.B16, V20.B16
	VUSHR $4, V16.B16, V16.B16
	VAND V31.B16, V17.B16, V21.B16
	VUSHR $4, V17.B16, V17.B16
	VAND V31.B16, V18.B16, V22.B16
	VUSHR $4, V18.B16, V18.B16
	VAND V31.B16, V19.B16, V23.B16
	VUSHR $4, V19.B16, V19.B16
	WORD $0x4f9ee280 // sdot v0.4s, v20.16b, v30.4b[0]
	WORD $0x4f9ee2a1 // sdot v1.4s, v21.16b, v30.4b[0]
	WORD $0x4f9ee2c2 // sdot v2.4s, v22.16b, v30.4b[0]
	WORD $0x4f9ee2e3 // sdot v3.4s, v23.16b, v30.4b[0]
	WORD $0x4fbee200 // sdot v0.4s, v16.16b, v30.4b[1]
	WORD $0x4fbee221 // sdot v1.4s, v17.16b, v30.4b[1]
	WORD $0x4fbee242 // sdot v2.4s, v18.16b, v30.4b[1]
	WORD $0x4fbee263 // sdot v3.4s, v19.16b, v30.4b[1]
	SUBS $1, R5, R5
	BNE loop
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R6)
	RET

// func gemv4NEON4(a *int8, w *byte, pstride int, pairs int, c *int32, init int)
TEXT ·gemv4NEON4(SB), NOSPLIT, $0-48
	MOVD a+0(FP), R0
	MOVD w+8(FP), R1
	MOVD pstride+16(FP), R7
	MOVD pairs+24(FP), R5
	MOVD c+32(FP), R6
	MOVD init+40(FP), R8
	ADD R7, R1, R2
	ADD R7, R2, R3
	ADD R7, R3, R4
	VMOVI $15, V31.B16
	VDUP R8, V0.S4
	VDUP R8, V1.S4
	VDUP R8, V2.S4
	VDUP R8, V3.S4
	VDUP R8, V4.S4
	VDUP R8, V5.S4
	VDUP R8, V6.S4
	VDUP R8, V7.S4
	VDUP R8, V8.S4
	VDUP R8, V9.S4
	VDUP R8, V10.S4
	VDUP R8, V11.S4
	VDUP R8, V12.S4
	VDUP R8, V13.S4
	VDUP R8, V14.S4
	VDUP R8, V15.S4
loop:
	VLD1R.P 4(R0), [V28.S4]
	VLD1R.P 4(R0), [V29.S4]
	VLD1.P 64(R1), [V16.B16, V17.B16, V18.B16, V19.B16]
	VAND V31.B16, V16.B16, V20.B16
	VUSHR $4, V16.B16, V16.B16
	VAND V31.B16, V17.B16, V21.B16
	VUSHR $4, V17.B16, V17.B16
	VAND V31.B16, V18.B16, V22.B16
	VUSHR $4, V18.B16, V18.B16
	VAND V31.B16, V19.B16, V23.B16
	VUSHR $4, V19.B16, V19.B16
	WORD $0x0e3cc298 // smull v24.8h, v20.8b, v28.8b
	WORD $0x0e3d8218 // smlal v24.8h, v16.8b, v29.8b
	WORD $0x4e3cc299 // smull2 v25.8h, v20.16b, v28.16b
	WORD $0x4e3d8219 // smlal2 v25.8h, v16.16b, v29.16b
	WORD $0x4e79bf18 // addp v24.8h, v24.8h, v25.8h
	WORD $0x4e606b00 // sadalp v0.4s, v24.8h
	WORD $0x0e3cc2ba // smull v26.8h, v21.8b, v28.8b
	WORD $0x0e3d823a // smlal v26.8h, v17.8b, v29.8b
	WORD $0x4e3cc2bb // smull2 v27.8h, v21.16b, v28.16b
	WORD $0x4e3d823b // smlal2 v27.8h, v17.16b, v29.16b
	WORD $0x4e7bbf5a // addp v26.8h, v26.8h, v27.8h
	WORD $0x4e606b41 // sadalp v1.4s, v26.8h
	WORD $0x0e3cc2d8 // smull v24.8h, v22.8b, v28.8b
	WORD $0x0e3d8258 // smlal v24.8h, v18.8b, v29.8b
	WORD $0x4e3cc2d9 // smull2 v25.8h, v22.16b, v28.16b
	WORD $0x4e3d8259 // smlal2 v25.8h, v18.16b, v29.16b
	WORD $0x4e79bf18 // addp v24.8h, v24.8h, v25.8h
	WORD $0x4e606b02 // sadalp v2.4s, v24.8h
	WORD $0x0e3cc2fa // smull v26.8h, v23.8b, v28.8b
	WORD $0x0e3d827a // smlal v26.8h, v19.8b, v29.8b
	WORD $0x4e3cc2fb // smull2 v27.8h, v23.16b, v28.16b
	WORD $0x4e3d827b // smlal2 v27.8h, v19.16b, v29.16b
	WORD $0x4e7bbf5a // addp v26.8h, v26.8h, v27.8h
	WORD $0x4e606b43 // sadalp v3.4s, v26.8h
	VLD1.P 64(R2), [V16.B16, V17.B16, V18.B16, V19.B16]
	VAND V31.B16, V16.B16, V20.B16
	VUSHR $4, V16.B16, V16.B16
	VAND V31.B16, V17.B16, V21.B16
	VUSHR $4, V17.B16, V17.B16
	VAND V31.B16, V18.B16, V22.B16
	VUSHR $4, V18.B16, V18.B16
	VAND V31.B16, V19.B16, V23.B16
	VUSHR $4, V19.B16, V19.B16
	WORD $0x0e3cc298 // smull v24.8h, v20.8b, v28.8b
	WORD $0x0e3d8218 // smlal v24.8h, v16.8b, v29.8b
	WORD $0x4e3cc299 // smull2 v25.8h, v20.16b, v28.16b
	WORD $0x4e3d8219 // smlal2 v25.8h, v16.16b, v29.16b
	WORD $0x4e79bf18 // addp v24.8h, v24.8h, v25.8h
	WORD $0x4e606b04 // sadalp v4.4s, v24.8h
	WORD $0x0e3cc2ba // smull v26.8h, v21.8b, v28.8b
	WORD $0x0e3d823a // smlal v26.8h, v17.8b, v29.8b
	WORD $0x4e3cc2bb // smull2 v27.8h, v21.16b, v28.16b
	WORD $0x4e3d823b // smlal2 v27.8h, v17.16b, v29.16b
	WORD $0x4e7bbf5a // addp v26.8h, v26.8h, v27.8h
	WORD $0x4e606b45 // sadalp v5.4s, v26.8h
	WORD $0x0e3cc2d8 // smull v24.8h, v22.8b, v28.8b
	WORD $0x0e3d8258 // smlal v24.8h, v18.8b, v29.8b
	WORD $0x4e3cc2d9 // smull2 v25.8h, v22.16b, v28.16b
	WORD $0x4e3d8259 // smlal2 v25.8h, v18.16b, v29.16b
	WORD $0x4e79bf18 // addp v24.8h, v24.8h, v25.8h
	WORD $0x4e606b06 // sadalp v6.4s, v24.8h
	WORD $0x0e3cc2fa // smull v26.8h, v23.8b, v28.8b
	WORD $0x0e3d827a // smlal v26.8h, v19.8b, v29.8b
	WORD $0x4e3cc2fb // smull2 v27.8h, v23.16b, v28.16b
	WORD $0x4e3d827b // smlal2 v27.8h, v19.16b, v29.16b
	WORD $0x4e7bbf5a // addp v26.8h, v26.8h, v27.8h
	WORD $0x4e606b47 // sadalp v7.4s, v26.8h
	VLD1.P 64(R3), [V16.B16, V17.B16, V18.B16, V19.B16]
	VAND V31.B16, V16.B16, V20.B16
	VUSHR $4, V16.B16, V16.B16
	VAND V31.B16, V17.B16, V21.B16
	VUSHR $4, V17.B16, V17.B16
	VAND V31.B16, V18.B16, V22.B16
	VUSHR $4, V18.B16, V18.B16
	VAND V31.B16, V19.B16, V23.B16
	VUSHR $4, V19.B16, V19.B16
	WORD $0x0e3cc298 // smull v24.8h, v20.8b, v28.8b
	WORD $0x0e3d8218 // smlal v24.8h, v16.8b, v29.8b
	WORD $0x4e3cc299 // smull2 v25.8h, v20.16b, v28.16b
	WORD $0x4e3d8219 // smlal2 v25.8h, v16.16b, v29.16b
	WORD $0x4e79bf18 // addp v24.8h, v24.8h, v25.8h
	WORD $0x4e606b08 // sadalp v8.4s, v24.8h
	WORD $0x0e3cc2ba // smull v26.8h, v21.8b, v28.8b
	WORD $0x0e3d823a // smlal v26.8h, v17.8b, v29.8b
	WORD $0x4e3cc2bb // smull2 v27.8h, v21.16b, v28.16b
	WORD $0x4e3d823b // smlal2 v27.8h, v17.16b, v29.16b
	WORD $0x4e7bbf5a // addp v26.8h, v26.8h, v27.8h
	WORD $0x4e606b49 // sadalp v9.4s, v26.8h
	WORD $0x0e3cc2d8 // smull v24.8h, v22.8b, v28.8b
	WORD $0x0e3d8258 // smlal v24.8h, v18.8b, v29.8b
	WORD $0x4e3cc2d9 // smull2 v25.8h, v22.16b, v28.16b
	WORD $0x4e3d8259 // smlal2 v25.8h, v18.16b, v29.16b
	WORD $0x4e79bf18 // addp v24.8h, v24.8h, v25.8h
	WORD $0x4e606b0a // sadalp v10.4s, v24.8h
	WORD $0x0e3cc2fa // smull v26.8h, v23.8b, v28.8b
	WORD $0x0e3d827a // smlal v26.8h, v19.8b, v29.8b
	WORD $0x4e3cc2fb // smull2 v27.8h, v23.16b, v28.16b
	WORD $0x4e3d827b // smlal2 v27.8h, v19.16b, v29.16b
	WORD $0x4e7bbf5a // addp v26.8h, v26.8h, v27.8h
	WORD $0x4e606b4b // sadalp v11.4s, v26.8h
	VLD1.P 64(R4), [V16.B16, V17.B16, V18.B16, V19.B16]
	VAND V31.B16, V16.B16, V20.B16
	VUSHR $4, V16.B16, V16.B16
	VAND V31.B16, V17.B16, V21.B16
	VUSHR $4, V17.B16, V17.B16
	VAND V31.B16, V18.B16, V22.B16
	VUSHR $4, V18.B16, V18.B16
	VAND V31.B16, V19.B16, V23.B16
	VUSHR $4, V19.B16, V19.B16
	WORD $0x0e3cc298 // smull v24.8h, v20.8b, v28.8b
	WORD $0x0e3d8218 // smlal v24.8h, v16.8b, v29.8b
	WORD $0x4e3cc299 // smull2 v25.8h, v20.16b, v28.16b
	WORD $0x4e3d8219 // smlal2 v25.8h, v16.16b, v29.16b
	WORD $0x4e79bf18 // addp v24.8h, v24.8h, v25.8h
	WORD $0x4e606b0c // sadalp v12.4s, v24.8h
	WORD $0x0e3cc2ba // smull v26.8h, v21.8b, v28.8b
	WORD $0x0e3d823a // smlal v26.8h, v17.8b, v29.8b
	WORD $0x4e3cc2bb // smull2 v27.8h, v21.16b, v28.16b
	WORD $0x4e3d823b // smlal2 v27.8h, v17.16b, v29.16b
	WORD $0x4e7bbf5a // addp v26.8h, v26.8h, v27.8h
	WORD $0x4e606b4d // sadalp v13.4s, v26.8h
	WORD $0x0e3cc2d8 // smull v24.8h, v22.8b, v28.8b
	WORD $0x0e3d8258 // smlal v24.8h, v18.8b, v29.8b
	WORD $0x4e3cc2d9 // smull2 v25.8h, v22.16b, v28.16b
	WORD $0x4e3d8259 // smlal2 v25.8h, v18.16b, v29.16b
	WORD $0x4e79bf18 // addp v24.8h, v24.8h, v25.8h
	WORD $0x4e606b0e // sadalp v14.4s, v24.8h
	WORD $0x0e3cc2fa // smull v26.8h, v23.8b, v28.8b
	WORD $0x0e3d827a // smlal v26.8h, v19.8b, v29.8b
	WORD $0x4e3cc2fb // smull2 v27.8h, v23.16b, v28.16b
	WORD $0x4e3d827b // smlal2 v27.8h, v19.16b, v29.16b
	WORD $0x4e7bbf5a // addp v26.8h, v26.8h, v27.8h
	WORD $0x4e606b4f // sadalp v15.4s, v26.8h
	SUBS $1, R5, R5
	BNE loop
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R6)
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R6)
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], 64(R6)
	VST1.P [V12.S4, V13.S4, V14.S4, V15.S4], 64(R6)
	RET

// func gemv4NEON1(a *int8, w *byte, pairs int, c *int32, init int)
TEXT ·gemv4NEON1(SB), NOSPLIT, $0-40
	MOVD a+0(FP), R0
	MOVD w+8(FP), R1
	MOVD pairs+16(FP), R5
	MOVD c+24(FP), R6
	MOVD init+32(FP), R8
	VMOVI $15, V31.B16
	VDUP R8, V0.S4
	VDUP R8, V1.S4
	VDUP R8, V2.S4
	VDUP R8, V3.S4
loop:
	VLD1R.P 4(R0), [V28.S4]
	VLD1R.P 4(R0), [V29.S4]
	VLD1.P 64(R1), [V16.B16, V17.B16, V18.B16, V19.B16]
	VAND V31.B16, V16.B16, V20.B16
	VUSHR $4, V16.B16, V16.B16
	VAND V31.B16, V17.B16, V21.B16
	VUSHR $4, V17.B16, V17.B16
	VAND V31.B16, V18.B16, V22.B16
	VUSHR $4, V18.B16, V18.B16
	VAND V31.B16, V19.B16, V23.B16
	VUSHR $4, V19.B16, V19.B16
	WORD $0x0e3cc298 // smull v24.8h, v20.8b, v28.8b
	WORD $0x0e3d8218 // smlal v24.8h, v16.8b, v29.8b
	WORD $0x4e3cc299 // smull2 v25.8h, v20.16b, v28.16b
	WORD $0x4e3d8219 // smlal2 v25.8h, v16.16b, v29.16b
	WORD $0x4e79bf18 // addp v24.8h, v24.8h, v25.8h
	WORD $0x4e606b00 // sadalp v0.4s, v24.8h
	WORD $0x0e3cc2ba // smull v26.8h, v21.8b, v28.8b
	WORD $0x0e3d823a // smlal v26.8h, v17.8b, v29.8b
	WORD $0x4e3cc2bb // smull2 v27.8h, v21.16b, v28.16b
	WORD $0x4e3d823b // smlal2 v27.8h, v17.16b, v29.16b
	WORD $0x4e7bbf5a // addp v26.8h, v26.8h, v27.8h
	WORD $0x4e606b41 // sadalp v1.4s, v26.8h
	WORD $0x0e3cc2d8 // smull v24.8h, v22.8b, v28.8b
	WORD $0x0e3d8258 // smlal v24.8h, v18.8b, v29.8b
	WORD $0x4e3cc2d9 // smull2 v25.8h, v22.16b, v28.16b
	WORD $0x4e3d8259 // smlal2 v25.8h, v18.16b, v29.16b
	WORD $0x4e79bf18 // addp v24.8h, v24.8h, v25.8h
	WORD $0x4e606b02 // sadalp v2.4s, v24.8h
	WORD $0x0e3cc2fa // smull v26.8h, v23.8b, v28.8b
	WORD $0x0e3d827a // smlal v26.8h, v19.8b, v29.8b
	WORD $0x4e3cc2fb // smull2 v27.8h, v23.16b, v28.16b
	WORD $0x4e3d827b // smlal2 v27.8h, v19.16b, v29.16b
	WORD $0x4e7bbf5a // addp v26.8h, v26.8h, v27.8h
	WORD $0x4e606b43 // sadalp v3.4s, v26.8h
	SUBS $1, R5, R5
	BNE loop
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R6)
	RET
