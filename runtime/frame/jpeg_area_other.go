//go:build !amd64 && !arm64

package frame

func areaSIMDKernels() []areaKernel { return nil }
