//go:build !amd64 && !arm64

package armkernels

// archPaths: no assembly on this architecture, the reference only.
func archPaths() ([]gemmPath, []helperLevel) { return nil, nil }

// callBlock is never reached here: every Kernels on this arch is the reference.
func callBlock(kind kernelKind, mr, np, nb int, a *int8, lda int, w *int8, pstride int, kg int, c *int32, ldc int, corr *int32) {
	panic(blockError{kind, mr, np})
}

// blockLoop: no asm here.
const blockLoop = false

// blockRows: no block kernels on this arch.
func blockRows(kind kernelKind) []int { return nil }
