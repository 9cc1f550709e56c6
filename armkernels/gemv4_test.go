package armkernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// TestGemv4Exact: a matrix whose weights fit 4 bits runs the 4-bit GEMV on the paths that
// have one (VNNI; NEON, SDOT and I8MM on arm64) and must give every implementation's output bit for bit the reference's, over shapes
// around the 16-row panels and the 4-panel blocks (partial last panels, K not a multiple
// of 8), with the extreme weights and activations, and nothing written past Rows.
func TestGemv4Exact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ran := false
	for _, k := range Implementations() {
		ran = ran || hasGemv4(k.kind)
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
	if haveGemv4 && !ran {
		t.Fatal("the CPU has a 4-bit GEMV but no implementation ran it")
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

// TestGemv4ReadsNibbles: the paths with a 4-bit GEMV really read the nibbles at batch 1
// (not the int8 copy beside them): with m.nib swapped for another matrix's, those paths
// give the other matrix's product and every other path the original's. On arm64 every
// GEMM path (neon, sdot, i8mm) must be one of them.
func TestGemv4ReadsNibbles(t *testing.T) {
	if !haveGemv4 {
		t.Skip("no 4-bit GEMV on this machine: matrices keep no nibbles")
	}
	if runtime.GOARCH == "arm64" {
		for _, k := range Implementations()[1:] {
			if !hasGemv4(k.kind) {
				t.Errorf("%s: arm64 GEMM path without the 4-bit GEMV", k.Name)
			}
		}
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sh := range []struct{ rows, k int }{{16, 8}, {70, 24}, {128, 40}} {
		mk := func() *Matrix {
			w := make([]int8, sh.rows*sh.k)
			for i := range w {
				w[i] = int8(rng.IntN(16) - 8)
			}
			m, err := PackMatrix(sh.rows, sh.k, w)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		m, other := mk(), mk()
		a := make([]int8, m.Stride())
		for i := range a[:sh.k] {
			a[i] = int8(rng.IntN(256) - 128)
		}
		want, swapped := make([]int32, sh.rows), make([]int32, sh.rows)
		ref.Gemm(want, sh.rows, a, len(a), 1, m)
		ref.Gemm(swapped, sh.rows, a, len(a), 1, other)
		// The int8 paths must not read nib; the 4-bit ones read nib and corr (VNNI's +128
		// correction), none of data.
		mixed, mixed4 := *m, *m
		mixed.nib = other.nib
		mixed4.nib, mixed4.corr = other.nib, other.corr
		for _, k := range Implementations()[1:] {
			exp, mat := want, &mixed
			if hasGemv4(k.kind) {
				exp, mat = swapped, &mixed4
			}
			got := make([]int32, sh.rows)
			k.Gemm(got, sh.rows, a, len(a), 1, mat)
			for j := range exp {
				if got[j] != exp[j] {
					t.Errorf("%s %dx%d: with another matrix's nibbles, hasGemv4 %v: c[%d] = %d, want %d", k.Name, sh.rows, sh.k, hasGemv4(k.kind), j, got[j], exp[j])
					break
				}
			}
		}
	}
}

// TestGemv4Extremes: the largest sums a 4-bit GEMV can meet, every weight −8 or 7 against
// every activation −128 or 127 over the widest K rssmo-m has, on every implementation.
func TestGemv4Extremes(t *testing.T) {
	const rows, k = 80, 7168
	for _, c := range []struct{ w, a int8 }{{-8, -128}, {-8, 127}, {7, -128}, {7, 127}} {
		w := make([]int8, rows*k)
		for i := range w {
			w[i] = c.w
		}
		w[3*k+5] = -c.w / 2 // one row not like the others
		m, err := PackMatrix(rows, k, w)
		if err != nil {
			t.Fatal(err)
		}
		a := make([]int8, m.Stride())
		for i := range a[:k] {
			a[i] = c.a
		}
		want := make([]int32, rows)
		ref.Gemm(want, rows, a, len(a), 1, m)
		for _, impl := range Implementations()[1:] {
			got := make([]int32, rows)
			impl.Gemm(got, rows, a, len(a), 1, m)
			if !slices.Equal(got, want) {
				t.Errorf("%s: w %d a %d: c[0:4] = %v, reference %v", impl.Name, c.w, c.a, got[:4], want[:4])
			}
		}
	}
}

// TestGemv4NoAllocs: batch-1 Gemm from nibbles allocates nothing (the stack tile of a
// partial last panel included) on any implementation.
func TestGemv4NoAllocs(t *testing.T) {
	w := make([]int8, 70*24)
	for i := range w {
		w[i] = int8(i%16 - 8)
	}
	m, err := PackMatrix(70, 24, w)
	if err != nil {
		t.Fatal(err)
	}
	a := make([]int8, m.Stride())
	c := make([]int32, 70)
	for _, k := range Implementations() {
		if n := testing.AllocsPerRun(20, func() { k.Gemm(c, 70, a, len(a), 1, m) }); n != 0 {
			t.Errorf("%s: %v allocations per batch-1 Gemm of a 4-bit matrix", k.Name, n)
		}
	}
}

// FuzzGemv4 compares every implementation with the reference on 4-bit matrices of a
// shape and values drawn from the input, at batch 1 (the 4-bit GEMV where there is one).
func FuzzGemv4(f *testing.F) {
	f.Add(uint8(17), uint8(12), []byte{0x80, 0x7f, 0x0f, 0xf0, 0x88})
	f.Add(uint8(64), uint8(63), []byte{0x00, 0xff})
	f.Add(uint8(0), uint8(0), []byte{})
	f.Fuzz(checkGemv4)
}

// TestGemv4Random runs FuzzGemv4's check on random inputs: the differential test that runs
// where fuzzing cannot (qemu-user, which cannot start fuzz workers).
func TestGemv4Random(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for range 300 {
		data := make([]byte, r.IntN(200))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		checkGemv4(t, uint8(r.Uint32()), uint8(r.Uint32()), data)
	}
}

func checkGemv4(t *testing.T, rows8, k8 uint8, data []byte) {
	rows, k := int(rows8)+1, int(k8)+1
	val := func(i int) byte {
		if len(data) == 0 {
			return byte(i * 37)
		}
		return data[i%len(data)] + byte(i/len(data))
	}
	w := make([]int8, rows*k)
	for i := range w {
		w[i] = int8(val(i)&15) - 8
	}
	m, err := PackMatrix(rows, k, w)
	if err != nil {
		t.Fatal(err)
	}
	if m.Nibbles() != haveGemv4 {
		t.Fatalf("%dx%d: Nibbles() = %v, want %v", rows, k, m.Nibbles(), haveGemv4)
	}
	a := make([]int8, m.Stride())
	for i := range a[:k] {
		a[i] = int8(val(3*i + 1))
	}
	want := make([]int32, rows)
	ref.Gemm(want, rows, a, len(a), 1, m)
	for _, impl := range Implementations()[1:] {
		got := make([]int32, rows+4)
		impl.Gemm(got, rows, a, len(a), 1, m)
		for j := range got {
			if j < rows && got[j] != want[j] || j >= rows && got[j] != 0 {
				t.Fatalf("%s %dx%d: c[%d] = %d, reference %v", impl.Name, rows, k, j, got[j], want[min(j, rows-1)])
			}
		}
	}
}

// BenchmarkGemv4 times batch-1 products of rssmo-m's widest layers (the GRU, 3072x1664,
// and the posterior's first layer, 640x7168) on every implementation, from int8 weights and
// from the same shape in 4 bits (which the paths with a 4-bit GEMV read as nibbles), the
// weights warm. Under qemu with tools/arm64vm/insncount it gives instructions per GEMV
// (docs/arm64.md); on hardware the cold benchmark above says more.
func BenchmarkGemv4(b *testing.B) {
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
			a := make([]int8, m.Stride())
			for i := range a[:s.k] {
				a[i] = int8(r.IntN(256) - 128)
			}
			c := make([]int32, s.rows)
			for _, k := range Implementations() {
				b.Run(fmt.Sprintf("%s/%s/int%d", k.Name, s.name, bits), func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(s.rows * s.k))
					for b.Loop() {
						k.Gemm(c, s.rows, a, len(a), 1, m)
					}
				})
			}
		}
	}
}
