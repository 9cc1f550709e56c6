package armkernels

// readStreamAVX512 reads n bytes at p (n a positive multiple of 256) front to back, four
// 64-byte loads per iteration, and returns the OR of all 64-bit words: a plain sequential
// stream that computes nothing, the bandwidth bound BenchmarkGemvCold compares the GEMVs with.
// It needs AVX-512F. The Go loop it implements:
//
//	var x uint64
//	for i := 0; i < n; i += 8 {
//		x |= binary.LittleEndian.Uint64(p[i:])
//	}
//	return x
//
//go:noescape
func readStreamAVX512(p *int8, n int) uint64
