package frame

// Specialised bilinear path for the packed formats: exactly two taps per
// axis, read through one small fixed-size window per row so that the
// compiler checks bounds once per window instead of once per byte.

// bcol is one output column. For YUYV/UYVY, p is the byte offset of the
// 4-byte pair holding the left tap; if split, the right tap is in the next
// pair (window of 8 bytes), else both taps are the two pixels of that pair
// (window of 4; a single tap is a pair with a zero weight). For RGB24, p is
// the offset of the left of two adjacent pixels (window of 6). w0 and w1 are
// the Q14 weights of the left and right pixel of the window; they always sum
// to wOne (blend4 relies on it).
type bcol struct {
	p      int32
	split  bool
	w0, w1 int32
}

// brow is one output row: source rows and Q14 weights.
type brow struct {
	y0, y1 int32
	w0, w1 int32
}

// twoTaps returns the (at most two) taps of output i; ok is false when the
// axis has more (Area downscaling).
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
// taps per axis (always for Bilinear; for Area when not downscaling).
func (p *Preprocessor) initBilinear() {
	c := p.conf
	if c.Format == MJPEG || c.Width < 2 {
		return
	}
	cols := make([]bcol, c.OutWidth)
	for i := range cols {
		x0, x1, w0, w1, ok := twoTaps(p.xs, i)
		if !ok {
			return
		}
		if bpp := int32(c.Format.BytesPerPixel()); c.Format == RGB24 || c.Format == BGR24 || c.Format == GRAY8 {
			// Window of two adjacent pixels; a single tap at the right edge
			// becomes the right pixel of the window ending there.
			if x1 == x0 && x0 == int32(c.Width-1) {
				x0, w0, w1 = x0-1, 0, w0
			}
			cols[i] = bcol{p: bpp * x0, w0: w0, w1: w1}
			continue
		}
		pair := 4 * (x0 >> 1)
		switch {
		case x1 == x0+1 && x0&1 == 1:
			cols[i] = bcol{p: pair, split: true, w0: w0, w1: w1}
		case x0&1 == 0: // x1 == x0+1 (same pair) or x1 == x0 (w1 == 0)
			cols[i] = bcol{p: pair, w0: w0, w1: w1}
		default: // single tap on the odd pixel of a pair
			cols[i] = bcol{p: pair, w0: 0, w1: w0}
		}
	}
	rows := make([]brow, c.OutHeight)
	for i := range rows {
		y0, y1, w0, w1, ok := twoTaps(p.ys, i)
		if !ok {
			return
		}
		rows[i] = brow{y0, y1, w0, w1}
	}
	p.bcols, p.brows = cols, rows
	p.initGroups()
}

// groupInts is the size of one group of 8 output columns in bgroups: byte offsets of the
// pairs holding the left and right taps, the shifts of their Y bytes within those pairs,
// and the right tap's weight, 8 int32 each.
const groupInts = 5 * 8

// initGroups builds the column tables of the vector row kernel (bilinearSIMD) for YUYV and
// UYVY when the output width is a multiple of 8.
func (p *Preprocessor) initGroups() {
	c := p.conf
	if (c.Format != YUYV && c.Format != UYVY) || c.OutWidth%8 != 0 {
		return
	}
	yl, yr := int32(0), int32(16) // Y0 and Y1 in a YUYV pair
	if c.Format == UYVY {
		yl, yr = 8, 24
	}
	g := make([]int32, c.OutWidth/8*groupInts)
	end := int32(0)
	for i, col := range p.bcols {
		b := i / 8 * groupInts
		j := i % 8
		off1, sh0, sh1 := col.p, yl, yr
		if col.split { // left tap is the pair's second pixel, right tap the next pair's first
			off1, sh0, sh1 = col.p+4, yr, yl
		}
		g[b+j], g[b+8+j], g[b+16+j], g[b+24+j], g[b+32+j] = col.p, off1, sh0, sh1, col.w1
		end = max(end, off1+4)
	}
	p.bgroups, p.browLen = g, int(end)
}

func (p *Preprocessor) bilinearYUYV(dst, data []byte, stride int) {
	t := limitedTables
	cols := p.bcols
	o := 0
	for _, r := range p.brows {
		row0 := data[int(r.y0)*stride:]
		row1 := data[int(r.y1)*stride:]
		for _, c := range cols {
			var r00, g00, b00, r01, g01, b01, r10, g10, b10, r11, g11, b11 int32
			if c.split { // Y0 U0 [Y V0] | [Y U1] Y V1
				q0 := (*[8]byte)(row0[c.p:])
				q1 := (*[8]byte)(row1[c.p:])
				r00, g00, b00 = t.rgbQ8(q0[2], q0[1], q0[3])
				r01, g01, b01 = t.rgbQ8(q0[4], q0[5], q0[7])
				r10, g10, b10 = t.rgbQ8(q1[2], q1[1], q1[3])
				r11, g11, b11 = t.rgbQ8(q1[4], q1[5], q1[7])
			} else { // Y0 U Y1 V: the two pixels share chroma
				q0 := (*[4]byte)(row0[c.p:])
				q1 := (*[4]byte)(row1[c.p:])
				cr, cg, cb := t.chroma(q0[1], q0[3])
				r00, g00, b00 = t.withLuma(q0[0], cr, cg, cb)
				r01, g01, b01 = t.withLuma(q0[2], cr, cg, cb)
				cr, cg, cb = t.chroma(q1[1], q1[3])
				r10, g10, b10 = t.withLuma(q1[0], cr, cg, cb)
				r11, g11, b11 = t.withLuma(q1[2], cr, cg, cb)
			}
			d := (*[3]byte)(dst[o:])
			d[0] = blend4(r00, r01, r10, r11, c.w1, r.w1)
			d[1] = blend4(g00, g01, g10, g11, c.w1, r.w1)
			d[2] = blend4(b00, b01, b10, b11, c.w1, r.w1)
			o += 3
		}
	}
}

