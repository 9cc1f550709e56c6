package frame

import (
	"fmt"
	"image"
	"image/jpeg"
)

// Process converts src into dst, OutHeight x OutWidth x 3 RGB bytes in HWC
// order (dst must be exactly OutLen long). src must have the configured
// format and size; for packed formats its Stride may be anything that covers
// a row. For YUYV, UYVY and RGB24 Process allocates nothing. For MJPEG it
// allocates inside image/jpeg (the decoded planes), which is why an MJPEG
// camera costs more than a YUYV one.
func (p *Preprocessor) Process(dst []uint8, src Frame) error {
	c := &p.conf
	if src.Format != c.Format {
		return fmt.Errorf("%w: got %v, want %v", ErrFormat, src.Format, c.Format)
	}
	if src.Width != c.Width || src.Height != c.Height {
		return fmt.Errorf("%w: got %dx%d, want %dx%d", ErrSize, src.Width, src.Height, c.Width, c.Height)
	}
	if len(dst) != p.OutLen() {
		return fmt.Errorf("%w: output buffer has %d bytes, want %d (%dx%dx3)", ErrBuffer, len(dst), p.OutLen(), c.OutHeight, c.OutWidth)
	}
	if c.Format == MJPEG {
		return p.processJPEG(dst, src.Data)
	}
	rowLen := c.Width * c.Format.BytesPerPixel()
	stride := src.RowStride()
	if stride < rowLen {
		return fmt.Errorf("%w: stride %d is shorter than a %v row of %d bytes", ErrBuffer, stride, c.Format, rowLen)
	}
	if need := (c.Height-1)*stride + rowLen; len(src.Data) < need {
		return fmt.Errorf("%w: %v %dx%d frame (stride %d) needs %d bytes, got %d", ErrBuffer, c.Format, c.Width, c.Height, stride, need, len(src.Data))
	}
	switch {
	case p.identity:
		for y := range c.Height {
			copy(dst[y*rowLen:(y+1)*rowLen], src.Data[y*stride:])
		}
	case p.bcols != nil && (c.Format == RGB24 || c.Format == BGR24):
		p.bilinearRGB(dst, src.Data, stride)
	case p.bcols != nil && c.Format == GRAY8:
		p.bilinearGray(dst, src.Data, stride)
	case p.bcols != nil && p.bilinearSIMD(dst, src.Data, stride):
	case p.bcols != nil && c.Format == YUYV:
		p.bilinearYUYV(dst, src.Data, stride)
	case p.bcols != nil:
		p.bilinearUYVY(dst, src.Data, stride)
	case c.Format == RGB24 || c.Format == BGR24 || c.Format == GRAY8:
		p.resampleRGB(dst, src.Data, stride)
	default:
		p.resamplePackedYUV(dst, src.Data, stride)
	}
	return nil
}

// The resamplers accumulate each output channel as
// sum_y wy * sum_x wx * c(x,y) with c in Q8 and weights in Q14: the inner sum
// fits in int32 (65280 * 2^14 < 2^31), the outer one needs int64 (Q36).
const (
	accShift = 8 + 2*wBits
	accHalf  = int64(1) << (accShift - 1)
)

