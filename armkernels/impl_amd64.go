package armkernels

import "golang.org/x/sys/cpu"

//go:generate go run ./_asm/gen.go

// amd64GEMMs and amd64Helpers are read once from x/sys/cpu (which honours
// GODEBUG=cpu.X=off).
var (
	amd64GEMMs   = detectAMD64(cpu.X86.HasAVX2, cpu.X86.HasAVX2 && cpu.X86.HasAVXVNNI, cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI)
	amd64Helpers = detectHelpers(cpu.X86.HasAVX2, cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW)
)

func detectAMD64(avx2, avxvnni, vnni bool) []gemmPath {
	var gs []gemmPath
	if avx2 {
		gs = append(gs, gemmPath{"avx2", kindAVX2, helperAVX2})
	}
	if avxvnni {
		// The 256-bit VPDPBUSD of AVX2 machines without AVX-512 (Alder Lake and later);
		// RSSMD_KERNEL=avx2 forces the plain AVX2 GEMM (GODEBUG=cpu.avxvnni=off does too, but
		// the Go runtime, which does not know the feature, warns about it at start-up).
		gs = append(gs, gemmPath{"avxvnni", kindAVXVNNI, helperAVX2})
	}
	if vnni {
		gs = append(gs, gemmPath{"avx512vnni", kindVNNI, helperAVX512})
	}
	return gs
}

// detectHelpers lists the helper levels beyond Go this CPU runs, slowest first. They
// depend on the CPU alone, not on the GEMM: AVX-512 F+BW without VNNI still gets them.
func detectHelpers(avx2, avx512 bool) []helperLevel {
	var hs []helperLevel
	if avx2 {
		hs = append(hs, helperAVX2)
	}
	if avx512 {
		hs = append(hs, helperAVX512)
	}
	return hs
}

func archPaths() ([]gemmPath, []helperLevel) { return amd64GEMMs, amd64Helpers }

// blockLoop: the amd64 block kernels take one block per call.
const blockLoop = false

// lanes is the block size of helper level h, 0 for Go.
func lanes(h helperLevel) int {
	switch h {
	case helperAVX512:
		return 16
	case helperAVX2:
		return 8
	}
	return 0
}

//go:noescape
func quantizeAVX2(dst *int8, src *float32, n int, invScale float32)

//go:noescape
func reluRequantAVX2(out *int8, acc *int32, rows, c int, mul, bias *float32, zero int32)

//go:noescape
func addInt32AVX2(dst, src *int32, n int)

//go:noescape
func expAVX2(dst, src *float32, n int, c *float32)

// quantizeAVX512 runs QuantizeRow on n&^15 values with AVX-512F
// (VCVTPS2DQ in the default rounding mode, VPMOVSDB). The Go loop it implements:
//
//	for i := 0; i < n&^15; i++ {
//		v := src[i] * invScale
//		if v != v { v = 0 }
//		dst[i] = int8(math.RoundToEven(min(max(v, -127), 127)))
//	}
//
//go:noescape
func quantizeAVX512(dst *int8, src *float32, n int, invScale float32)

// quantizeBlocks quantises the longest prefix the asm handles and returns its length.
func quantizeBlocks(h helperLevel, dst []int8, src []float32, invScale float32) int {
	l := lanes(h)
	if l == 0 || len(src) < l {
		return 0
	}
	n := len(src) &^ (l - 1)
	if l == 16 {
		quantizeAVX512(&dst[0], &src[0], n, invScale)
	} else {
		quantizeAVX2(&dst[0], &src[0], n, invScale)
	}
	return n
}

// reluRequantAVX512 is ReluRequant over rows·c values, c a positive multiple of 16.
//
//go:noescape
func reluRequantAVX512(out *int8, acc *int32, rows, c int, mul, bias *float32, zero int32)

// reluRequantBlocks runs ReluRequant in asm when the channel count allows it.
func reluRequantBlocks(h helperLevel, out []int8, c int, acc []int32, mul, bias []float32, zero int32) bool {
	switch {
	case h == helperAVX512 && c%16 == 0:
		reluRequantAVX512(&out[0], &acc[0], len(out)/c, c, &mul[0], &bias[0], zero)
	case (h == helperAVX512 || h == helperAVX2) && c%8 == 0:
		reluRequantAVX2(&out[0], &acc[0], len(out)/c, c, &mul[0], &bias[0], zero)
	default:
		return false
	}
	return true
}

// addInt32AVX512 adds n int32 values of src into dst, n a positive multiple of 16.
//
//go:noescape
func addInt32AVX512(dst, src *int32, n int)

// addInt32Blocks adds the longest prefix of src the asm handles and returns its length.
func addInt32Blocks(h helperLevel, dst, src []int32) int {
	l := lanes(h)
	if l == 0 || len(src) < l {
		return 0
	}
	n := len(src) &^ (l - 1)
	if l == 16 {
		addInt32AVX512(&dst[0], &src[0], n)
	} else {
		addInt32AVX2(&dst[0], &src[0], n)
	}
	return n
}

