package frame

import (
	"math/rand/v2"
	"testing"
)

// TestBilinearSIMDExact compares the vector row kernel of the packed-YUV bilinear path with
// the Go loop, byte for byte: noise frames (most pixels out of gamut, so every clamp works),
// YUYV and UYVY, full frames, centre crops, odd crops (split pairs on both sides) and a
// padded row stride. Where the kernel does not apply (no AVX2, other arch, an output width
// not a multiple of 8) it checks that the Go loop ran.
func TestBilinearSIMDExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cases := []struct {
		w, h, ow, oh, pad int
		crop              Rect
	}{
		{640, 480, 64, 64, 0, Rect{}},
		{640, 480, 64, 64, 0, CenterSquare(640, 480)},
		{640, 480, 64, 64, 32, Rect{X: 3, Y: 5, W: 333, H: 301}},
		{320, 240, 64, 48, 0, Rect{}},
		{100, 80, 64, 64, 0, Rect{}},  // upscaling: single taps and split pairs
		{640, 480, 60, 60, 0, Rect{}}, // width not a multiple of 8: Go loop only
	}
	for _, format := range []PixelFormat{YUYV, UYVY} {
		for _, tc := range cases {
			p, err := NewPreprocessor(Config{Format: format, Width: tc.w, Height: tc.h, OutWidth: tc.ow, OutHeight: tc.oh, Crop: tc.crop, Helpers: "avx2"})
			if err != nil {
				t.Fatal(err)
			}
			if p.simd != hasAVX2 {
				t.Fatalf("Helpers avx2 on a CPU with AVX2 %v: vector path %v", hasAVX2, p.simd)
			}
			if (p.bgroups != nil) != (tc.ow%8 == 0) {
				t.Fatalf("%v %+v: vector tables built %v", format, tc, p.bgroups != nil)
			}
			stride := 2*tc.w + tc.pad
			data := make([]byte, stride*tc.h)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			src := Frame{Data: data, Format: format, Width: tc.w, Height: tc.h, Stride: stride}
			got, want := make([]byte, p.OutLen()), make([]byte, p.OutLen())
			if err := p.Process(got, src); err != nil {
				t.Fatal(err)
			}
			goConf := p.conf
			goConf.Helpers = "go"
			pg, err := NewPreprocessor(goConf)
			if err != nil {
				t.Fatal(err)
			}
			if err := pg.Process(want, src); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%v %+v: byte %d (pixel %d) = %d with the vector kernel, %d with the Go loop", format, tc, i, i/3, got[i], want[i])
				}
			}
		}
	}
}
