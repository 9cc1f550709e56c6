//go:build !amd64

package frame

func areaSIMDKernels() []areaKernel { return nil }
