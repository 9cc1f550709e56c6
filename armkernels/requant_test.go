package armkernels

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func TestQuantizeRow(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	cases := []struct {
		name     string
		src      []float32
		invScale float32
		want     []int8
	}{
		{"ties to even", []float32{0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5}, 1, []int8{0, 2, 2, 0, -2, -2, 126}},
		{"near ties", []float32{0.49999997, 0.50000006, -2.5000002}, 1, []int8{0, 1, -3}},
		{"scale", []float32{1, -1, 0.26}, 10, []int8{10, -10, 3}},
		{"clamp", []float32{127.4, 127.5, 128, 1e30, -128, -1e30, inf, -inf}, 1, []int8{127, 127, 127, 127, -127, -127, 127, -127}},
		{"nan", []float32{nan, 3}, 1, []int8{0, 3}},
		{"empty", nil, 1, nil},
	}
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := make([]int8, len(tc.src))
				k.QuantizeRow(got, tc.src, tc.invScale)
				for i := range got {
					if got[i] != tc.want[i] {
						t.Errorf("QuantizeRow(%v)[%d] = %d, want %d", tc.src[i], i, got[i], tc.want[i])
					}
				}
			})
		}
	})
}

// TestQuantizeRowMatchesMath checks the magic-number rounding against
// math.RoundToEven on random values across the whole int8 range.
func TestQuantizeRowMatchesMath(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(r.NormFloat64() * 60)
		if i%4 == 0 {
			src[i] = float32(r.IntN(300)-150) + 0.5 // exact ties
		}
	}
	const inv = 1.25
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		got := make([]int8, len(src))
		k.QuantizeRow(got, src, inv)
		for i, x := range src {
			want := math.RoundToEven(float64(x * inv))
			want = math.Max(-127, math.Min(127, want))
			if float64(got[i]) != want {
				t.Fatalf("QuantizeRow(%v·%v) = %d, want %v", x, inv, got[i], want)
			}
		}
	})
}

func TestDequantize(t *testing.T) {
	acc := []int32{0, 100, -100, math.MaxInt32, math.MinInt32}
	scale := []float32{1, 0.5, 0.5, 1, 1}
	bias := []float32{1, -60, 10, 0, 0}
	cases := []struct {
		name string
		relu bool
		bias []float32
	}{
		{"bias", false, bias},
		{"no bias", false, nil},
		{"relu bias", true, bias},
		{"relu no bias", true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]float32, len(acc))
			f := Dequantize
			if tc.relu {
				f = DequantizeReLU
			}
			f(got, acc, scale, 0.1, tc.bias)
			for j := range acc {
				want := float64(acc[j]) * 0.1 * float64(scale[j])
				if tc.bias != nil {
					want += float64(tc.bias[j])
				}
				if tc.relu {
					want = math.Max(want, 0)
				}
				if math.Abs(float64(got[j])-want) > 1e-6*math.Max(1, math.Abs(want)) {
					t.Errorf("[%d] = %v, want %v", j, got[j], want)
				}
			}
		})
	}
}

func TestRequantNoAlloc(t *testing.T) {
	src, q := make([]float32, 300), make([]int8, 300)
	acc, scale, dst := make([]int32, 300), make([]float32, 300), make([]float32, 300)
	dq := make([]int32, 300)
	mul := make([]float32, 32)
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		if n := testing.AllocsPerRun(10, func() {
			k.QuantizeRow(q, src, 3)
			Dequantize(dst, acc, scale, 1, src)
			DequantizeReLU(dst, acc, scale, 1, nil)
			k.ReluRequant(q[:288], 32, acc[:288], mul, mul, 0)
			k.AddInt32(dq, acc)
			k.AddInt32Rows(dq, 100, acc, 100, 3, 64)
			k.Exp(dst, src)
		}); n != 0 {
			t.Errorf("requantisation allocates %v times", n)
		}
	})
}

func TestRequantLengthPanics(t *testing.T) {
	cases := []struct {
		name string
		f    func()
	}{
		{"quantize", func() { ref.QuantizeRow(make([]int8, 2), make([]float32, 3), 1) }},
		{"dequantize acc", func() { Dequantize(make([]float32, 3), make([]int32, 2), make([]float32, 3), 1, nil) }},
		{"dequantize bias", func() { Dequantize(make([]float32, 3), make([]int32, 3), make([]float32, 3), 1, make([]float32, 1)) }},
		{"relu scale", func() { DequantizeReLU(make([]float32, 3), make([]int32, 3), make([]float32, 4), 1, nil) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r, _ := recover().(string); !strings.Contains(r, "armkernels:") {
					t.Errorf("recovered %q, want an armkernels length message", r)
				}
			}()
			tc.f()
		})
	}
}

func TestPackageDoc(t *testing.T) {
	// The package doc lives in doc.go and says what the package owns.
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "// Package armkernels owns") {
		t.Errorf("doc.go lacks the package comment saying what armkernels owns")
	}
}

