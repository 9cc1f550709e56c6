package armkernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sameFloat32 is bit equality, except that any NaN matches any NaN (FMLA and FMADDS may keep
// a different payload when several operands are NaN; nothing downstream reads it).
func sameFloat32(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// TestLayerNorm compares every helper level with layerNormGo bit for bit at lengths around
// the 4- and 16-value blocks, in place and not, with a guard value after y.
func TestLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 19, 20, 31, 32, 33, 35, 36, 47, 48, 63, 64, 65, 200, 512, 600, 1536} {
			for _, scale := range []float32{1, 1e-3, 3e4} {
				x, g, b := make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range x {
					x[i] = (float32(r.NormFloat64()) + 0.3) * scale
					g[i] = 1 + float32(r.NormFloat64())*0.2
					b[i] = float32(r.NormFloat64()) * 0.1
				}
				const guard = float32(-7.25)
				got, want := make([]float32, n+1), make([]float32, n+1)
				got[n], want[n] = guard, guard
				k.LayerNorm(got[:n], x, g, b)
				layerNormGo(want[:n], x, g, b)
				for i := range got {
					if !sameFloat32(got[i], want[i]) {
						t.Fatalf("n %d scale %v: y[%d] = %v, Go %v", n, scale, i, got[i], want[i])
					}
				}
				in := append([]float32(nil), x...)
				k.LayerNorm(in, in, g, b) // in place, as quant runs it
				for i := range in {
					if !sameFloat32(in[i], want[i]) {
						t.Fatalf("n %d scale %v in place: y[%d] = %v, Go %v", n, scale, i, in[i], want[i])
					}
				}
			}
		}
	})
}

// TestLayerNormMatchesFloat64 checks the reference itself against the two-pass definition in
// float64: a bug shared by layerNormGo and the asm would not show in TestLayerNorm.
func TestLayerNormMatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 3, 4, 9, 600} {
		x, g, b := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], g[i], b[i] = float32(r.NormFloat64())*2+1, float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		var mean, v float64
		for _, e := range x {
			mean += float64(e)
		}
		mean /= float64(n)
		for _, e := range x {
			v += (float64(e) - mean) * (float64(e) - mean)
		}
		inv := 1 / math.Sqrt(v/float64(n)+1e-5)
		y := make([]float32, n)
		layerNormGo(y, x, g, b)
		for i := range y {
			want := (float64(x[i])-mean)*inv*float64(g[i]) + float64(b[i])
			if d := math.Abs(float64(y[i]) - want); d > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("n %d: y[%d] = %v, float64 definition %v", n, i, y[i], want)
			}
		}
	}
}

func TestLayerNormPanicsOnShortSlices(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("LayerNorm with g shorter than x did not panic")
		}
	}()
	ref.LayerNorm(make([]float32, 8), make([]float32, 8), make([]float32, 7), make([]float32, 8))
}

func TestLayerNormAllocs(t *testing.T) {
	x := make([]float32, 600)
	for i := range x {
		x[i] = float32(i % 7)
	}
	for _, k := range helperLevels() {
		if a := testing.AllocsPerRun(20, func() { k.LayerNorm(x, x, x, x) }); a != 0 {
			t.Errorf("%s: LayerNorm allocates %v times per call", k.Helpers, a)
		}
	}
}

// stackRGBNaive is StackRGB's definition, one byte at a time.
func stackRGBNaive(dst []int8, image []uint8, w, ho int) {
	per := w / 2
	for oy := 0; oy < ho; oy++ {
		for u := 0; u < per; u++ {
			for ky := 0; ky < 4; ky++ {
				for i := 0; i < 6; i++ {
					dst[((oy*per+u)*4+ky)*6+i] = int8(image[((2*oy+ky)*w+2*u)*3+i] ^ 0x80)
				}
			}
		}
	}
}

// TestStackRGB compares every helper level with the byte-wise definition, for widths whose
// unit count is odd, even, one pair and many, images with exactly the rows needed (so an
// over-read past the image would fault or read the guard) and with spare rows, and guard
// bytes after dst.
func TestStackRGB(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		for _, w := range []int{2, 4, 6, 8, 10, 12, 16, 30, 64, 66} {
			for _, ho := range []int{1, 2, 3, 31} {
				for _, spare := range []int{0, 1, 3} {
					rows := 2*ho + 2 + spare
					// The image ends at the end of its allocation: a read past it faults.
					image := make([]uint8, rows*3*w)
					for i := range image {
						image[i] = uint8(r.Uint32())
					}
					n := ho * (w / 2) * 24
					got, want := make([]int8, n+9), make([]int8, n+9)
					for i := n; i < n+9; i++ {
						got[i], want[i] = 0x5a, 0x5a
					}
					k.StackRGB(got[:n], image, w, ho)
					stackRGBNaive(want, image, w, ho)
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("w %d ho %d spare %d: byte %d of %d = %#x, want %#x", w, ho, spare, i, n, uint8(got[i]), uint8(want[i]))
						}
					}
				}
			}
		}
	})
}

func TestStackRGBRefusesBadShapes(t *testing.T) {
	for _, c := range []struct {
		name     string
		dst, img int
		w, ho    int
	}{
		{"odd width", 24 * 2, 3 * 5 * 4, 5, 1},
		{"short image", 24 * 4, 3 * 8 * 3, 8, 1},
		{"short dst", 24*4 - 1, 3 * 8 * 4, 8, 1},
		{"no rows", 24 * 4, 3 * 8 * 4, 8, 0},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: StackRGB did not panic", c.name)
				}
			}()
			ref.StackRGB(make([]int8, c.dst), make([]uint8, c.img), c.w, c.ho)
		}()
	}
}

func TestStackRGBAllocs(t *testing.T) {
	image := make([]uint8, 64*64*3)
	dst := make([]int8, 31*32*24)
	for _, k := range helperLevels() {
		if a := testing.AllocsPerRun(20, func() { k.StackRGB(dst, image, 64, 31) }); a != 0 {
			t.Errorf("%s: StackRGB allocates %v times per call", k.Helpers, a)
		}
	}
}

// TestCopyRows compares every helper level with per-row copies at run lengths around the
// 16- and 64-byte blocks, strides wider than the run and equal to it, and guard bytes
// between and after the runs.
func TestCopyRows(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	forEachHelperLevel(t, func(t *testing.T, k *Kernels) {
		for _, n := range []int{1, 7, 15, 16, 17, 31, 32, 48, 63, 64, 65, 80, 127, 128, 129, 200, 512} {
			for _, rows := range []int{1, 2, 5} {
				for _, gap := range []int{0, 3, 16} {
					ds, ss := n+gap, n+2*gap+1
					src := make([]int8, (rows-1)*ss+n)
					for i := range src {
						src[i] = int8(r.Uint32())
					}
					got, want := make([]int8, (rows-1)*ds+n+7), make([]int8, (rows-1)*ds+n+7)
					for i := range got {
						got[i], want[i] = int8(i*7+1), int8(i*7+1)
					}
					k.CopyRows(got, ds, src, ss, rows, n)
					for j := 0; j < rows; j++ {
						copy(want[j*ds:j*ds+n], src[j*ss:j*ss+n])
					}
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("n %d rows %d gap %d: byte %d = %d, want %d", n, rows, gap, i, got[i], want[i])
						}
					}
				}
			}
		}
	})
}

func TestCopyRowsPanicsOutside(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("CopyRows reaching past src did not panic")
		}
	}()
	ref.CopyRows(make([]int8, 64), 32, make([]int8, 47), 32, 2, 16)
}
