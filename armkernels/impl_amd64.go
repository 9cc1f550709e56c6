package armkernels

import "golang.org/x/sys/cpu"

//go:generate go run ./_asm/gen.go

// amd64Impls is read once from x/sys/cpu (which honours GODEBUG=cpu.X=off).
var amd64Impls = detectAMD64(cpu.X86.HasAVX2, cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI)

func detectAMD64(avx2, vnni bool) []*Kernels {
	var ks []*Kernels
	if avx2 {
		ks = append(ks, &Kernels{Name: "avx2", kind: kindAVX2, rows: blockRows(kindAVX2)})
	}
	if vnni {
		ks = append(ks, &Kernels{Name: "avx512vnni", kind: kindVNNI, rows: blockRows(kindVNNI)})
	}
	return ks
}

func archImplementations() []*Kernels { return amd64Impls }
