// Package armkernels owns the int8 compute kernels of rssmd: the packed weight
// layout (Matrix), one GEMM primitive c = a·Wᵀ exact in int32 with a pure-Go
// reference and per-ISA assembly (AVX2 and AVX-512 VNNI on amd64, NEON and
// SDOT on arm64), the start-up choice between them, and the float/int8
// requantisation helpers the int8 model needs around every GEMM (QuantizeRow,
// ReluRequant, AddInt32, AddInt32Rows, Exp: AVX-512 or AVX2 asm on amd64, chosen from the
// CPU alone; Go loops on arm64 and elsewhere).
//
// Every implementation computes bit-identical results; tests compare each one
// with the reference.
package armkernels
