package armkernels

// lanes is the block size of the normalisation asm (NormStats, NormSiLU) at helper level h:
// 4 for NEON (normact_neon_arm64.s), none for the Go loops.
func lanes(h helperLevel) int {
	if h == helperNEON {
		return 4
	}
	return 0
}
