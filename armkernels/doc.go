// Package armkernels owns the int8 compute kernels of rssmd: the packed weight
// layout (Matrix), one GEMM primitive c = a·Wᵀ exact in int32 with a pure-Go
// reference and per-ISA assembly (AVX2, AVX-VNNI and AVX-512 VNNI on amd64, NEON,
// SDOT and SMMLA on arm64), the float/int8 requantisation helpers the int8 model
// needs around every GEMM (QuantizeRow, QuantizeAffine, ReluRequant, AddInt32,
// AddInt32Rows, Exp, MulAdd: AVX-512 or AVX2 asm on amd64, NEON asm on arm64, Go loops
// everywhere), the dreamer_resnet conv epilogue (NormStats, NormSiLU: AVX-512 or AVX2
// asm on amd64, NEON on arm64, Go elsewhere), the float and byte-moving steps between the GEMMs that
// arm64 runs in NEON (LayerNorm, StackRGB, CopyRows; Go loops elsewhere),
// and the start-up choice between them.
//
// A *Kernels value names both paths, its GEMM and its helpers ("avx512vnni+avx512",
// "sdot+neon"); no package state picks code. Default chooses the best pair once per
// process (RSSMD_KERNEL overrides it), logs it and callers export its Name as a metric
// label. Every implementation computes bit-identical results; tests compare each one
// with the reference.
package armkernels
