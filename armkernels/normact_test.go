package armkernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// normCase is one NormStats/NormSiLU input: rows of c channels with their per-channel
// constants.
type normCase struct {
	c, ostride int
	acc        []int32
	mi         []int32
	a, b       []float32
	inv        float32
	zero       int32
}

// checkNorm runs NormStats and NormSiLU on k and on the Go loops and fails on any difference,
// or on a write outside the values (guard bands: a canary before, between rows and after).
func checkNorm(t *testing.T, k *Kernels, nc normCase) {
	t.Helper()
	c := nc.c
	rows := len(nc.acc) / c
	const guard = 16
	s1, s2 := make([]int64, c+guard), make([]int64, c+guard)
	r1, r2 := make([]int64, c+guard), make([]int64, c+guard)
	for j := range s1 {
		s1[j], r1[j] = int64(j)*7-3, int64(j)*7-3 // NormStats adds to what is there
		s2[j], r2[j] = int64(j)<<40, int64(j)<<40
	}
	k.NormStats(s1[:c], s2[:c], nc.acc, c)
	normStatsGo(r1, r2, nc.acc, c, 0)
	for j := range s1 {
		if s1[j] != r1[j] || s2[j] != r2[j] {
			t.Fatalf("%s: NormStats c %d rows %d: channel %d sums %d, %d; Go %d, %d", k.Helpers, c, rows, j, s1[j], s2[j], r1[j], r2[j])
		}
	}
	if rows == 0 {
		return
	}
	n := guard + (rows-1)*nc.ostride + c + guard
	out, ref := make([]int8, n), make([]int8, n)
	for i := range out {
		out[i], ref[i] = 0x5a, 0x5a
	}
	k.NormSiLU(out[guard:n-guard], nc.ostride, nc.acc, c, nc.mi, nc.a, nc.b, nc.inv, nc.zero)
	normSiLUGo(ref[guard:n-guard], nc.ostride, nc.acc, c, 0, nc.mi, nc.a, nc.b, nc.inv, nc.zero)
	for i := range out {
		if out[i] != ref[i] {
			r, j := (i-guard)/nc.ostride, (i-guard)%nc.ostride
			t.Fatalf("%s: NormSiLU c %d ostride %d rows %d zero %d: byte %d (row %d channel %d) = %d, Go %d", k.Helpers, c, nc.ostride, rows, nc.zero, i-guard, r, j, out[i], ref[i])
		}
	}
}

// randNorm draws a case like a dreamer_resnet layer's: |acc| < 2²⁶, a and b from the
// InstanceNorm fold (y within a few units); with extremes, one value in 50 at the int32
// limits (y far outside the Exp32 and requantisation clamps).
func randNorm(r *rand.Rand, rows, c, pad int, extremes bool) normCase {
	nc := normCase{c: c, ostride: c + pad, acc: make([]int32, rows*c), mi: make([]int32, c),
		a: make([]float32, c), b: make([]float32, c), inv: 1 / (0.01 + r.Float32()*0.1), zero: int32(r.IntN(256) - 128)}
	for j := 0; j < c; j++ {
		nc.mi[j] = int32(r.IntN(1<<20) - 1<<19)
		nc.a[j] = float32(r.NormFloat64()) * 1e-7
		nc.b[j] = float32(r.NormFloat64())
	}
	for i := range nc.acc {
		x := 2
		if extremes {
			x = r.IntN(50)
		}
		switch x {
		case 0:
			nc.acc[i] = math.MaxInt32
		case 1:
			nc.acc[i] = math.MinInt32
		default:
			nc.acc[i] = int32(r.IntN(1<<26) - 1<<25)
		}
	}
	return nc
}

func TestNormActHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		for _, c := range []int{1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 47, 48, 49, 64, 96, 192} {
			for _, rows := range []int{0, 1, 2, 3, 7, 64} {
				for _, pad := range []int{0, 1, 16} {
					checkNorm(t, k, randNorm(r, rows, c, pad, true))
				}
			}
		}
	})
}