// TestQuantizeRowPaths compares QuantizeRow (asm blocks where the CPU has
// them, Go tail) with the pure-Go loop on lengths around the 16-value block.
func TestQuantizeRowPaths(t *testing.T) {
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		r := rand.New(rand.NewPCG(5, 6))
		specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0.5, -0.5, 1.5, 126.5, -126.5, 127.5, 1e20, -1e20}
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 100} {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(r.NormFloat64() * 100)
				if r.IntN(3) == 0 {
					src[i] = specials[r.IntN(len(specials))]
				}
			}
			got, want := make([]int8, n+1), make([]int8, n+1)
			got[n], want[n] = 99, 99 // guard
			k.QuantizeRow(got[:n], src, 1)
			quantizeGo(want[:n], src, 1)
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("n=%d: [%d] = %d for %v, want %d", n, i, got[i], src[min(i, n-1)], want[i])
				}
			}
		}
	})
}

func TestReluRequantCases(t *testing.T) {
	tests := []struct {
		name      string
		acc       []int32
		mul, bias float32
		zero      int32
		want      []int8
	}{
		{"half up", []int32{1, 3, 5, -1}, 0.5, 0, 0, []int8{1, 2, 3, 0}},
		{"clamp", []int32{1000, 127, 128, -1000}, 1, 0, 0, []int8{127, 127, 127, 0}},
		{"zero -128", []int32{0, 10, 255, 300, -5}, 1, 0, -128, []int8{-128, -118, 127, 127, -128}},
		{"zero 5", []int32{0, 10, 122, 200}, 1, 0.4, 5, []int8{5, 15, 127, 127}},
		{"bias", []int32{0, 0, 0, 0}, 1, 2.6, 0, []int8{3, 3, 3, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := len(tc.acc)
			mul, bias := make([]float32, c), make([]float32, c)
			for j := range mul {
				mul[j], bias[j] = tc.mul, tc.bias
			}
			forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
				got := make([]int8, c)
				k.ReluRequant(got, c, tc.acc, mul, bias, tc.zero)
				for j := range got {
					if got[j] != tc.want[j] {
						t.Errorf("[%d] = %d, want %d", j, got[j], tc.want[j])
					}
				}
			})
		})
	}
}

// TestReluRequantMatchesGo: the asm path (where the CPU has it) is bit-identical to the Go
// reference, over channel counts around its 16-lane blocks and random values.
func TestReluRequantMatchesGo(t *testing.T) {
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, c := range []int{1, 3, 7, 8, 9, 15, 16, 17, 24, 32, 40, 48, 64, 128, 256} {
			for _, zero := range []int32{-128, -3, 0, 9, 127} {
				rows := 1 + r.IntN(40)
				acc := make([]int32, rows*c)
				for i := range acc {
					acc[i] = int32(r.IntN(1<<17) - 1<<16)
				}
				acc[0] = 1 << 20
				mul, bias := make([]float32, c), make([]float32, c)
				for j := range mul {
					mul[j] = float32(r.Float64()*2e-3) * float32(1+j%3)
					bias[j] = float32(r.NormFloat64() * 20)
				}
				got, want := make([]int8, rows*c), make([]int8, rows*c)
				k.ReluRequant(got, c, acc, mul, bias, zero)
				reluRequantGo(want, c, acc, mul, bias, zero)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("c %d zero %d: [%d] = %d, Go reference %d", c, zero, i, got[i], want[i])
					}
				}
			}
		}
	})
}

func TestReluRequantPanics(t *testing.T) {
	f32 := make([]float32, 4)
	k := Implementations()[len(Implementations())-1] // the argument checks run before any dispatch
	for name, f := range map[string]func(){
		"c zero":     func() { k.ReluRequant(make([]int8, 4), 0, make([]int32, 4), f32, f32, 0) },
		"ragged":     func() { k.ReluRequant(make([]int8, 6), 4, make([]int32, 6), f32, f32, 0) },
		"short acc":  func() { k.ReluRequant(make([]int8, 8), 4, make([]int32, 4), f32, f32, 0) },
		"short mul":  func() { k.ReluRequant(make([]int8, 8), 4, make([]int32, 8), f32[:2], f32, 0) },
		"zero range": func() { k.ReluRequant(make([]int8, 4), 4, make([]int32, 4), f32, f32, 128) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func BenchmarkReluRequant(b *testing.B) {
	const c, rows = 32, 961
	acc := make([]int32, rows*c)
	out := make([]int8, rows*c)
	mul, bias := make([]float32, c), make([]float32, c)
	for j := range mul {
		mul[j], bias[j] = 0.01, 1
	}
	benchHelperLevels(b, func(b *testing.B, k *Kernels) {
		b.ReportAllocs()
		b.SetBytes(int64(len(acc) * 4))
		for b.Loop() {
			k.ReluRequant(out, c, acc, mul, bias, -128)
		}
	})
}

func TestAddInt32(t *testing.T) {
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 24, 33, 40, 63, 64, 65, 127, 128, 200, 641} {
			for _, off := range []int{0, 1, 3} { // misaligned starts
				src := make([]int32, n+off)
				dst := make([]int32, n+off+2)
				for i := range src {
					src[i] = int32(r.Uint32())
				}
				for i := range dst {
					dst[i] = int32(r.Uint32())
				}
				want := append([]int32(nil), dst...)
				for i, v := range src[off:] {
					want[off+i] += v
				}
				k.AddInt32(dst[off:], src[off:])
				for i := range want {
					if dst[i] != want[i] {
						t.Fatalf("n %d off %d: [%d] = %d, want %d", n, off, i, dst[i], want[i])
					}
				}
			}
		}
		defer func() {
			if recover() == nil {
				t.Error("short dst: no panic")
			}
		}()
		k.AddInt32(make([]int32, 3), make([]int32, 4))
	})
}

