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

//go:noescape
func areaRGBAVX512(dst *byte, y, cb, cr *float32, groups int, k *areaRGBConsts)

// areaRGBConsts feeds areaRGBAVX512: the level shift, the rounding half,
// the conversion factors, the clamp, and the VPERMB pattern that packs 16
// pixels of R|G<<8|B<<16 dwords into 48 bytes.
type areaRGBConsts struct {
	level, half, rv, gu, gv, bu float32
	top                         int32
	_                           int32
	pack                        [64]byte
}

var areaRGBK = func() (k areaRGBConsts) {
	k.level, k.half, k.rv, k.gu, k.gv, k.bu, k.top = 128, 0.5, areaRV, areaGU, areaGV, areaBU, 255
	for i := range 48 {
		k.pack[i] = byte(i/3*4 + i%3)
	}
	return k
}()

// areaRGBAVX512Row runs the AVX-512 conversion over whole groups of 16
// pixels and the Go one over the rest.
func areaRGBAVX512Row(dst []byte, y, cb, cr []float32) {
	n := len(y) / 16 * 16
	cb, cr, dst = cb[:len(y)], cr[:len(y)], dst[:3*len(y)]
	if n > 0 {
		areaRGBAVX512(&dst[0], &y[0], &cb[0], &cr[0], n/16, &areaRGBK)
	}
	areaRGBGo(dst[3*n:], y[n:], cb[n:], cr[n:])
}

func areaSIMDKernels() []areaKernel {
	var ks []areaKernel
	if cpu.X86.HasAVX512F {
		rgb := areaRGBGo
		if cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI {
			rgb = areaRGBAVX512Row
		}
		ks = append(ks, areaKernel{"avx512",
			func(h []float32, coef []int32, idx []int32, wx []float32, outWp, taps, kx, ky int) {
				areaRowAVX512(&h[0], &coef[0], &idx[0], &wx[0], outWp, taps, kx, ky)
			},
			func(acc, h []float32, rows []int32, w []float32, outWp int) {
				areaColAVX512(&acc[0], &h[0], &rows[0], &w[0], len(rows), outWp)
			}, rgb})
	}
	if cpu.X86.HasAVX2 {
		ks = append(ks, areaKernel{"avx2",
			func(h []float32, coef []int32, idx []int32, wx []float32, outWp, taps, kx, ky int) {
				areaRowAVX2(&h[0], &coef[0], &idx[0], &wx[0], outWp, taps, kx, ky)
			},
			func(acc, h []float32, rows []int32, w []float32, outWp int) {
				areaColAVX2(&acc[0], &h[0], &rows[0], &w[0], len(rows), outWp)
			}, areaRGBGo})
	}
	return ks
}
