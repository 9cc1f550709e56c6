package armkernels

import "fmt"

// roundMagic is 1.5·2²³: adding and subtracting it rounds a float32 of
// magnitude below 2²² to the nearest integer, ties to even, in the FPU's
// default rounding mode, without a call to math.RoundToEven.
const roundMagic = 12582912

// QuantizeRow writes dst[i] = clamp(roundHalfEven(src[i]·invScale), -127, 127).
// NaN becomes 0. dst and src must have the same length (it panics otherwise).
// It does not allocate.
func (k *Kernels) QuantizeRow(dst []int8, src []float32, invScale float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("armkernels: QuantizeRow dst has %d values, src %d", len(dst), len(src)))
	}
	n := quantizeBlocks(k.helper, dst, src, invScale)
	quantizeGo(dst[n:], src[n:], invScale)
}

// quantizeGo is QuantizeRow in Go, for tails and machines without asm.
func quantizeGo(dst []int8, src []float32, invScale float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		v := float32(x * invScale) // the conversion forbids fusing with the add below
		switch {
		case v >= 127:
			v = 127
		case v <= -127:
			v = -127
		case v != v:
			v = 0
		default:
			v = float32(v+roundMagic) - roundMagic
		}
		dst[i] = int8(v)
	}
}

// QuantizeAffine writes dst[i] = clamp(roundHalfEven(float32(src[i]·invScale) + zero),
// -128, 127): the int8 input of a layer whose activations have zero point zero (an
// asymmetric range). NaN becomes zero. dst and src must have the same length and zero be
// in [-128, 127] (it panics otherwise). It does not allocate.
func (k *Kernels) QuantizeAffine(dst []int8, src []float32, invScale float32, zero int32) {
	if len(dst) != len(src) || zero < -128 || zero > 127 {
		panic(fmt.Sprintf("armkernels: QuantizeAffine dst has %d values, src %d, zero %d", len(dst), len(src), zero))
	}
	n := quantizeAffineBlocks(k.helper, dst, src, invScale, zero)
	quantizeAffineGo(dst[n:], src[n:], invScale, zero)
}

// quantizeAffineGo is QuantizeAffine in Go, the reference for the asm.
func quantizeAffineGo(dst []int8, src []float32, invScale float32, zero int32) {
	dst = dst[:len(src)]
	z := float32(zero)
	for i, x := range src {
		v := float32(x*invScale) + z // the conversion forbids fusing into an FMA
		switch {
		case v >= 127:
			dst[i] = 127
		case v <= -128:
			dst[i] = -128
		case v != v:
			dst[i] = int8(zero)
		default:
			dst[i] = int8(float32(v+roundMagic) - roundMagic)
		}
	}
}

// Dequantize writes dst[j] = float32(acc[j])·actScale·rowScale[j] + bias[j],
// the float output of a GEMM whose activations had scale actScale and whose
// weight row j had scale rowScale[j]. A nil bias adds nothing. All slices
// must have len(dst) values (it panics otherwise). It does not allocate.
func Dequantize(dst []float32, acc []int32, rowScale []float32, actScale float32, bias []float32) {
	acc, rowScale, bias = checkDequantize(dst, acc, rowScale, bias)
	if bias == nil {
		for j := range dst {
			dst[j] = float32(acc[j]) * actScale * rowScale[j]
		}
		return
	}
	for j := range dst {
		dst[j] = float32(float32(acc[j])*actScale*rowScale[j]) + bias[j] // no FMA: same bits on every arch
	}
}

// DequantizeReLU is Dequantize followed by max(0, ·).
func DequantizeReLU(dst []float32, acc []int32, rowScale []float32, actScale float32, bias []float32) {
	acc, rowScale, bias = checkDequantize(dst, acc, rowScale, bias)
	for j := range dst {
		v := float32(float32(acc[j]) * actScale * rowScale[j])
		if bias != nil {
			v += bias[j]
		}
		dst[j] = max(v, 0)
	}
}

// checkDequantize panics on mismatched lengths and reslices the inputs to
// len(dst) so the loops run without bounds checks.
func checkDequantize(dst []float32, acc []int32, rowScale, bias []float32) ([]int32, []float32, []float32) {
	n := len(dst)
	if len(acc) != n || len(rowScale) != n || (bias != nil && len(bias) != n) {
		panic(fmt.Sprintf("armkernels: Dequantize lengths dst %d, acc %d, rowScale %d, bias %d differ", n, len(acc), len(rowScale), len(bias)))
	}
	if bias != nil {
		bias = bias[:n]
	}
	return acc[:n], rowScale[:n], bias
}

