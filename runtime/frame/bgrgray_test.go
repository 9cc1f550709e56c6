package frame

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestBGRAndGrayMatchRGB: a BGR24 frame resamples to exactly what the same picture in RGB24
// gives, and a GRAY8 frame to what its gray replicated into RGB24 gives — every filter, crop
// and odd size — so ROS bgr8/mono8 images need no conversion pass before preprocessing.
func TestBGRAndGrayMatchRGB(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][2]int{{64, 64}, {65, 47}, {321, 241}, {640, 480}, {2, 2}} {
		w, h := sz[0], sz[1]
		for _, filter := range []Filter{Bilinear, Area} {
			for _, crop := range []Rect{{}, CenterSquare(w, h)} {
				rgb := make([]byte, 3*w*h)
				for i := range rgb {
					rgb[i] = byte(rng.IntN(256))
				}
				bgr := make([]byte, len(rgb))
				for i := 0; i < len(rgb); i += 3 {
					bgr[i], bgr[i+1], bgr[i+2] = rgb[i+2], rgb[i+1], rgb[i]
				}
				gray := make([]byte, w*h)
				grayRGB := make([]byte, 3*w*h)
				for i := range gray {
					gray[i] = byte(rng.IntN(256))
					grayRGB[3*i], grayRGB[3*i+1], grayRGB[3*i+2] = gray[i], gray[i], gray[i]
				}
				out := func(f PixelFormat, data []byte) []byte {
					p, err := NewPreprocessor(Config{Format: f, Width: w, Height: h, Crop: crop, Filter: filter})
					if err != nil {
						t.Fatal(err)
					}
					dst := make([]byte, p.OutLen())
					if err := p.Process(dst, Frame{Data: data, Format: f, Width: w, Height: h}); err != nil {
						t.Fatal(err)
					}
					return dst
				}
				if !bytes.Equal(out(BGR24, bgr), out(RGB24, rgb)) {
					t.Errorf("%dx%d filter %v crop %+v: BGR24 differs from RGB24", w, h, filter, crop)
				}
				if !bytes.Equal(out(GRAY8, gray), out(RGB24, grayRGB)) {
					t.Errorf("%dx%d filter %v crop %+v: GRAY8 differs from gray RGB24", w, h, filter, crop)
				}
			}
		}
	}
}
