// Package camsim makes camera-like test frames: a textured indoor scene
// with Gaussian sensor noise, and its MJPEG encoding as a UVC webcam sends
// it (quality as asked, 4:2:0, no Huffman tables). The frame benchmarks,
// the tick benchmarks and the differential tests share it, so their numbers
// describe the same content.
package camsim

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Scene renders a textured scene like a robot camera sees (floor
// with a tiled texture, a wall with a gradient, objects with edges, fine
// detail), then adds Gaussian sensor noise of sigma (in 8-bit units).
func Scene(w, h int, seed uint64, sigma float64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 77))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	// Smooth value noise for texture: a coarse random grid, bilinearly
	// interpolated.
	const g = 24
	var grid [g + 1][g + 1]float64
	for i := range grid {
		for j := range grid[i] {
			grid[i][j] = rng.Float64()
		}
	}
	tex := func(x, y float64) float64 {
		x, y = math.Mod(x, g), math.Mod(y, g)
		i, j := int(x), int(y)
		fx, fy := x-float64(i), y-float64(j)
		a := grid[j][i]*(1-fx) + grid[j][i+1]*fx
		b := grid[j+1][i]*(1-fx) + grid[j+1][i+1]*fx
		return a*(1-fy) + b*fy
	}
	cx1, cy1, r1 := 0.3*float64(w), 0.6*float64(h), 0.18*float64(min(w, h))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			var r, gr, b float64
			if fy > 0.55 { // floor: tiles with grout and wood-like texture
				t := tex(float64(x)/9, float64(y)/5)
				r, gr, b = 120+70*t, 90+50*t, 60+30*t
				if (x/37+y/23)%2 == 0 {
					r, gr, b = r*0.8, gr*0.85, b*0.9
				}
				if x%37 < 2 || y%23 < 2 {
					r, gr, b = 70, 70, 75
				}
			} else { // wall: gradient with a poster of fine stripes
				r, gr, b = 180-60*fx, 190-40*fy, 200-30*fx*fy
				if fx > 0.6 && fx < 0.85 && fy > 0.1 && fy < 0.4 {
					s := math.Sin(float64(x)*0.9) * math.Sin(float64(y)*0.35)
					r, gr, b = 40+100*(s+1), 160+40*s, 50
				}
			}
			dx, dy := float64(x)-cx1, float64(y)-cy1
			if dx*dx+dy*dy < r1*r1 { // a red ball with shading
				sh := 1 - (dx+dy)/(3*r1)
				r, gr, b = 200*sh, 30*sh, 40*sh
			}
			if fx > 0.65 && fx < 0.8 && fy > 0.5 && fy < 0.8 { // a blue box
				r, gr, b = 30, 60+40*fx, 170
			}
			px := [3]float64{r, gr, b}
			var c [3]uint8
			for k := range px {
				c[k] = uint8(math.Max(0, math.Min(255, math.Round(px[k]+rng.NormFloat64()*sigma))))
			}
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c[0], c[1], c[2], 255
		}
	}
	return img
}

// MJPEG encodes img with image/jpeg at quality (4:2:0) and drops the DHT
// segments, as UVC cameras send frames (decoders assume the default tables
// of T.81 Annex K.3, which image/jpeg's encoder uses).
func MJPEG(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	out := append([]byte{}, data[:2]...)
	pos := 2
	for {
		if pos+4 > len(data) || data[pos] != 0xFF {
			return nil, fmt.Errorf("camsim: unexpected encoder output at offset %d", pos)
		}
		m := data[pos+1]
		if m == 0xDA { // SOS: the rest is the scan
			return append(out, data[pos:]...), nil
		}
		n := int(data[pos+2])<<8 | int(data[pos+3])
		if m != 0xC4 { // keep everything but DHT
			out = append(out, data[pos:pos+2+n]...)
		}
		pos += 2 + n
	}
}
