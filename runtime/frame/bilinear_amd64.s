#include "textflag.h"

// One source pixel of 8 output columns: gather the 4-byte YUV pair holding it (byte
// offsets at off(BX)), take Y with the per-column shift at sh(BX) and U, V with the format's
// shifts (X12, X11), look the five Q8 terms up in the yuvTables at R8 and clamp R, G, B to
// [0, q8Max] exactly as rgbQ8 does. Leaves R, G, B in Y7, Y8, Y9; uses Y0-Y6.
#define TAP(row, off, sh) \
	VMOVDQU off(BX), Y2; \
	VPCMPEQD Y0, Y0, Y0; \
	VPGATHERDD Y0, (row)(Y2*1), Y1; \
	VMOVDQU sh(BX), Y3; \
	VPSRLVD Y3, Y1, Y2; \
	VPAND Y15, Y2, Y2; \
	VPSRLD X12, Y1, Y3; \
	VPAND Y15, Y3, Y3; \
	VPSRLD X11, Y1, Y4; \
	VPAND Y15, Y4, Y4; \
	VPCMPEQD Y0, Y0, Y0; \
	VPGATHERDD Y0, (R8)(Y2*4), Y5; \
	VPCMPEQD Y0, Y0, Y0; \
	VPGATHERDD Y0, 1024(R8)(Y4*4), Y6; \
	VPADDD Y6, Y5, Y7; \
	VPMAXSD Y13, Y7, Y7; \
	VPMINSD Y14, Y7, Y7; \
	VPCMPEQD Y0, Y0, Y0; \
	VPGATHERDD Y0, 2048(R8)(Y3*4), Y6; \
	VPCMPEQD Y0, Y0, Y0; \
	VPGATHERDD Y0, 3072(R8)(Y4*4), Y1; \
	VPSUBD Y6, Y5, Y8; \
	VPSUBD Y1, Y8, Y8; \
	VPMAXSD Y13, Y8, Y8; \
	VPMINSD Y14, Y8, Y8; \
	VPCMPEQD Y0, Y0, Y0; \
	VPGATHERDD Y0, 4096(R8)(Y3*4), Y6; \
	VPADDD Y6, Y5, Y9; \
	VPMAXSD Y13, Y9, Y9; \
	VPMINSD Y14, Y9, Y9

// Horizontal blend of one channel: left tap at mem, right tap in reg, wx in Y10:
// reg = left<<14 + (right-left)·wx (int32, exact: blend4's h0).
#define HBLEND(mem, reg) \
	VMOVDQU mem, Y0; \
	VPSUBD Y0, reg, reg; \
	VPMULLD Y10, reg, reg; \
	VPSLLD $14, Y0, Y0; \
	VPADDD Y0, reg, reg

// Vertical blend of one channel in 64 bits: top row h0 at mem, bottom h1 in reg, wy in
// Y10, the low-dword mask in Y6 and 2^35 in Y5: reg = (h0<<14 + (h1-h0)·wy + 2^35) >> 36,
// even and odd lanes through VPMULDQ.
#define VBLEND(mem, reg) \
	VMOVDQU mem, Y0; \
	VPSUBD Y0, reg, Y1; \
	VPMULDQ Y10, Y1, Y2; \
	VPSRLQ $32, Y1, Y1; \
	VPMULDQ Y10, Y1, Y1; \
	VPAND Y6, Y0, Y3; \
	VPSLLQ $14, Y3, Y3; \
	VPADDQ Y3, Y2, Y2; \
	VPADDQ Y5, Y2, Y2; \
	VPSRLQ $36, Y2, Y2; \
	VPSRLQ $32, Y0, Y3; \
	VPSLLQ $14, Y3, Y3; \
	VPADDQ Y3, Y1, Y1; \
	VPADDQ Y5, Y1, Y1; \
	VPSRLQ $36, Y1, Y1; \
	VPSLLQ $32, Y1, Y1; \
	VPOR Y1, Y2, reg

// func bilinearRowAVX2(dst *byte, row0, row1 *byte, cols *int32, groups int, wy int32, t *int32, ush, vsh uint64, k *uint64)
// One output row of the packed-YUV bilinear path, 8 columns per group (bgroup layout:
// off0, off1, sh0, sh1, wx, 8 int32 each), bit-identical to bilinearYUYV/UYVY. t points at
// a yuvTables, k at bilinConsts.
TEXT ·bilinearRowAVX2(SB), NOSPLIT, $192-80
	MOVQ dst+0(FP), DI
	MOVQ row0+8(FP), SI
	MOVQ row1+16(FP), DX
	MOVQ cols+24(FP), BX
	MOVQ groups+32(FP), CX
	MOVQ t+48(FP), R8
	MOVQ k+72(FP), R9
	MOVL wy+40(FP), R10
	MOVQ ush+56(FP), X12
	MOVQ vsh+64(FP), X11
	MOVL $0xff, AX
	MOVL AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0xff00, AX // q8Max
	MOVL AX, X14
	VPBROADCASTD X14, Y14
	VPXOR Y13, Y13, Y13

group:
	TAP(SI, 0, 64)
	VMOVDQU Y7, 0(SP)
	VMOVDQU Y8, 32(SP)
	VMOVDQU Y9, 64(SP)
	TAP(SI, 32, 96)
	VMOVDQU 128(BX), Y10
	HBLEND(0(SP), Y7)
	HBLEND(32(SP), Y8)
	HBLEND(64(SP), Y9)
	VMOVDQU Y7, 96(SP)
	VMOVDQU Y8, 128(SP)
	VMOVDQU Y9, 160(SP)
	TAP(DX, 0, 64)
	VMOVDQU Y7, 0(SP)
	VMOVDQU Y8, 32(SP)
	VMOVDQU Y9, 64(SP)
	TAP(DX, 32, 96)
	VMOVDQU 128(BX), Y10
	HBLEND(0(SP), Y7)
	HBLEND(32(SP), Y8)
	HBLEND(64(SP), Y9)
	MOVL R10, X10
	VPBROADCASTD X10, Y10
	VPBROADCASTQ 0(R9), Y6
	VPBROADCASTQ 8(R9), Y5
	VBLEND(96(SP), Y7)
	VBLEND(128(SP), Y8)
	VBLEND(160(SP), Y9)
	// Pack 8 pixels: dwords R | G<<8 | B<<16, then 12 bytes per 128-bit lane.
	VPSLLD $8, Y8, Y8
	VPSLLD $16, Y9, Y9
	VPOR Y8, Y7, Y7
	VPOR Y9, Y7, Y7
	VMOVDQU 16(R9), Y0
	VPSHUFB Y0, Y7, Y7
	MOVQ X7, 0(DI)
	VPEXTRD $2, X7, 8(DI)
	VEXTRACTI128 $1, Y7, X0
	MOVQ X0, 12(DI)
	VPEXTRD $2, X0, 20(DI)
	ADDQ $24, DI
	ADDQ $160, BX
	DECQ CX
	JNZ group
	VZEROUPPER
	RET
