//go:build !amd64

package armkernels

// haveGemv4: no 4-bit GEMV kernel on this arch yet; matrices keep only their int8 layout.
const haveGemv4 = false

// gemv4 is never reached: without haveGemv4 no Matrix holds nibbles.
func gemv4(c []int32, a []int8, w *Matrix) { panic("armkernels: no 4-bit GEMV on this arch") }
