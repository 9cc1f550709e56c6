package frame

import "math"

// yuvTables hold one YCbCr→RGB matrix as per-byte lookups in Q8 fixed
// point (the fraction is kept so rounding happens once, after resampling), so
// converting a pixel is five loads, four adds and the clamps.
type yuvTables struct {
	y, rv, gu, gv, bu [256]int32
}

// BT.601 luma weights; both matrices below derive from them.
const (
	kr = 0.299
	kb = 0.114
	kg = 1 - kr - kb
)

// Coefficients of the BT.601 YCbCr→RGB matrix, per unit of (Cb-128) or
// (Cr-128) for full-range chroma (±127.5 ↔ ±0.5).
const (
	coefRV = 2 * (1 - kr)
	coefBU = 2 * (1 - kb)
	coefGU = 2 * (1 - kb) * kb / kg
	coefGV = 2 * (1 - kr) * kr / kg
)

var (
	// limitedTables: Y in [16,235], chroma in [16,240] (V4L2 YUYV/UYVY).
	limitedTables = makeTables(255.0/219.0, 16, 255.0/224.0)
	// fullTables: JFIF (JPEG) full range, Y and chroma in [0,255].
	fullTables = makeTables(1, 0, 1)
)

func makeTables(yScale, yOff, cScale float64) *yuvTables {
	t := new(yuvTables)
	const one = 1 << 8
	for i := range 256 {
		c := float64(i) - 128
		t.y[i] = int32(math.Round((float64(i) - yOff) * yScale * one))
		t.rv[i] = int32(math.Round(c * cScale * coefRV * one))
		t.gu[i] = int32(math.Round(c * cScale * coefGU * one))
		t.gv[i] = int32(math.Round(c * cScale * coefGV * one))
		t.bu[i] = int32(math.Round(c * cScale * coefBU * one))
	}
	return t
}

// q8Max is 255 in the Q8 fixed point the resampler accumulates in.
const q8Max = 255 << 8

// clampQ8 clamps a Q8 channel value to [0, 255].
func clampQ8(v int32) int32 {
	// min/max compile to conditional moves: no mispredicted branches on
	// noisy out-of-gamut pixels.
	return max(0, min(v, q8Max))
}

// rgbQ8 converts one YCbCr sample to RGB in Q8, keeping the fraction so that
// rounding happens once, after resampling.
func (t *yuvTables) rgbQ8(y, u, v byte) (r, g, b int32) {
	l := t.y[y]
	return clampQ8(l + t.rv[v]), clampQ8(l - t.gu[u] - t.gv[v]), clampQ8(l + t.bu[u])
}

// chroma returns the chroma terms of R, G and B (Q8) for one (U, V) pair,
// which the two pixels of a YUYV pair share.
func (t *yuvTables) chroma(u, v byte) (cr, cg, cb int32) {
	return t.rv[v], -t.gu[u] - t.gv[v], t.bu[u]
}

// withLuma finishes rgbQ8 given the chroma terms.
func (t *yuvTables) withLuma(y byte, cr, cg, cb int32) (r, g, b int32) {
	l := t.y[y]
	return clampQ8(l + cr), clampQ8(l + cg), clampQ8(l + cb)
}
