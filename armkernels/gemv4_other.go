//go:build !amd64 && !arm64

package armkernels

// haveGemv4: no 4-bit GEMV kernel on this arch yet; matrices keep only their int8 layout.
const haveGemv4 = false

// hasGemv4: no GEMM path of this arch runs the 4-bit GEMV.
func hasGemv4(kind kernelKind) bool { return false }

// gemv4 is never reached: hasGemv4 is false.
func gemv4(kind kernelKind, c []int32, a []int8, w *Matrix) {
	panic("armkernels: no 4-bit GEMV on this arch")
}
