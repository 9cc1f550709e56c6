package armkernels

import (
	"math"
	"testing"
)

// tieWidths reach every vector block: 4 (NEON), 8 (AVX2), 16 (AVX-512) lanes and
// multiples, plus widths that leave tails.
var tieWidths = []int{4, 8, 12, 16, 24, 32, 48, 64, 80}

// TestReluRequantTies: exact .5 ties (acc odd, mul 0.5) round half up and values one ulp
// either side of a tie round as the Go reference does, in every lane of every
// implementation's vector code. A rounding constant of 0.49999997 instead of 0.5, or a
// conversion that rounds instead of truncating, fails here.
func TestReluRequantTies(t *testing.T) {
	half := float32(0.5)
	muls := []float32{half, math.Nextafter32(half, 0), math.Nextafter32(half, 1)}
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		for _, c := range tieWidths {
			rows := (300 + c - 1) / c
			acc := make([]int32, rows*c)
			for i := range acc {
				acc[i] = int32(i) - 30 // odd and even, negative, past the clamp
			}
			for _, zero := range []int32{0, -128, 7} {
				for _, m := range muls {
					mul, bias := make([]float32, c), make([]float32, c)
					for j := range mul {
						mul[j] = m
					}
					got, want := make([]int8, len(acc)+8), make([]int8, len(acc))
					for i := range got {
						got[i] = 0x55 // guard band past the output
					}
					k.ReluRequant(got[:len(acc)], c, acc, mul, bias, zero)
					reluRequantGo(want, c, acc, mul, bias, zero)
					for i, a := range acc {
						if got[i] != want[i] {
							t.Fatalf("c %d zero %d mul %v: acc %d → %d, Go reference %d", c, zero, m, a, got[i], want[i])
						}
						if m == half && a%2 != 0 { // exact tie a/2: half up
							if e := int8(min(max((a+1)/2, 0), 127-zero) + zero); got[i] != e {
								t.Fatalf("c %d zero %d: tie %d·0.5 → %d, want %d", c, zero, a, got[i], e)
							}
						}
					}
					for i := len(acc); i < len(got); i++ {
						if got[i] != 0x55 {
							t.Fatalf("c %d: wrote past the output at %d", c, i)
						}
					}
				}
			}
			// Through the bias: 0.49999997 + 0.5 rounds to 1 in float32 (a tie, to even).
			mul, bias := make([]float32, c), make([]float32, c)
			for j := range bias {
				bias[j] = math.Nextafter32(half, 0)
			}
			got := make([]int8, c)
			k.ReluRequant(got, c, make([]int32, c), mul, bias, 0)
			for j, v := range got {
				if v != 1 {
					t.Fatalf("c %d: bias 0.49999997 lane %d → %d, want 1", c, j, v)
				}
			}
		}
	})
}

// TestQuantizeRowTies: exact .5 ties round to even in every lane of every implementation,
// through the scale multiply too.
func TestQuantizeRowTies(t *testing.T) {
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		for _, n := range tieWidths {
			for _, inv := range []float32{1, 0.5} {
				src := make([]float32, n)
				for shift := 0; shift < 260; shift += n {
					for i := range src {
						v := float32(i+shift-130) + 0.5 // −129.5 … 129.5
						src[i] = v / inv                // exact: inv is a power of two
					}
					got := make([]int8, n+4)
					for i := range got {
						got[i] = 0x55
					}
					k.QuantizeRow(got[:n], src, inv)
					for i, x := range src {
						e := int8(max(-127, min(127, math.RoundToEven(float64(x*inv)))))
						if got[i] != e {
							t.Fatalf("n %d inv %v: tie %v → %d, want %d", n, inv, x*inv, got[i], e)
						}
					}
					for i := n; i < len(got); i++ {
						if got[i] != 0x55 {
							t.Fatalf("n %d: wrote past the output at %d", n, i)
						}
					}
				}
			}
		}
	})
}
