//go:build !amd64 && !arm64

package armkernels

// quantizeBlocks: no asm quantiser on this arch; QuantizeRow runs in Go.
func quantizeBlocks(h helperLevel, dst []int8, src []float32, invScale float32) int { return 0 }

// reluRequantBlocks: no asm requantiser on this arch.
func reluRequantBlocks(h helperLevel, out []int8, c int, acc []int32, mul, bias []float32, zero int32) bool {
	return false
}

// addInt32Blocks: no asm on this arch; AddInt32 runs in Go.
func addInt32Blocks(h helperLevel, dst, src []int32) int { return 0 }

// addInt32RowsBlocks: no asm on this arch.
func addInt32RowsBlocks(h helperLevel, dst []int32, dstStride int, src []int32, srcStride, rows, n int) int {
	return 0
}

// expBlocks: no asm on this arch; Exp runs in Go.
func expBlocks(h helperLevel, dst, src []float32) int { return 0 }

// quantizeAffineBlocks: no asm on this arch.
func quantizeAffineBlocks(h helperLevel, dst []int8, src []float32, invScale float32, zero int32) int {
	return 0
}

// mulAddBlocks: no asm on this arch; MulAdd runs in Go.
func mulAddBlocks(h helperLevel, a, w []float32, v float32) int { return 0 }

// lnSumBlocks, lnSqBlocks, lnApplyBlocks: LayerNorm runs in Go on this arch.
func lnSumBlocks(h helperLevel, x []float32) (n int, s0, s1, s2, s3 float64) { return }

func lnSqBlocks(h helperLevel, x []float32, mean float64) (n int, s0, s1, s2, s3 float64) {
	return
}

func lnApplyBlocks(h helperLevel, y, x, g, b []float32, mean, inv float32) int { return 0 }

// stackRGBBlocks: StackRGB runs in Go on this arch.
func stackRGBBlocks(h helperLevel, dst []int8, image []uint8, w, ho int) bool { return false }

// copyRowsBlocks: CopyRows copies with Go's copy on this arch.
func copyRowsBlocks(h helperLevel, dst []int8, dstStride int, src []int8, srcStride, rows, n int) int {
	return 0
}
