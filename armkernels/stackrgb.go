package armkernels

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// StackRGB writes the stacked input of a 4×4, stride-2 convolution over an RGB image (HWC
// bytes, w pixels wide) whose input LUT is p − 128 (p XOR 0x80): for each of ho output rows
// and each of the w/2 units of that row, the 4 image rows under the kernel, 6 bytes (2
// pixels) each, as one 24-byte unit:
//
//	dst[((oy·(w/2)+u)·4+ky)·6+i] = int8(image[((2·oy+ky)·w+2·u)·3+i] ^ 0x80)
//
// (quant's sliding first layer then runs one GEMM over overlapping windows of these units).
// It writes exactly ho·(w/2)·24 bytes. w must be even and the image hold 2·ho+2 rows; other
// shapes are programming errors and panic with the numbers. It does not allocate.
func (k *Kernels) StackRGB(dst []int8, image []uint8, w, ho int) {
	per, rowLen := w/2, 3*w
	switch {
	case w <= 0 || w%2 != 0 || ho <= 0:
		panic(fmt.Sprintf("armkernels: StackRGB width %d, %d output rows", w, ho))
	case len(image) < (2*ho+2)*rowLen:
		panic(fmt.Sprintf("armkernels: StackRGB image holds %d bytes, %d rows of %d pixels need %d", len(image), 2*ho+2, w, (2*ho+2)*rowLen))
	case len(dst) < ho*per*24:
		panic(fmt.Sprintf("armkernels: StackRGB dst holds %d bytes, want %d", len(dst), ho*per*24))
	}
	dst = dst[:ho*per*24]
	if stackRGBBlocks(k.helper, dst, image, w, ho) {
		return
	}
	stackRGBGo(dst, image, w, ho)
}

// stackRGBGo is StackRGB in Go: each unit row moved as one 8-byte word with the sign bits
// flipped, whose 2 spilled bytes the next word (or unit) overwrites; the last unit, with no
// later write to absorb a spill, takes bytes.
func stackRGBGo(dst []int8, image []uint8, w, ho int) {
	const flip = 0x8080808080808080
	rowLen, per := 3*w, w/2
	for oy := 0; oy < ho; oy++ {
		s0, d0 := 2*oy*rowLen, oy*per*24
		n := per
		if oy == ho-1 {
			n-- // the last unit of all: no spill room after it, and no 2 bytes to read past the image
		}
		// Each row's bytes as one slice, so the loop does four loads and four stores per
		// unit with the bounds checked by four compares (int8 stores are not combined on
		// arm64, and per-ky offsets cost about 30 instructions a word).
		r0, r1 := image[s0:s0+6*n+2], image[s0+rowLen:s0+rowLen+6*n+2]
		r2, r3 := image[s0+2*rowLen:s0+2*rowLen+6*n+2], image[s0+3*rowLen:s0+3*rowLen+6*n+2]
		for u := 0; u < n; u++ {
			o := 6 * u
			dd := (*[32]byte)(unsafe.Pointer((*[32]int8)(dst[d0+24*u:]))) // the unit's bytes with its spill
			binary.LittleEndian.PutUint64(dd[0:], binary.LittleEndian.Uint64(r0[o:])^flip)
			binary.LittleEndian.PutUint64(dd[6:], binary.LittleEndian.Uint64(r1[o:])^flip)
			binary.LittleEndian.PutUint64(dd[12:], binary.LittleEndian.Uint64(r2[o:])^flip)
			binary.LittleEndian.PutUint64(dd[18:], binary.LittleEndian.Uint64(r3[o:])^flip)
		}
		for u := n; u < per; u++ {
			for ky := 0; ky < 4; ky++ {
				for i, p := range image[s0+ky*rowLen+6*u : s0+ky*rowLen+6*u+6] {
					dst[d0+24*u+6*ky+i] = int8(p ^ 0x80)
				}
			}
		}
	}
}
