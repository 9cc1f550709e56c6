//go:build !amd64 && !arm64

package armkernels

// archImplementations: no assembly on this architecture, the reference only.
func archImplementations() []*Kernels { return nil }

// callBlock is never reached here: every Kernels on this arch is the reference.
func callBlock(kind kernelKind, mr, np int, a *int8, lda int, w *int8, pstride int, kg int, c *int32, ldc int, corr *int32) {
}
