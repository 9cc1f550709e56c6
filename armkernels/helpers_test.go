package armkernels

import "testing"

// forEachHelperLevel runs f once per elementwise-helper level this machine can run (Go, then
// AVX2 and AVX-512 on amd64), with that level forced, and restores the default after.
func forEachHelperLevel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer func(l int) { helperISA = l }(helperISA)
	for l := 0; l <= helperMax; l++ {
		helperISA = l
		t.Run([]string{"go", "avx2", "avx512"}[l], f)
	}
}
