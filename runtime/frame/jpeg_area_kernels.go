package frame

// areaKernel is one implementation of the area path's two kernels.
type areaKernel struct {
	name string
	row  func(h []float32, coef []int32, idx []int32, wx []float32, outWp, taps, kx, ky int)
	col  func(acc, h []float32, rows []int32, w []float32, outWp int)
}

// areaKernels lists the implementations this CPU runs, the one in use
// first; the Go one is always last (the tests compare the others with it).
var areaKernels = append(areaSIMDKernels(), areaKernel{"go", areaRowGo, areaColGo})

// areaRow and areaCol are the kernels in use.
var areaRow, areaCol = areaKernels[0].row, areaKernels[0].col
