package frame

import (
	"errors"
	"log/slog"
	"math"
)

// jpegState is what a Preprocessor keeps for MJPEG frames: the reduced
// decoder, the scale chosen for its crop, and sampling tables in reduced
// pixels. Built on the first MJPEG frame, then reused.
type jpegState struct {
	dec jpegDecoder
	// f is the number of source pixels per reduced pixel (8, 4 or 2); 0
	// when the crop is too small for any reduced scale, and image/jpeg
	// decodes at full size.
	f      int
	xs, ys axis
	cx     [3][]int32 // chroma column of each x tap per horizontal shift
	// loggedFallback: the image/jpeg fallback has been logged once.
	loggedFallback bool
	// area: the DCT-domain area path (Filter Area), which decodes
	// coefficients rather than planes.
	area *areaState
}

// jpegScale is the coarsest reduction (source pixels per decoded pixel:
// 8, 4 or 2) that still leaves the crop at least out pixels on each axis,
// or 0 if even 2 does not.
func jpegScale(crop Rect, outW, outH int) int {
	for _, f := range []int{8, 4, 2} {
		if crop.W >= f*outW && crop.H >= f*outH {
			return f
		}
	}
	return 0
}

func (p *Preprocessor) initJPEG() *jpegState {
	c := p.conf
	s := &jpegState{f: jpegScale(c.Crop, c.OutWidth, c.OutHeight)}
	if s.f == 0 {
		return s
	}
	s.dec.setScale(8 / s.f)
	if c.Filter == Area {
		s.area = new(areaState)
		s.dec.coefMode = true
	}
	s.xs = scaledAxis(c.Crop.X, c.Crop.W, s.f, c.OutWidth, c.Filter)
	s.ys = scaledAxis(c.Crop.Y, c.Crop.H, s.f, c.OutHeight, c.Filter)
	for sh := range s.cx {
		s.cx[sh] = make([]int32, len(s.xs.pos))
		for i, x := range s.xs.pos {
			s.cx[sh][i] = x >> sh
		}
	}
	return s
}

// scaledAxis is makeAxis for an image reduced by f: the crop [off, off+n)
// in source pixels becomes [off/f, (off+n)/f) in reduced pixels, fractions
// kept, so the crop means the same as for the other formats. Area weights
// each reduced pixel by its overlap; Bilinear samples at the same centres
// as at full size, clamped to the reduced pixels the crop touches.
func scaledAxis(off, n, f, out int, filter Filter) axis {
	a := axis{start: make([]int32, 0, out+1)}
	ff := float64(f)
	lo0, span := float64(off)/ff, float64(n)/ff
	scale := span / float64(out)
	first := int(math.Floor(lo0))
	last := int(math.Ceil(float64(off+n)/ff)) - 1
	if filter == Area && scale > 1 {
		for i := range out {
			a.start = append(a.start, int32(len(a.pos)))
			lo, hi := lo0+float64(i)*scale, lo0+float64(i+1)*scale
			begin := len(a.w)
			sum, big := int32(0), begin
			for s := int(math.Floor(lo)); s <= last && float64(s) < hi; s++ {
				ov := math.Min(hi, float64(s+1)) - math.Max(lo, float64(s))
				w := int32(math.Round(ov / scale * wOne))
				if w <= 0 {
					continue
				}
				if len(a.w) == begin || w > a.w[big] {
					big = len(a.w)
				}
				a.pos = append(a.pos, int32(s))
				a.w = append(a.w, w)
				sum += w
			}
			a.w[big] += wOne - sum
		}
		a.start = append(a.start, int32(len(a.pos)))
		return a
	}
	for i := range out {
		a.start = append(a.start, int32(len(a.pos)))
		s := lo0 + (float64(i)+0.5)*scale - 0.5
		i0 := int(math.Floor(s))
		frac := s - math.Floor(s)
		if i0 < first {
			i0, frac = first, 0
		}
		if i0 >= last {
			i0, frac = last, 0
		}
		w1 := int32(math.Round(frac * wOne))
		switch {
		case w1 == 0:
			a.pos = append(a.pos, int32(i0))
			a.w = append(a.w, wOne)
		case w1 == wOne:
			a.pos = append(a.pos, int32(i0+1))
			a.w = append(a.w, wOne)
		default:
			a.pos = append(a.pos, int32(i0), int32(i0+1))
			a.w = append(a.w, wOne-w1, w1)
		}
	}
	a.start = append(a.start, int32(len(a.pos)))
	return a
}

