package frame

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"testing"
)

// This file is the straightforward float64 reference the fast paths are
// tested against: convert every source pixel to 8-bit RGB first (as
// cv2.cvtColor would), then resample in float64 and round once.

// refRGB returns the full-resolution RGB image of f, rounded to bytes.
func refRGB(t *testing.T, f Frame) [][3]float64 {
	t.Helper()
	out := make([][3]float64, f.Width*f.Height)
	conv := func(y, cb, cr float64, limited bool) [3]float64 {
		ys, cs := 1.0, 1.0
		if limited {
			ys, cs = 255.0/219.0, 255.0/224.0
			y -= 16
		}
		cb, cr = (cb-128)*cs, (cr-128)*cs
		y *= ys
		r := y + 1.402*cr
		g := y - 0.114*1.772/0.587*cb - 0.299*1.402/0.587*cr
		b := y + 1.772*cb
		var px [3]float64
		for i, v := range [3]float64{r, g, b} {
			px[i] = math.Min(255, math.Max(0, math.Round(v)))
		}
		return px
	}
	switch f.Format {
	case YUYV, UYVY, RGB24:
		stride := f.RowStride()
		for y := 0; y < f.Height; y++ {
			for x := 0; x < f.Width; x++ {
				row := f.Data[y*stride:]
				var px [3]float64
				switch f.Format {
				case RGB24:
					px = [3]float64{float64(row[3*x]), float64(row[3*x+1]), float64(row[3*x+2])}
				case YUYV:
					pair := row[4*(x/2):]
					px = conv(float64(row[2*x]), float64(pair[1]), float64(pair[3]), true)
				case UYVY:
					pair := row[4*(x/2):]
					px = conv(float64(row[2*x+1]), float64(pair[0]), float64(pair[2]), true)
				}
				out[y*f.Width+x] = px
			}
		}
	case MJPEG:
		img, err := jpeg.Decode(bytes.NewReader(f.Data))
		if err != nil {
			t.Fatalf("reference decode: %v", err)
		}
		for y := 0; y < f.Height; y++ {
			for x := 0; x < f.Width; x++ {
				switch m := img.(type) {
				case *image.YCbCr:
					c := m.YCbCrAt(x, y)
					out[y*f.Width+x] = conv(float64(c.Y), float64(c.Cb), float64(c.Cr), false)
				case *image.Gray:
					v := float64(m.GrayAt(x, y).Y)
					out[y*f.Width+x] = [3]float64{v, v, v}
				default:
					t.Fatalf("reference: unexpected %T", img)
				}
			}
		}
	}
	return out
}

// refResize resamples the crop of img (w pixels wide) to outW x outH.
func refResize(img [][3]float64, w int, crop Rect, outW, outH int, f Filter) []float64 {
	type tap struct {
		i int
		w float64
	}
	// taps lists the source indices and weights of output index o on an
	// axis of n source samples scaled by scale.
	taps := func(o int, scale float64, n int) []tap {
		if f == Area && scale > 1 {
			var ts []tap
			lo, hi := float64(o)*scale, float64(o+1)*scale
			for s := int(lo); float64(s) < hi && s < n; s++ {
				ts = append(ts, tap{s, (math.Min(hi, float64(s+1)) - math.Max(lo, float64(s))) / scale})
			}
			return ts
		}
		// OpenCV INTER_LINEAR: half-pixel centres, edges replicated.
		s := (float64(o)+0.5)*scale - 0.5
		i0 := int(math.Floor(s))
		fr := s - math.Floor(s)
		if i0 < 0 {
			i0, fr = 0, 0
		}
		if i0 >= n-1 {
			i0, fr = n-1, 0
		}
		return []tap{{i0, 1 - fr}, {min(i0+1, n-1), fr}}
	}
	sx, sy := float64(crop.W)/float64(outW), float64(crop.H)/float64(outH)
	out := make([]float64, 0, outW*outH*3)
	for oy := 0; oy < outH; oy++ {
		for ox := 0; ox < outW; ox++ {
			var acc [3]float64
			for _, ty := range taps(oy, sy, crop.H) {
				for _, tx := range taps(ox, sx, crop.W) {
					px := img[(crop.Y+ty.i)*w+crop.X+tx.i]
					for c := range acc {
						acc[c] += px[c] * tx.w * ty.w
					}
				}
			}
			out = append(out, acc[:]...)
		}
	}
	return out
}
