//go:build !amd64 && !arm64

package armkernels

// lanes is the block size of the normalisation asm (NormStats, NormSiLU) at helper level h:
// none off amd64 and arm64, where they run as Go loops (TestNormSiLUSelected expects no blocks).
func lanes(h helperLevel) int { return 0 }
