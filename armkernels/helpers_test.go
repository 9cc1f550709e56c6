package armkernels

import "testing"

// helperLevels returns one Kernels value per elementwise-helper level this machine runs
// (Go first), taken from Implementations: tests reach every level through the value that
// selects it, never through package state.
func helperLevels() []*Kernels {
	var ks []*Kernels
	seen := map[helperLevel]bool{}
	for _, k := range Implementations() {
		if !seen[k.helper] {
			seen[k.helper] = true
			ks = append(ks, k)
		}
	}
	return ks
}

// forEachHelperLevel runs f once per helper level, on a Kernels value of that level.
func forEachHelperLevel(t *testing.T, f func(t *testing.T, k *Kernels)) {
	t.Helper()
	for _, k := range helperLevels() {
		t.Run(k.Helpers, func(t *testing.T) {
			f(t, k)
			markTested("", k.Helpers)
		})
	}
}

// benchHelperLevels runs f as one sub-benchmark per helper level.
func benchHelperLevels(b *testing.B, f func(b *testing.B, k *Kernels)) {
	for _, k := range helperLevels() {
		b.Run(k.Helpers, func(b *testing.B) { f(b, k) })
	}
}
