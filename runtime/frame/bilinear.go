package frame

// Specialised bilinear path for the packed formats: exactly two taps per axis
// (a single tap becomes two with weight 0), with all byte offsets of a column
// in one struct so the inner loop reads one cache line of tables per pixel.

// bcol is one output column: byte offsets within a row of the three samples
// of its left (0) and right (1) source pixel, and their Q14 weights.
type bcol struct {
	a0, b0, c0 int32
	a1, b1, c1 int32
	w0, w1     int32
}

// brow is one output row: source rows and Q14 weights.
type brow struct {
	y0, y1 int32
	w0, w1 int32
}

// twoTaps flattens an axis with at most two taps per output into pairs.
func twoTaps(a axis, i int) (p0, p1, w0, w1 int32, ok bool) {
	s, e := a.start[i], a.start[i+1]
	switch e - s {
	case 1:
		return a.pos[s], a.pos[s], a.w[s], 0, true
	case 2:
		return a.pos[s], a.pos[s+1], a.w[s], a.w[s+1], true
	}
	return 0, 0, 0, 0, false
}

// initBilinear builds the two-tap tables when every output has at most two
// taps per axis (always true for Bilinear, and for Area when not downscaling).
func (p *Preprocessor) initBilinear() {
	if p.conf.Format == MJPEG {
		return
	}
	cols := make([]bcol, p.conf.OutWidth)
	for i := range cols {
		x0, x1, w0, w1, ok := twoTaps(p.xs, i)
		if !ok {
			return
		}
		j0, j1 := p.xs.start[i], p.xs.start[i]+1
		if x1 == x0 {
			j1 = j0
		}
		cols[i] = bcol{
			a0: p.off0[j0], b0: p.off1[j0], c0: p.off2[j0],
			a1: p.off0[j1], b1: p.off1[j1], c1: p.off2[j1],
			w0: w0, w1: w1,
		}
	}
	rows := make([]brow, p.conf.OutHeight)
	for i := range rows {
		y0, y1, w0, w1, ok := twoTaps(p.ys, i)
		if !ok {
			return
		}
		rows[i] = brow{y0, y1, w0, w1}
	}
	p.bcols, p.brows = cols, rows
}

// Rounding of the two-stage blend: rows are blended to Q8 (rounded), then
// the vertical blend is Q22 and fits in int32.
const (
	hHalf  = 1 << (wBits - 1)
	vShift = 8 + wBits
	vHalf  = 1 << (vShift - 1)
)

func (p *Preprocessor) bilinearYUV(dst, data []byte, stride int) {
	t := limitedTables
	cols := p.bcols
	o := 0
	for _, r := range p.brows {
		row0 := data[int(r.y0)*stride:]
		row1 := data[int(r.y1)*stride:]
		for _, c := range cols {
			var r00, g00, b00, r01, g01, b01, r10, g10, b10, r11, g11, b11 int32
			if c.b0 == c.b1 {
				// Both taps in one YUYV pair (always so at 640→64): share
				// the chroma lookups.
				cr, cg, cb := t.chroma(row0[c.b0], row0[c.c0])
				r00, g00, b00 = t.withLuma(row0[c.a0], cr, cg, cb)
				r01, g01, b01 = t.withLuma(row0[c.a1], cr, cg, cb)
				cr, cg, cb = t.chroma(row1[c.b0], row1[c.c0])
				r10, g10, b10 = t.withLuma(row1[c.a0], cr, cg, cb)
				r11, g11, b11 = t.withLuma(row1[c.a1], cr, cg, cb)
			} else {
				r00, g00, b00 = t.rgbQ8(row0[c.a0], row0[c.b0], row0[c.c0])
				r01, g01, b01 = t.rgbQ8(row0[c.a1], row0[c.b1], row0[c.c1])
				r10, g10, b10 = t.rgbQ8(row1[c.a0], row1[c.b0], row1[c.c0])
				r11, g11, b11 = t.rgbQ8(row1[c.a1], row1[c.b1], row1[c.c1])
			}
			d := dst[o : o+3 : o+3]
			d[0] = blend4(r00, r01, r10, r11, c.w0, c.w1, r.w0, r.w1)
			d[1] = blend4(g00, g01, g10, g11, c.w0, c.w1, r.w0, r.w1)
			d[2] = blend4(b00, b01, b10, b11, c.w0, c.w1, r.w0, r.w1)
			o += 3
		}
	}
}

func (p *Preprocessor) bilinearRGB(dst, data []byte, stride int) {
	cols := p.bcols
	o := 0
	for _, r := range p.brows {
		row0 := data[int(r.y0)*stride:]
		row1 := data[int(r.y1)*stride:]
		for _, c := range cols {
			p00 := row0[c.a0 : c.a0+3 : c.a0+3]
			p01 := row0[c.a1 : c.a1+3 : c.a1+3]
			p10 := row1[c.a0 : c.a0+3 : c.a0+3]
			p11 := row1[c.a1 : c.a1+3 : c.a1+3]
			d := dst[o : o+3 : o+3]
			for k := range 3 {
				d[k] = blend4(int32(p00[k])<<8, int32(p01[k])<<8, int32(p10[k])<<8, int32(p11[k])<<8, c.w0, c.w1, r.w0, r.w1)
			}
			o += 3
		}
	}
}

// blend4 mixes four Q8 samples with Q14 weights and rounds to a byte.
func blend4(v00, v01, v10, v11, wx0, wx1, wy0, wy1 int32) uint8 {
	h0 := (v00*wx0 + v01*wx1 + hHalf) >> wBits
	h1 := (v10*wx0 + v11*wx1 + hHalf) >> wBits
	return uint8((h0*wy0 + h1*wy1 + vHalf) >> vShift)
}
