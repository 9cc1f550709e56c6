package model

import (
	"math"
	"testing"
)

func TestPixelByte(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		in   float64
		want uint8
	}{
		{nan, 0}, {math.Inf(1), 255}, {math.Inf(-1), 0}, {-0.4, 0}, {-3, 0}, {0, 0},
		{0.49, 0}, {0.5, 1}, {1.5, 2}, {2.5, 3}, // half away from zero, not to even
		{38.9, 39}, {127.5, 128}, {254.49, 254}, {254.5, 255}, {255, 255}, {300, 255},
	} {
		if got := PixelByte(tc.in); got != tc.want {
			t.Errorf("PixelByte(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   float32
		want uint8
	}{
		{float32(nan), 0}, {-0.1, 0}, {0, 0}, {0.5 / 255, 1}, {0.5, 128}, {1, 255}, {1.2, 255},
	} {
		if got := UnitByte(tc.in); got != tc.want {
			t.Errorf("UnitByte(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
	dst := make([]uint8, 3)
	UnitImageBytes(dst, []float32{1, float32(nan), 0.2, 0.7})
	if dst[0] != 255 || dst[1] != 0 || dst[2] != 51 {
		t.Errorf("UnitImageBytes = %v, want [255 0 51]", dst)
	}
	if n := testing.AllocsPerRun(10, func() { UnitImageBytes(dst, []float32{0.1, 0.2, 0.3}) }); n != 0 {
		t.Errorf("UnitImageBytes allocates %v", n)
	}
}
