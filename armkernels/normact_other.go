//go:build !amd64 && !arm64

package armkernels

// normStatsBlocks: NormStats runs in Go here (asm on amd64 and arm64).
func normStatsBlocks(h helperLevel, s1, s2 []int64, acc []int32, c int) int { return 0 }

// normSiLUBlocks: NormSiLU runs in Go here.
func normSiLUBlocks(h helperLevel, out []int8, ostride int, acc []int32, c int, mi []int32, a, b []float32, inv float32, zero int32) int {
	return 0
}
