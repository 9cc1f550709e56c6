package armkernels

import "golang.org/x/sys/cpu"

//go:generate go run ./_asm/gen.go

// arm64GEMMs is read once from x/sys/cpu. NEON is baseline on arm64; the
// dot-product extension gates SDOT, the int8 matrix extension SMMLA.
var arm64GEMMs = detectARM64(cpu.ARM64.HasASIMDDP, cpu.ARM64.HasI8MM)

func detectARM64(dotprod, i8mm bool) []gemmPath {
	gs := []gemmPath{{"neon", kindNEON, helperNEON}}
	if dotprod {
		gs = append(gs, gemmPath{"sdot", kindSDOT, helperNEON})
	}
	// The i8mm path runs SDOT for one-row blocks (blockKind) and 4-bit GEMVs, so it needs
	// dotprod too: every I8MM CPU has it, but GODEBUG=cpu.asimddp=off clears it alone.
	if i8mm && dotprod {
		gs = append(gs, gemmPath{"i8mm", kindI8MM, helperNEON})
	}
	return gs
}

// archPaths: the helpers' NEON code is baseline, no feature check.
func archPaths() ([]gemmPath, []helperLevel) { return arm64GEMMs, []helperLevel{helperNEON} }

// blockLoop: the arm64 block kernels loop over nb row blocks themselves (one call per
// panel column of a GEMM instead of one per block).
const blockLoop = true