// processJPEGReduced decodes data at the reduced scale and resamples it
// into dst. handled is false when the stream needs image/jpeg.
func (p *Preprocessor) processJPEGReduced(s *jpegState, dst, data []byte) (handled bool, err error) {
	d := &s.dec
	if err := d.parseHeaders(data); err != nil {
		if errors.Is(err, errJPEGUnsupported) {
			p.logFallback(s, err)
			return false, nil
		}
		return true, err
	}
	if d.width != p.conf.Width || d.height != p.conf.Height {
		return true, errSizeMismatch(d.width, d.height, p.conf)
	}
	if s.area != nil {
		s.area.prepare(d, p.conf.Crop, p.conf.OutWidth, p.conf.OutHeight)
	}
	if err := d.decodeScan(); err != nil {
		return true, err
	}
	if s.area != nil {
		return true, s.area.process(dst, d, p.conf.OutWidth, p.conf.OutHeight)
	}
	y := &d.comp[0]
	if d.ncomp == 1 {
		resamplePlanes(dst, &s.xs, &s.ys, nil, y.plane, nil, nil, y.stride, 0, 0, p.conf.OutWidth, p.conf.OutHeight)
		return true, nil
	}
	cb, cr := &d.comp[1], &d.comp[2]
	// Chroma planes match luma's resolution unless a block could not yield
	// enough samples (more than 8 per side).
	hs := chromaShift(d.n * d.hmax / cb.h / cb.nx)
	vs := chromaShift(d.n * d.vmax / cb.v / cb.ny)
	resamplePlanes(dst, &s.xs, &s.ys, s.cx[hs], y.plane, cb.plane, cr.plane, y.stride, cb.stride, vs, p.conf.OutWidth, p.conf.OutHeight)
	return true, nil
}

func (p *Preprocessor) logFallback(s *jpegState, err error) {
	if s.loggedFallback {
		return
	}
	s.loggedFallback = true
	log := p.conf.Log
	if log == nil {
		log = slog.Default()
	}
	log.Info("MJPEG frame decoded by image/jpeg (slower, allocates)", "reason", err)
}

// resamplePlanes resamples planar full-range YCbCr through the axes xs, ys;
// nil chroma planes mean grey. cx maps x taps to chroma columns; chroma rows
// are luma rows >> vs.
func resamplePlanes(dst []byte, xs, ys *axis, cx []int32, yp, cb, cr []byte, yStride, cStride, vs, outW, outH int) {
	t := fullTables
	o := 0
	for oy := range outH {
		y0, y1 := ys.start[oy], ys.start[oy+1]
		for ox := range outW {
			x0, x1 := xs.start[ox], xs.start[ox+1]
			var r, g, b int64
			for j := y0; j < y1; j++ {
				sy := int(ys.pos[j])
				row := yp[sy*yStride:]
				var hr, hg, hb int32
				if cb == nil {
					for i := x0; i < x1; i++ {
						v := int32(row[xs.pos[i]]) * (xs.w[i] << 8)
						hr += v
						hg += v
						hb += v
					}
				} else {
					crow := (sy >> vs) * cStride
					rb, rr := cb[crow:], cr[crow:]
					for i := x0; i < x1; i++ {
						c := cx[i]
						vr, vg, vb := t.rgbQ8(row[xs.pos[i]], rb[c], rr[c])
						w := xs.w[i]
						hr += vr * w
						hg += vg * w
						hb += vb * w
					}
				}
				wy := int64(ys.w[j])
				r += int64(hr) * wy
				g += int64(hg) * wy
				b += int64(hb) * wy
			}
			d := dst[o : o+3 : o+3]
			d[0] = uint8((r + accHalf) >> accShift)
			d[1] = uint8((g + accHalf) >> accShift)
			d[2] = uint8((b + accHalf) >> accShift)
			o += 3
		}
	}
}
