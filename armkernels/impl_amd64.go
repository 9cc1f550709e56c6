package armkernels

import "golang.org/x/sys/cpu"

//go:generate go run ./_asm/gen.go

// amd64Impls is read once from x/sys/cpu (which honours GODEBUG=cpu.X=off).
var amd64Impls = detectAMD64(cpu.X86.HasAVX2, cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI)

func detectAMD64(avx2, vnni bool) []*Kernels {
	var ks []*Kernels
	if avx2 {
		ks = append(ks, &Kernels{Name: "avx2", kind: kindAVX2, rows: blockRows(kindAVX2)})
	}
	if vnni {
		ks = append(ks, &Kernels{Name: "avx512vnni", kind: kindVNNI, rows: blockRows(kindVNNI)})
	}
	return ks
}

func archImplementations() []*Kernels { return amd64Impls }

var hasAVX512F = cpu.X86.HasAVX512F

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
func quantizeBlocks(dst []int8, src []float32, invScale float32) int {
	n := len(src) &^ 15
	if !hasAVX512F || n == 0 {
		return 0
	}
	quantizeAVX512(&dst[0], &src[0], n, invScale)
	return n
}

// reluRequantAVX512 is ReluRequant over rows·c values, c a positive multiple of 16.
//
//go:noescape
func reluRequantAVX512(out *int8, acc *int32, rows, c int, mul, bias *float32, zero int32)

// reluRequantBlocks runs ReluRequant in asm when the channel count allows it.
func reluRequantBlocks(out []int8, c int, acc []int32, mul, bias []float32, zero int32) bool {
	if !hasAVX512F || c%16 != 0 {
		return false
	}
	reluRequantAVX512(&out[0], &acc[0], len(out)/c, c, &mul[0], &bias[0], zero)
	return true
}

// addInt32AVX512 adds n int32 values of src into dst, n a positive multiple of 16.
//
//go:noescape
func addInt32AVX512(dst, src *int32, n int)

// addInt32Blocks adds the longest prefix of src the asm handles and returns its length.
func addInt32Blocks(dst, src []int32) int {
	n := len(src) &^ 15
	if !hasAVX512F || n == 0 {
		return 0
	}
	addInt32AVX512(&dst[0], &src[0], n)
	return n
}

// expAVX512 is Exp over n values, n a positive multiple of 16; c points at expConsts.
//
//go:noescape
func expAVX512(dst, src *float32, n int, c *float32)

// expBlocks runs the longest prefix of Exp the asm handles and returns its length.
func expBlocks(dst, src []float32) int {
	n := len(src) &^ 15
	if !hasAVX512F || n == 0 {
		return 0
	}
	expAVX512(&dst[0], &src[0], n, &expConsts[0])
	return n
}
