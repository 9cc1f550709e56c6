package model

import "math"

// PixelByte converts a pixel value in 0..255 units to a byte: NaN becomes 0, values outside
// 0..255 are clamped, and the rest are rounded half away from zero (math.Round: 0.5 → 1,
// 254.5 → 255). It is the one float→uint8 image conversion of rssmd: sequence readers,
// decoded images on ROS topics, the dashboard and reports all use it, so one pixel value
// gives one byte everywhere.
func PixelByte(v float64) uint8 {
	switch {
	case !(v > 0): // NaN too
		return 0
	case v >= 255:
		return 255
	}
	return uint8(math.Round(v))
}

// UnitByte converts a pixel in 0..1 units (a decoder mean, unclamped) to a byte:
// PixelByte(v·255), the product taken in float64.
func UnitByte(v float32) uint8 { return PixelByte(float64(v) * 255) }

// UnitImageBytes writes UnitByte(src[i]) to dst[i] for every i < min(len(dst), len(src)).
func UnitImageBytes(dst []uint8, src []float32) {
	src = src[:min(len(dst), len(src))]
	for i, v := range src {
		dst[i] = UnitByte(v)
	}
}
