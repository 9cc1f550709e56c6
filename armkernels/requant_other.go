//go:build !amd64

package armkernels

// quantizeBlocks: no asm quantiser on this arch; QuantizeRow runs in Go.
func quantizeBlocks(dst []int8, src []float32, invScale float32) int { return 0 }