func (p *Preprocessor) resamplePackedYUV(dst, data []byte, stride int) {
	t := limitedTables
	xs, ys := &p.xs, &p.ys
	off0, off1, off2 := p.off0, p.off1, p.off2
	outW := p.conf.OutWidth
	o := 0
	for oy := range p.conf.OutHeight {
		y0, y1 := ys.start[oy], ys.start[oy+1]
		for ox := range outW {
			x0, x1 := xs.start[ox], xs.start[ox+1]
			var r, g, b int64
			for j := y0; j < y1; j++ {
				row := data[int(ys.pos[j])*stride:]
				var hr, hg, hb int32
				for i := x0; i < x1; i++ {
					cr, cg, cb := t.rgbQ8(row[off0[i]], row[off1[i]], row[off2[i]])
					w := xs.w[i]
					hr += cr * w
					hg += cg * w
					hb += cb * w
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

// resampleRGB is the area path of the byte-per-channel formats (RGB24, BGR24, GRAY8): the
// offset tables say where each output channel reads.
func (p *Preprocessor) resampleRGB(dst, data []byte, stride int) {
	xs, ys := &p.xs, &p.ys
	off0, off1, off2 := p.off0, p.off1, p.off2
	outW := p.conf.OutWidth
	o := 0
	for oy := range p.conf.OutHeight {
		y0, y1 := ys.start[oy], ys.start[oy+1]
		for ox := range outW {
			x0, x1 := xs.start[ox], xs.start[ox+1]
			var r, g, b int64
			for j := y0; j < y1; j++ {
				row := data[int(ys.pos[j])*stride:]
				var hr, hg, hb int32
				for i := x0; i < x1; i++ {
					w := xs.w[i] << 8
					hr += int32(row[off0[i]]) * w
					hg += int32(row[off1[i]]) * w
					hb += int32(row[off2[i]]) * w
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

func (p *Preprocessor) processJPEG(dst, data []byte) error {
	if p.jpeg == nil {
		p.jpeg = p.initJPEG()
	}
	if p.jpeg.f != 0 {
		if handled, err := p.processJPEGReduced(p.jpeg, dst, data); handled {
			return err
		}
	}
	// Full-size decode: crops too small for a reduced scale, and what the
	// reduced decoder does not handle (progressive, 12-bit, CMYK, ...).
	info, err := scanJPEG(data)
	if err != nil {
		return err
	}
	// Check the size before decoding so a corrupt header cannot make
	// image/jpeg allocate planes for a 65535x65535 image.
	if info.width != p.conf.Width || info.height != p.conf.Height {
		return errSizeMismatch(info.width, info.height, p.conf)
	}
	if !info.hasDHT {
		p.jpegBuf = insertDHT(p.jpegBuf[:0], data, info.sos)
		data = p.jpegBuf
	}
	p.reader.Reset(data)
	img, err := jpeg.Decode(&p.reader)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return p.resampleImage(dst, img)
}

func errSizeMismatch(w, h int, c Config) error {
	return fmt.Errorf("%w: JPEG is %dx%d, want %dx%d", ErrSize, w, h, c.Width, c.Height)
}

// resampleImage resamples a decoded JPEG (full-range YCbCr or grey).
func (p *Preprocessor) resampleImage(dst []byte, img image.Image) error {
	b := img.Bounds()
	if b.Dx() != p.conf.Width || b.Dy() != p.conf.Height {
		return fmt.Errorf("%w: decoded JPEG is %dx%d, want %dx%d", ErrSize, b.Dx(), b.Dy(), p.conf.Width, p.conf.Height)
	}
	switch m := img.(type) {
	case *image.YCbCr:
		var hs, vs int
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
		case image.YCbCrSubsampleRatio422:
			hs = 1
		case image.YCbCrSubsampleRatio420:
			hs, vs = 1, 1
		case image.YCbCrSubsampleRatio440:
			vs = 1
		case image.YCbCrSubsampleRatio411:
			hs = 2
		case image.YCbCrSubsampleRatio410:
			hs, vs = 2, 1
		default:
			return fmt.Errorf("%w: unsupported chroma subsampling %v", ErrDecode, m.SubsampleRatio)
		}
		p.resampleYCbCr(dst, m.Y, m.Cb, m.Cr, m.YStride, m.CStride, hs, vs)
	case *image.Gray:
		p.resampleYCbCr(dst, m.Pix, nil, nil, m.Stride, 0, 0, 0)
	default:
		return fmt.Errorf("%w: unsupported JPEG colour model %T", ErrDecode, img)
	}
	return nil
}

// resampleYCbCr reads planar full-range YCbCr; nil chroma planes mean grey.
func (p *Preprocessor) resampleYCbCr(dst, yp, cb, cr []byte, yStride, cStride, hs, vs int) {
	resamplePlanes(dst, &p.xs, &p.ys, p.cx[hs], yp, cb, cr, yStride, cStride, vs, p.conf.OutWidth, p.conf.OutHeight)
}
