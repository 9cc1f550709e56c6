package armkernels

import "golang.org/x/sys/cpu"

//go:generate go run ./_asm/gen.go

// arm64Impls is read once from x/sys/cpu. NEON is baseline on arm64; the
// dot-product extension gates SDOT.
var arm64Impls = detectARM64(cpu.ARM64.HasASIMDDP)

func detectARM64(dotprod bool) []*Kernels {
	ks := []*Kernels{{Name: "neon", kind: kindNEON, rows: blockRows(kindNEON)}}
	if dotprod {
		ks = append(ks, &Kernels{Name: "sdot", kind: kindSDOT, rows: blockRows(kindSDOT)})
	}
	return ks
}

func archImplementations() []*Kernels { return arm64Impls }