// FuzzNormAct compares NormStats and NormSiLU on every helper level with the Go loops, on
// accumulators taken bit for bit from the input and per-channel constants drawn from it
// (finite a and b, as NormSiLU requires).
func FuzzNormAct(f *testing.F) {
	f.Add(uint8(48), uint8(5), uint8(0), int8(-128), []byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0x80, 1, 2, 3, 4})
	f.Add(uint8(17), uint8(2), uint8(3), int8(7), []byte{9, 8, 7, 6, 5, 4, 3, 2, 1})
	f.Fuzz(func(t *testing.T, c8, rows8, pad8 uint8, zero8 int8, data []byte) {
		c, rows, pad := 1+int(c8%100), int(rows8%20), int(pad8%20)
		word := func(i int) uint32 {
			if len(data) < 4 {
				return uint32(i) * 0x9e3779b9
			}
			j := (4 * i) % (len(data) - len(data)%4)
			return binary.LittleEndian.Uint32(data[j:]) ^ uint32(i)*0x9e3779b9
		}
		nc := normCase{c: c, ostride: c + pad, acc: make([]int32, rows*c), mi: make([]int32, c),
			a: make([]float32, c), b: make([]float32, c), zero: int32(zero8)}
		for i := range nc.acc {
			nc.acc[i] = int32(word(i))
		}
		for j := 0; j < c; j++ {
			nc.mi[j] = int32(word(j + 1000))
			// Any finite float: exponent kept below the overflow of a·2³¹.
			nc.a[j] = math.Float32frombits(word(j+2000) &^ 0x40000000)
			nc.b[j] = math.Float32frombits(word(j+3000) &^ 0x40000000)
		}
		nc.inv = math.Float32frombits(word(4000) &^ 0x40000000)
		for _, k := range helperLevels() {
			checkNorm(t, k, nc)
		}
	})
}

// TestRequant8 checks the scalar requantisation on ties, the clamps and the round trip of
// every int8 value.
func TestRequant8(t *testing.T) {
	for _, tc := range []struct {
		v, inv float32
		zero   int32
		want   int8
	}{
		{0.5, 1, 0, 0}, {1.5, 1, 0, 2}, {2.5, 1, 0, 2}, {-0.5, 1, 0, 0}, {-1.5, 1, 0, -2},
		{200, 1, 0, 127}, {-200, 1, 0, -128}, {1e30, 1, -128, 127}, {0, 1, -128, -128}, {3, 0.5, 10, 12},
	} {
		if got := requant8(tc.v, tc.inv, tc.zero); got != tc.want {
			t.Errorf("requant8(%v, %v, %d) = %d, want %d", tc.v, tc.inv, tc.zero, got, tc.want)
		}
	}
	for v := -128; v <= 127; v++ {
		if got := requant8(float32(v), 1, 0); int(got) != v {
			t.Fatalf("requant8(%d) = %d", v, got)
		}
	}
}

// TestNormSiLUSelected: on a machine with AVX2 or AVX-512 helpers the asm must actually run
// for whole blocks (a dispatch that always fell back to Go would pass the differential test).
func TestNormSiLUSelected(t *testing.T) {
	for _, k := range helperLevels() {
		l := lanes(k.helper)
		nc := randNorm(rand.New(rand.NewPCG(5, 6)), 2, 48, 0, true)
		out := make([]int8, 96)
		got := normSiLUBlocks(k.helper, out, 48, nc.acc, 48, nc.mi, nc.a, nc.b, nc.inv, nc.zero)
		s1, s2 := make([]int64, 48), make([]int64, 48)
		gotS := normStatsBlocks(k.helper, s1, s2, nc.acc, 48)
		want := 0
		if l > 0 {
			want = 48
		}
		if got != want || gotS != want {
			t.Errorf("%s: asm took %d (NormSiLU) and %d (NormStats) of 48 channels, want %d", k.Helpers, got, gotS, want)
		}
	}
}

func BenchmarkNormAct(b *testing.B) {
	for _, sh := range []struct{ rows, c int }{{1024, 48}, {256, 96}, {64, 192}} {
		// No extremes: e^−y near the float32 range ends is subnormal and slow on every path,
		// and a normalised layer's y stays within a few units.
		nc := randNorm(rand.New(rand.NewPCG(1, 2)), sh.rows, sh.c, 0, false)
		out := make([]int8, len(nc.acc))
		s1, s2 := make([]int64, sh.c), make([]int64, sh.c)
		benchHelperLevels(b, func(b *testing.B, k *Kernels) {
			name := fmt.Sprintf("%dx%d", sh.rows, sh.c)
			b.Run("stats/"+name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(4 * len(nc.acc)))
				for b.Loop() {
					k.NormStats(s1, s2, nc.acc, sh.c)
				}
			})
			b.Run("silu/"+name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(4 * len(nc.acc)))
				for b.Loop() {
					k.NormSiLU(out, sh.c, nc.acc, sh.c, nc.mi, nc.a, nc.b, nc.inv, nc.zero)
				}
			})
		})
	}
}
