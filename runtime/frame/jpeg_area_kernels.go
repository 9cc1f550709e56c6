package frame

// areaKernel is one implementation of the area path's two kernels.
type areaKernel struct {
	name string
	row  func(h []float32, coef []int32, idx []int32, wx []float32, outWp, taps, kx, ky int)
	col  func(acc, h []float32, rows []int32, w []float32, outWp int)
	rgb  func(dst []byte, y, cb, cr []float32)
}

// areaKernels lists the implementations this CPU runs, the one in use
// first; the Go one is always last (the tests compare the others with it).
var areaKernels = append(areaSIMDKernels(), areaKernel{"go", areaRowGo, areaColGo, areaRGBGo})

// areaRow, areaCol and areaRGB are the kernels in use.
var areaRow, areaCol, areaRGB = areaKernels[0].row, areaKernels[0].col, areaKernels[0].rgb
