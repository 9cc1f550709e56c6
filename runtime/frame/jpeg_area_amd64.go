package frame

import "golang.org/x/sys/cpu"

// The area kernels gather each tap's coefficients for areaLanes (AVX-512)
// or 8 (AVX2) output columns at a time; outWp is a multiple of areaLanes,
// and accumulate checks that every index the tables hold is inside coef.

//go:noescape
func areaRowAVX512(h *float32, coef *int32, idx *int32, wx *float32, outWp, taps, kx, ky int)

//go:noescape
func areaColAVX512(acc, h *float32, rows *int32, w *float32, n, outWp int)

//go:noescape
func areaRowAVX2(h *float32, coef *int32, idx *int32, wx *float32, outWp, taps, kx, ky int)

//go:noescape
func areaColAVX2(acc, h *float32, rows *int32, w *float32, n, outWp int)

func areaSIMDKernels() []areaKernel {
	var ks []areaKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, areaKernel{"avx512",
			func(h []float32, coef []int32, idx []int32, wx []float32, outWp, taps, kx, ky int) {
				areaRowAVX512(&h[0], &coef[0], &idx[0], &wx[0], outWp, taps, kx, ky)
			},
			func(acc, h []float32, rows []int32, w []float32, outWp int) {
				areaColAVX512(&acc[0], &h[0], &rows[0], &w[0], len(rows), outWp)
			}})
	}
	if cpu.X86.HasAVX2 {
		ks = append(ks, areaKernel{"avx2",
			func(h []float32, coef []int32, idx []int32, wx []float32, outWp, taps, kx, ky int) {
				areaRowAVX2(&h[0], &coef[0], &idx[0], &wx[0], outWp, taps, kx, ky)
			},
			func(acc, h []float32, rows []int32, w []float32, outWp int) {
				areaColAVX2(&acc[0], &h[0], &rows[0], &w[0], len(rows), outWp)
			}})
	}
	return ks
}
