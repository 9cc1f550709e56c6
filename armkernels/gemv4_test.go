package armkernels

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestGemv4Exact: a matrix whose weights fit 4 bits runs the 4-bit GEMV on the VNNI path
// and must give every implementation's output bit for bit the reference's, over shapes
// around the 16-row panels and the 4-panel blocks (partial last panels, K not a multiple
// of 8), with the extreme weights and activations, and nothing written past Rows.
func TestGemv4Exact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vnni := false
	for _, k := range Implementations() {
		vnni = vnni || strings.HasPrefix(k.Name, "avx512vnni")
	}
	for _, sh := range []struct{ rows, k int }{{1, 1}, {16, 8}, {17, 12}, {48, 4}, {63, 100}, {64, 64}, {65, 9}, {80, 1664}, {130, 1030}, {640, 7168}} {
		w := make([]int8, sh.rows*sh.k)
		for i := range w {
			w[i] = int8(rng.IntN(16) - 8)
		}
		w[0], w[len(w)-1] = -8, 7
		m, err := PackMatrix(sh.rows, sh.k, w)
		if err != nil {
			t.Fatal(err)
		}
		if m.Nibbles() != haveGemv4 {
			t.Fatalf("%dx%d: Nibbles() = %v on a 4-bit matrix, want %v", sh.rows, sh.k, m.Nibbles(), haveGemv4)
		}
		a := make([]int8, m.Stride())
		for i := range a[:sh.k] {
			a[i] = int8(rng.IntN(256) - 128)
		}
		a[0] = -128
		if sh.k > 1 {
			a[1] = 127
		}
		want := make([]int32, sh.rows)
		Reference().Gemm(want, sh.rows, a, len(a), 1, m)
		for _, k := range Implementations() {
			got := make([]int32, sh.rows+16)
			for i := range got {
				got[i] = 0x5EED
			}
			k.Gemm(got, sh.rows, a, len(a), 1, m)
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("%s %dx%d: c[%d] = %d, reference %d", k.Name, sh.rows, sh.k, j, got[j], want[j])
				}
			}
			for j := sh.rows; j < len(got); j++ {
				if got[j] != 0x5EED {
					t.Fatalf("%s %dx%d: wrote c[%d] past the %d rows", k.Name, sh.rows, sh.k, j, sh.rows)
				}
			}
		}
	}
	if haveGemv4 && !vnni {
		t.Fatal("the CPU has a 4-bit GEMV but no avx512vnni implementation ran it")
	}
}

// TestGemv4OnlyForNibbles: one weight outside [−8, 7] keeps the matrix on the int8 path.
func TestGemv4OnlyForNibbles(t *testing.T) {
	for _, v := range []int8{8, -9, 127, -127} {
		w := make([]int8, 32*16)
		w[5] = v
		m, err := PackMatrix(32, 16, w)
		if err != nil {
			t.Fatal(err)
		}
		if m.Nibbles() {
			t.Errorf("a weight of %d: the matrix holds nibbles", v)
		}
	}
}

// BenchmarkGemv4Cold times batch-1 products of rssmo-m's widest layers (the GRU, 3072x1664,
// and the posterior's first layer, 640x7168) from weights not in L2: int8 weights against the
// same shape in 4 bits, cycling through as many distinct copies of each as 64 MiB of int8
// weights need (so the 4-bit set is 32 MiB). MB/s is millions of weights per second, the
// same for both, so the two rows of a shape compare directly.
func BenchmarkGemv4Cold(b *testing.B) {
	if !haveGemv4 {
		b.Skip("no 4-bit GEMV on this machine")
	}
	k := Default()
	for _, s := range []struct {
		name    string
		rows, k int
	}{{"3072x1664", 3072, 1664}, {"640x7168", 640, 7168}} {
		r := rand.New(rand.NewPCG(5, 6))
		for _, bits := range []int{8, 4} {
			w := make([]int8, s.rows*s.k)
			for i := range w {
				if bits == 8 {
					w[i] = int8(r.IntN(255) - 127)
				} else {
					w[i] = int8(r.IntN(16) - 8)
				}
			}
			m, err := PackMatrix(s.rows, s.k, w)
			if err != nil {
				b.Fatal(err)
			}
			n := max(1, (64<<20)/len(m.data))
			mats := make([]*Matrix, n)
			for i := range mats {
				c := *m
				c.data = append([]int8(nil), m.data...)
				if m.nib != nil {
					c.nib = append([]byte(nil), m.nib...)
				}
				mats[i] = &c
			}
			a := make([]int8, m.Stride())
			for i := range a[:s.k] {
				a[i] = int8(r.IntN(256) - 128)
			}
			c := make([]int32, s.rows)
			b.Run(fmt.Sprintf("%s/int%d", s.name, bits), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(s.rows * s.k))
				for i := 0; b.Loop(); i++ {
					k.Gemm(c, s.rows, a, len(a), 1, mats[i%len(mats)])
				}
			})
		}
	}
}