// bilinearUYVY is bilinearYUYV with the UYVY byte order (U Y0 V Y1).
func (p *Preprocessor) bilinearUYVY(dst, data []byte, stride int) {
	t := limitedTables
	cols := p.bcols
	o := 0
	for _, r := range p.brows {
		row0 := data[int(r.y0)*stride:]
		row1 := data[int(r.y1)*stride:]
		for _, c := range cols {
			var r00, g00, b00, r01, g01, b01, r10, g10, b10, r11, g11, b11 int32
			if c.split { // U0 Y0 V0 [Y] | [U1 Y] V1 Y
				q0 := (*[8]byte)(row0[c.p:])
				q1 := (*[8]byte)(row1[c.p:])
				r00, g00, b00 = t.rgbQ8(q0[3], q0[0], q0[2])
				r01, g01, b01 = t.rgbQ8(q0[5], q0[4], q0[6])
				r10, g10, b10 = t.rgbQ8(q1[3], q1[0], q1[2])
				r11, g11, b11 = t.rgbQ8(q1[5], q1[4], q1[6])
			} else {
				q0 := (*[4]byte)(row0[c.p:])
				q1 := (*[4]byte)(row1[c.p:])
				cr, cg, cb := t.chroma(q0[0], q0[2])
				r00, g00, b00 = t.withLuma(q0[1], cr, cg, cb)
				r01, g01, b01 = t.withLuma(q0[3], cr, cg, cb)
				cr, cg, cb = t.chroma(q1[0], q1[2])
				r10, g10, b10 = t.withLuma(q1[1], cr, cg, cb)
				r11, g11, b11 = t.withLuma(q1[3], cr, cg, cb)
			}
			d := (*[3]byte)(dst[o:])
			d[0] = blend4(r00, r01, r10, r11, c.w1, r.w1)
			d[1] = blend4(g00, g01, g10, g11, c.w1, r.w1)
			d[2] = blend4(b00, b01, b10, b11, c.w1, r.w1)
			o += 3
		}
	}
}

func (p *Preprocessor) bilinearRGB(dst, data []byte, stride int) {
	cols := p.bcols
	// Output channel k reads source channel ch[k]: BGR24 is RGB24 read backwards.
	ch := [3]int{0, 1, 2}
	if p.conf.Format == BGR24 {
		ch = [3]int{2, 1, 0}
	}
	o := 0
	for _, r := range p.brows {
		row0 := data[int(r.y0)*stride:]
		row1 := data[int(r.y1)*stride:]
		for _, c := range cols {
			q0 := (*[6]byte)(row0[c.p:])
			q1 := (*[6]byte)(row1[c.p:])
			d := (*[3]byte)(dst[o:])
			for k, s := range ch {
				d[k] = blend4(int32(q0[s])<<8, int32(q0[s+3])<<8, int32(q1[s])<<8, int32(q1[s+3])<<8, c.w1, r.w1)
			}
			o += 3
		}
	}
}

// bilinearGray is bilinearRGB for GRAY8: one blend, written to all three channels.
func (p *Preprocessor) bilinearGray(dst, data []byte, stride int) {
	cols := p.bcols
	o := 0
	for _, r := range p.brows {
		row0 := data[int(r.y0)*stride:]
		row1 := data[int(r.y1)*stride:]
		for _, c := range cols {
			q0 := (*[2]byte)(row0[c.p:])
			q1 := (*[2]byte)(row1[c.p:])
			v := blend4(int32(q0[0])<<8, int32(q0[1])<<8, int32(q1[0])<<8, int32(q1[1])<<8, c.w1, r.w1)
			d := (*[3]byte)(dst[o:])
			d[0], d[1], d[2] = v, v, v
			o += 3
		}
	}
}

// blend4 mixes four Q8 samples with Q14 weights and rounds to a byte. The
// weights of each axis sum to exactly wOne, so v0*w0 + v1*w1 is computed as
// v0<<14 + (v1-v0)*w1: three multiplies per channel instead of six (the
// multiplies are what bound this loop). The vertical stage is 64-bit (free
// on amd64 and arm64) so nothing is rounded before the end.
func blend4(v00, v01, v10, v11, wx1, wy1 int32) uint8 {
	h0 := int64(v00<<wBits + (v01-v00)*wx1)
	h1 := int64(v10<<wBits + (v11-v10)*wx1)
	return uint8((h0<<wBits + (h1-h0)*int64(wy1) + accHalf) >> accShift)
}