// addInt32RowsAVX512 adds rows runs of n int32 (n a positive multiple of 16), strides in
// bytes.
//
//go:noescape
func addInt32RowsAVX512(dst *int32, dstStride int, src *int32, srcStride, rows, n int)

//go:noescape
func addInt32RowsAVX2(dst *int32, dstStride int, src *int32, srcStride, rows, n int)

// addInt32RowsBlocks adds the first n&^(lanes−1) values of every run in asm and returns
// that count.
func addInt32RowsBlocks(h helperLevel, dst []int32, dstStride int, src []int32, srcStride, rows, n int) int {
	l := lanes(h)
	if l == 0 || n < l {
		return 0
	}
	m := n &^ (l - 1)
	if l == 16 {
		addInt32RowsAVX512(&dst[0], 4*dstStride, &src[0], 4*srcStride, rows, m)
	} else {
		addInt32RowsAVX2(&dst[0], 4*dstStride, &src[0], 4*srcStride, rows, m)
	}
	return m
}

// expAVX512 is Exp over n values, n a positive multiple of 16; c points at expConsts.
//
//go:noescape
func expAVX512(dst, src *float32, n int, c *float32)

// expBlocks runs the longest prefix of Exp the asm handles and returns its length.
func expBlocks(h helperLevel, dst, src []float32) int {
	l := lanes(h)
	if l == 0 || len(src) < l {
		return 0
	}
	n := len(src) &^ (l - 1)
	if l == 16 {
		expAVX512(&dst[0], &src[0], n, &expConsts[0])
	} else {
		expAVX2(&dst[0], &src[0], n, &expConsts[0])
	}
	return n
}

// quantizeAffineAVX512 and quantizeAffineAVX2 are QuantizeAffine on n values (n a positive
// multiple of 16 or 8), zf = float32(zero). The Go loop they implement (quantizeAffineGo):
//
//	for i := 0; i < n; i++ {
//		v := float32(src[i]*invScale) + zf
//		if v != v { v = zf }
//		dst[i] = int8(math.RoundToEven(min(max(v, -128), 127)))
//	}
//
//go:noescape
func quantizeAffineAVX512(dst *int8, src *float32, n int, invScale, zf float32)

//go:noescape
func quantizeAffineAVX2(dst *int8, src *float32, n int, invScale, zf float32)

// quantizeAffineBlocks quantises the longest prefix the asm handles and returns its length.
func quantizeAffineBlocks(h helperLevel, dst []int8, src []float32, invScale float32, zero int32) int {
	l := lanes(h)
	if l == 0 || len(src) < l {
		return 0
	}
	n := len(src) &^ (l - 1)
	if l == 16 {
		quantizeAffineAVX512(&dst[0], &src[0], n, invScale, float32(zero))
	} else {
		quantizeAffineAVX2(&dst[0], &src[0], n, invScale, float32(zero))
	}
	return n
}

// mulAddAVX512 and mulAddAVX2 are MulAdd on n values (n a positive multiple of 16 or 8):
// a[j] += w[j]·v as VMULPS then VADDPS, the rounding of Go's MULSS then ADDSS on amd64 (Go
// does not fuse them here). The Go loop they implement is mulAddGo.
//
//go:noescape
func mulAddAVX512(a, w *float32, n int, v float32)

//go:noescape
func mulAddAVX2(a, w *float32, n int, v float32)

// mulAddBlocks runs the longest prefix of MulAdd the asm handles and returns its length.
func mulAddBlocks(h helperLevel, a, w []float32, v float32) int {
	l := lanes(h)
	if l == 0 || len(a) < l {
		return 0
	}
	n := len(a) &^ (l - 1)
	if l == 16 {
		mulAddAVX512(&a[0], &w[0], n, v)
	} else {
		mulAddAVX2(&a[0], &w[0], n, v)
	}
	return n
}

// lnSumBlocks, lnSqBlocks, lnApplyBlocks: LayerNorm runs in Go on amd64 (three calls per
// step on vectors of a few hundred values).
func lnSumBlocks(h helperLevel, x []float32) (n int, s0, s1, s2, s3 float64) { return }

func lnSqBlocks(h helperLevel, x []float32, mean float64) (n int, s0, s1, s2, s3 float64) {
	return
}

func lnApplyBlocks(h helperLevel, y, x, g, b []float32, mean, inv float32) int { return 0 }

// stackRGBBlocks: StackRGB runs its Go word moves on amd64 (unaligned 8-byte loads and
// stores are single instructions there).
func stackRGBBlocks(h helperLevel, dst []int8, image []uint8, w, ho int) bool { return false }

// copyRowsBlocks: CopyRows copies with Go's copy (memmove) on amd64.
func copyRowsBlocks(h helperLevel, dst []int8, dstStride int, src []int8, srcStride, rows, n int) int {
	return 0
}
