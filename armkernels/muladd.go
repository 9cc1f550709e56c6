package armkernels

import "fmt"

// MulAdd does a[j] += w[j]·v for every j < len(a): one column of a float32 matrix-vector
// product kept column-major (quant's colLinear, the pre_memory layer). Each element is
// rounded exactly as the Go loop in mulAddGo rounds it on this arch: Go fuses the multiply
// and add into one FMA on arm64 (so the NEON code uses FMLA), and not on amd64. len(w) must
// be at least len(a) (it panics otherwise). It does not allocate.
func (k *Kernels) MulAdd(a, w []float32, v float32) {
	if len(w) < len(a) {
		panic(fmt.Sprintf("armkernels: MulAdd a has %d values, w %d", len(a), len(w)))
	}
	n := mulAddBlocks(k.helper, a, w, v)
	mulAddGo(a[n:], w[n:len(a)], v)
}

// mulAddGo is MulAdd in Go, the reference for the asm.
func mulAddGo(a, w []float32, v float32) {
	w = w[:len(a)]
	for j := range a {
		a[j] += w[j] * v
	}
}
