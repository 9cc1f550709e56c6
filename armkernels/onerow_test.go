package armkernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestBlockKind: on I8MM a block of one row runs the SDOT kernels (SMMLA would compute the
// row twice); every other block, and every other path, keeps its own kernels.
func TestBlockKind(t *testing.T) {
	for _, tc := range []struct {
		kind kernelKind
		mr   int
		want kernelKind
	}{
		{kindI8MM, 1, kindSDOT},
		{kindI8MM, 2, kindI8MM},
		{kindI8MM, 3, kindI8MM}, // one SMMLA pair more costs no more than an extra SDOT call
		{kindI8MM, 4, kindI8MM},
		{kindSDOT, 1, kindSDOT},
		{kindNEON, 1, kindNEON},
		{kindAVX2, 1, kindAVX2},
		{kindVNNI, 1, kindVNNI},
		{kindAVXVNNI, 1, kindAVXVNNI},
	} {
		if got := blockKind(tc.kind, tc.mr); got != tc.want {
			t.Errorf("blockKind(%d, %d rows) = %d, want %d", tc.kind, tc.mr, got, tc.want)
		}
	}
}

// TestGemmOneRowBlocks: the shapes whose one-row blocks I8MM hands to SDOT (m = 1, and the
// last row of m = 4q+1) on every implementation, with K long enough for SDOT's 4-group loop
// with and without its 2-group tail (Stride/4 ≡ 0 or 2 mod 4), partial and whole panels, and
// int8 extremes. The weights span more than 4 bits, so m = 1 stays off the 4-bit GEMV.
func TestGemmOneRowBlocks(t *testing.T) {
	c := func(v int8) func(*rand.Rand) int8 { return func(*rand.Rand) int8 { return v } }
	fills := []struct {
		name   string
		wf, af func(*rand.Rand) int8
	}{
		{"random", nil, nil},
		{"a-128", c(127), c(-128)},
		{"neg-pos", c(-127), c(127)},
	}
	ms := []int{1, 5, 13}
	rowsList := []int{1, 15, 16, 17, 33, 64, 65, 97}
	ks := []int{8, 16, 24, 32, 40, 1024, 1032, 4099, 7168}
	for _, impl := range Implementations() {
		for _, f := range fills {
			t.Run(impl.Name+"/"+f.name, func(t *testing.T) {
				seed := uint64(100)
				for _, m := range ms {
					for _, rows := range rowsList {
						for _, k := range ks {
							seed++
							gemmCase{m: m, rows: rows, k: k, wFill: f.wf, aFill: f.af}.check(t, impl, seed)
						}
					}
				}
			})
		}
	}
}

// TestGemmOneRowOddLayouts: one-row blocks with a and c at odd offsets and strides, and with
// rows overlapping one byte apart (K is the stride), as the callers use them.
func TestGemmOneRowOddLayouts(t *testing.T) {
	for _, impl := range Implementations() {
		for i, gc := range []gemmCase{
			{m: 1, rows: 49, k: 1536, aOff: 3, cOff: 5, ldaX: 7, ldcX: 3},
			{m: 5, rows: 31, k: 200, aOff: 1, cOff: 2, ldaX: 1, ldcX: 1},
			{m: 9, rows: 128, k: 96, aOff: 2, cOff: 1, ldaX: 64, ldcX: 16},
		} {
			t.Run(fmt.Sprintf("%s/%v", impl.Name, gc), func(t *testing.T) { gc.check(t, impl, uint64(i)) })
		}
	}
}