// ReluRequant is the epilogue of a GEMM layer with a ReLU whose output feeds another int8
// layer: over rows of c channels,
//
//	out[i·c+j] = clamp(int32(float32(acc[i·c+j])·mul[j] + bias[j] + 0.5), 0, 127−zero) + zero
//
// where mul and bias carry the next layer's inverse scale folded in, and zero is the next
// layer's zero point (the code of 0). The conversion truncates, so for the non-negative
// values that survive the clamp this rounds half up. The caller keeps |acc·mul + bias| below
// 2³⁰. len(out) and len(acc) must be equal multiples of c, len(mul) and len(bias) at least c,
// zero in [-128, 127] (it panics otherwise). It does not allocate.
func (k *Kernels) ReluRequant(out []int8, c int, acc []int32, mul, bias []float32, zero int32) {
	if c <= 0 || len(out) != len(acc) || len(out)%c != 0 || len(mul) < c || len(bias) < c || zero < -128 || zero > 127 {
		panic(fmt.Sprintf("armkernels: ReluRequant with c %d, out %d, acc %d, mul %d, bias %d, zero %d", c, len(out), len(acc), len(mul), len(bias), zero))
	}
	if len(out) == 0 {
		return
	}
	if reluRequantBlocks(k.helper, out, c, acc, mul, bias, zero) {
		return
	}
	reluRequantGo(out, c, acc, mul, bias, zero)
}

// reluRequantGo is ReluRequant in Go, the reference for the asm.
func reluRequantGo(out []int8, c int, acc []int32, mul, bias []float32, zero int32) {
	mul, bias = mul[:c], bias[:c]
	hi := 127 - zero
	for i := 0; i+c <= len(out); i += c {
		a := acc[i : i+c]
		d := out[i : i+c]
		for j, v := range a {
			// The explicit float32 conversion forbids fusing into an FMA, so every
			// implementation rounds alike. Clamp in integers: branch-free.
			q := int32(float32(float32(v)*mul[j]) + bias[j] + 0.5)
			d[j] = int8(min(max(q, 0), hi) + zero)
		}
	}
}

// AddInt32 adds src into dst element by element (dst[i] += src[i], wrapping as Go does):
// the exact int32 col2im scatter of the transposed convs. len(dst) must be at least
// len(src) (it panics otherwise). It does not allocate.
func (k *Kernels) AddInt32(dst, src []int32) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("armkernels: AddInt32 dst has %d values, src %d", len(dst), len(src)))
	}
	n := addInt32Blocks(k.helper, dst, src)
	addInt32Go(dst[n:len(src)], src[n:])
}

// AddInt32Rows adds rows runs of n values, one stride apart on each side:
// dst[r·dstStride+i] += src[r·srcStride+i] for r < rows, i < n (wrapping as Go does). It is
// the col2im scatter of one input pixel of a transposed conv (one run per kernel row) in one
// call. Strides and counts must be non-negative and the runs inside the slices (it panics
// otherwise). It does not allocate.
func (k *Kernels) AddInt32Rows(dst []int32, dstStride int, src []int32, srcStride, rows, n int) {
	if rows < 0 || n < 0 || dstStride < 0 || srcStride < 0 {
		panic(fmt.Sprintf("armkernels: AddInt32Rows with rows %d, n %d, strides %d, %d", rows, n, dstStride, srcStride))
	}
	if rows == 0 || n == 0 {
		return
	}
	if (rows-1)*dstStride+n > len(dst) || (rows-1)*srcStride+n > len(src) {
		panic(fmt.Sprintf("armkernels: AddInt32Rows %d runs of %d (strides %d, %d) exceed dst %d / src %d values", rows, n, dstStride, srcStride, len(dst), len(src)))
	}
	m := addInt32RowsBlocks(k.helper, dst, dstStride, src, srcStride, rows, n)
	if m == n {
		return
	}
	for r := 0; r < rows; r++ {
		addInt32Go(dst[r*dstStride+m:r*dstStride+n], src[r*srcStride+m:r*srcStride+n])
	}
}

func addInt32Go(dst, src []int32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}