// TestAddInt32Rows compares AddInt32Rows on every helper level with a direct loop: run
// lengths around the 8- and 16-lane blocks, overlapping and gapped strides, misaligned
// starts; and checks nothing outside the runs changes.
func TestAddInt32Rows(t *testing.T) {
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, n := range []int{0, 1, 7, 8, 9, 16, 17, 33, 64, 65, 192, 320} {
			for _, tc := range []struct{ rows, ds, ss, off int }{{1, 0, 0, 0}, {6, 64 * 32, 6 * 32, 1}, {5, n + 3, n, 3}, {3, n, n + 5, 0}} {
				dst := make([]int32, tc.off+max(tc.rows-1, 0)*tc.ds+n+4)
				src := make([]int32, tc.off+max(tc.rows-1, 0)*tc.ss+n)
				for i := range dst {
					dst[i] = int32(r.Uint32())
				}
				for i := range src {
					src[i] = int32(r.Uint32())
				}
				want := append([]int32(nil), dst...)
				for row := 0; row < tc.rows; row++ {
					for i := 0; i < n; i++ {
						want[tc.off+row*tc.ds+i] += src[tc.off+row*tc.ss+i]
					}
				}
				k.AddInt32Rows(dst[tc.off:], tc.ds, src[tc.off:], tc.ss, tc.rows, n)
				for i := range want {
					if dst[i] != want[i] {
						t.Fatalf("n %d %+v: [%d] = %d, want %d", n, tc, i, dst[i], want[i])
					}
				}
			}
		}
		for _, bad := range []func(){
			func() { k.AddInt32Rows(make([]int32, 10), 4, make([]int32, 10), 4, 3, 4) },
			func() { k.AddInt32Rows(make([]int32, 12), 4, make([]int32, 9), 4, 3, 2) },
			func() { k.AddInt32Rows(make([]int32, 12), -1, make([]int32, 12), 4, 2, 2) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Error("bad shape: no panic")
					}
				}()
				bad()
			}()
		}
	})
}

// TestQuantizeAffine compares QuantizeAffine on every helper level with an independent
// float64 rounding of the same float32 value, over lengths around every vector width,
// specials (NaN, ±Inf, ties, the clamp edges), every zero point sign, and a guard band.
func TestQuantizeAffine(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	specials := []float32{nan, inf, -inf, 0.5, -0.5, 2.5, -3.5, 126.5, 127.5, -128.5, -127.5, 1e20, -1e20, 0}
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 48, 64, 100} {
			for _, zero := range []int32{-128, -37, 0, 5, 127} {
				for _, inv := range []float32{1, 0.5, 3.3} {
					src := make([]float32, n)
					for i := range src {
						src[i] = float32(r.NormFloat64() * 80)
						if r.IntN(3) == 0 {
							src[i] = specials[r.IntN(len(specials))]
						}
					}
					got := make([]int8, n+3)
					for i := range got {
						got[i] = 0x55
					}
					k.QuantizeAffine(got[:n], src, inv, zero)
					for i, x := range src {
						v := float32(x*inv) + float32(zero)
						want := int8(zero)
						if v == v {
							want = int8(max(-128, min(127, math.RoundToEven(float64(v)))))
						}
						if got[i] != want {
							t.Fatalf("n %d zero %d inv %v: [%d] %v → %d, want %d", n, zero, inv, i, x, got[i], want)
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
		for _, bad := range []func(){
			func() { k.QuantizeAffine(make([]int8, 3), make([]float32, 4), 1, 0) },
			func() { k.QuantizeAffine(make([]int8, 4), make([]float32, 4), 1, 128) },
		} {
			func() {
				defer func() {
					if r, _ := recover().(string); !strings.Contains(r, "armkernels: QuantizeAffine") {
						t.Errorf("recovered %q, want a QuantizeAffine message", r)
					}
				}()
				bad()
			}()
		}
	})
}
