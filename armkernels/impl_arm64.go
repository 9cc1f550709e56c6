package armkernels

import "golang.org/x/sys/cpu"

//go:generate go run ./_asm/gen.go

// arm64Impls is read once from x/sys/cpu. NEON is baseline on arm64; the
// dot-product extension gates SDOT, the int8 matrix extension SMMLA.
var arm64Impls = detectARM64(cpu.ARM64.HasASIMDDP, cpu.ARM64.HasI8MM)

func detectARM64(dotprod, i8mm bool) []*Kernels {
	ks := []*Kernels{{Name: "neon", kind: kindNEON, rows: blockRows(kindNEON)}}
	if dotprod {
		ks = append(ks, &Kernels{Name: "sdot", kind: kindSDOT, rows: blockRows(kindSDOT)})
	}
	if i8mm {
		ks = append(ks, &Kernels{Name: "i8mm", kind: kindI8MM, rows: blockRows(kindI8MM)})
	}
	return ks
}

func archImplementations() []*Kernels { return arm64Impls }
