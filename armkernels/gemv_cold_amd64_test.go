package armkernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// coldWorkingSets are the weight bytes a BenchmarkGemvCold row cycles through. The dev VM has
// 2 MiB of L2 per core and a 300 MiB L3: 1-2 MiB fits in L2 (the hot rate, as a check), 4 MiB
// spills, 16 and 64 MiB come from L3 as a filter step's weights do (walker: several MB per
// step; rssmo-m/l/xl 10-84 MB).
var coldWorkingSets = []int{1 << 20, 4 << 20, 16 << 20, 64 << 20}

// BenchmarkGemvCold times batch-1 products (m = 1) whose weights are not in L2, in GB/s of
// weight bytes (MB/s column), beside the bound: the row "read" streams the same packed bytes
// of the same matrices front to back with readStreamAVX512 (four 64-byte loads per iteration,
// nothing computed). Each iteration takes the next of enough distinct copies of the matrix to
// fill the working set, so every weight byte comes back from L3 once the set outgrows L2.
// Shapes: the walker's GRU (1536x1024) and an rssmo-m-wide GRU (3072x2048).
//
// What it showed on the dev VM (2 MiB L2, 300 MiB L3, min/median of 5): the read does ~95 GB/s
// from L2 and 21-25 GB/s from L3 at every set from 3 to 64 MiB, and the avx512vnni GEMV
// (~92 GB/s hot) and the avxvnni one run at that same L3 rate: the floor a step whose weights
// outgrow L2 runs into. Software prefetch (1-4 KB ahead, T0/T2, NTA) and CLDEMOTE of consumed
// lines did not raise it or speed up whole steps; only the AVX2 block, slower per byte, gained
// (prefetchAVX2 in _asm/gen.go). One core has a bounded number of L2 misses in flight, which a
// single plain stream already fills.
func BenchmarkGemvCold(b *testing.B) {
	if !cpu.X86.HasAVX512F {
		b.Skip("the read bound needs AVX-512F")
	}
	for _, s := range []struct {
		name    string
		rows, k int
	}{
		{"1536x1024", 1536, 1024},
		{"3072x2048", 3072, 2048},
	} {
		r := rand.New(rand.NewPCG(1, 2))
		w0, a, lda, c, _ := gemmCase{m: 1, rows: s.rows, k: s.k}.setup(b, r)
		last := 0
		for _, ws := range coldWorkingSets {
			n := max(1, ws/len(w0.data))
			if n == last {
				continue
			}
			last = n
			mats := coldCopies(w0, n)
			shape := fmt.Sprintf("%s/%.1fMiB", s.name, float64(n*len(w0.data))/(1<<20))
			b.Run("read/"+shape, func(b *testing.B) {
				b.SetBytes(int64(len(w0.data)))
				for i := 0; b.Loop(); i++ {
					d := mats[i%len(mats)].data
					if readStreamAVX512(&d[0], len(d)&^255) == 0 {
						b.Fatal("packed weights all zero")
					}
				}
			})
			for _, impl := range Implementations()[1:] {
				b.Run(impl.Name+"/"+shape, func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(len(w0.data)))
					for i := 0; b.Loop(); i++ {
						impl.Gemm(c, s.rows, a, lda, 1, mats[i%len(mats)])
					}
				})
			}
		}
	}
}

// coldCopies returns n matrices with w's contents in n distinct allocations.
func coldCopies(w *Matrix, n int) []*Matrix {
	ms := make([]*Matrix, n)
	for i := range ms {
		m := *w
		m.data = append([]int8(nil), w.data...)
		ms[i] = &m
	}
	return ms
}

// TestColdCopies checks that the cold benchmark's copies compute what the original does from
// memory of their own (a copy sharing w.data would make the benchmark hot).
func TestColdCopies(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	w, a, lda, c, ldc := gemmCase{m: 1, rows: 40, k: 24}.setup(t, r)
	Reference().Gemm(c, ldc, a, lda, 1, w)
	want := append([]int32(nil), c[:w.Rows]...)
	ms := coldCopies(w, 3)
	for i, m := range ms {
		if &m.data[0] == &w.data[0] || i > 0 && &m.data[0] == &ms[i-1].data[0] {
			t.Fatalf("copy %d shares its weights", i)
		}
		for _, impl := range Implementations() {
			impl.Gemm(c, ldc, a, lda, 1, m)
			for j, v := range c[:m.Rows] {
				if v != want[j] {
					t.Fatalf("%s copy %d: c[%d] = %d, want %d", impl.Name, i, j, v, want[j])
				}
			}
		}
	}
}

// TestReadStream checks the read bound reads every byte it is given and none after: one set
// bit anywhere in n bytes must show in the OR, a bit just past n must not.
func TestReadStream(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("readStreamAVX512 needs AVX-512F")
	}
	for _, n := range []int{256, 512, 1024 + 256} {
		buf := make([]int8, n+64)
		for i := 0; i < n; i++ {
			clear(buf)
			buf[i] = int8(1 << (i % 7))
			buf[n] = -1 // past the end: must not be read
			want := uint64(1<<(i%7)) << (8 * (i % 8))
			if got := readStreamAVX512(&buf[0], n); got != want {
				t.Fatalf("n=%d byte %d set: OR = %#x, want %#x", n, i, got, want)
			}
		}
	}
}
