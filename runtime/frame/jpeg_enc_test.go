package frame

import (
	"image"
	"math"

	"github.com/rssmd/rssmd/runtime/frame/camsim"
)

// A minimal baseline JPEG encoder for the tests: image/jpeg only writes
// 4:2:0 colour or greyscale without restart markers, and the decoder must
// also read 4:4:4, 4:2:2, 4:4:0 and restart intervals. Float DCT (T.81
// A.3.3), IJG quality scaling of the Annex K quantisation tables, the
// Annex K Huffman tables. Its output is checked against image/jpeg in
// TestTestEncoderReadsBack, so it is a real encoder, not a mirror of ours.

type encOptions struct {
	gray    bool
	h, v    int // luma sampling factors (chroma is 1x1)
	quality int
	restart int  // MCUs per restart interval; 0: none
	noDHT   bool // leave the Huffman tables out, as UVC cameras do
}

// Annex K.1 quantisation tables in natural order.
var (
	stdLumaQ = [64]int{
		16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
		14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
		18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
		49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99}
	stdChromaQ = [64]int{
		17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
		24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99}
)

// encCode is one Huffman code: its bits and length.
type encCode struct {
	code uint32
	n    uint
}

// encTables are the four Annex K code tables: [class][id].
var encTables = func() (t [2][2][256]encCode) {
	b := annexKDHT[4:]
	for len(b) > 0 {
		tc, th := b[0]>>4, b[0]&15
		counts := b[1:17]
		k := 17
		code := uint32(0)
		for l := 1; l <= 16; l++ {
			for range counts[l-1] {
				t[tc][th][b[k]] = encCode{code, uint(l)}
				code++
				k++
			}
			code <<= 1
		}
		b = b[k:]
	}
	return t
}()

type bitWriter struct {
	out  []byte
	acc  uint32
	nacc uint
}

func (w *bitWriter) put(code uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (code>>uint(i))&1
		w.nacc++
		if w.nacc == 8 {
			w.out = append(w.out, byte(w.acc))
			if byte(w.acc) == 0xFF {
				w.out = append(w.out, 0)
			}
			w.acc, w.nacc = 0, 0
		}
	}
}

// flush pads the last byte with ones (T.81 F.1.2.3).
func (w *bitWriter) flush() {
	for w.nacc != 0 {
		w.put(1, 1)
	}
}

// encodeTestJPEG encodes img (RGB) as a baseline JPEG.
func encodeTestJPEG(img *image.RGBA, o encOptions) []byte {
	W, H := img.Bounds().Dx(), img.Bounds().Dy()
	q := max(1, min(o.quality, 100))
	sc := 5000 / q
	if q >= 50 {
		sc = 200 - 2*q
	}
	var qt [2][64]int // natural order
	for i := range 64 {
		qt[0][i] = max(1, min(255, (stdLumaQ[i]*sc+50)/100))
		qt[1][i] = max(1, min(255, (stdChromaQ[i]*sc+50)/100))
	}
	nc, hm, vm := 3, o.h, o.v
	if o.gray {
		nc, hm, vm = 1, 1, 1
	}
	// Full-range BT.601 planes (JFIF), each padded by edge replication.
	plane := func(c int, x, y int) float64 {
		x, y = min(x, W-1), min(y, H-1)
		p := img.RGBAAt(x, y)
		r, g, b := float64(p.R), float64(p.G), float64(p.B)
		l := kr*r + kg*g + kb*b
		switch c {
		case 1:
			return 128 + (b-l)/(2*(1-kb))
		case 2:
			return 128 + (r-l)/(2*(1-kr))
		}
		return l
	}
	mcuX, mcuY := (W+8*hm-1)/(8*hm), (H+8*vm-1)/(8*vm)
	var out []byte
	seg := func(m byte, body []byte) {
		out = append(out, 0xFF, m, byte((len(body)+2)>>8), byte(len(body)+2))
		out = append(out, body...)
	}
	out = append(out, 0xFF, 0xD8)
	for t := range 2 {
		body := []byte{byte(t)}
		for k := range 64 {
			body = append(body, byte(qt[t][zigzag[k]]))
		}
		seg(0xDB, body)
	}
	sof := []byte{8, byte(H >> 8), byte(H), byte(W >> 8), byte(W), byte(nc)}
	for c := range nc {
		f, tq := byte(0x11), byte(0)
		if c == 0 {
			f = byte(hm<<4 | vm)
		} else {
			tq = 1
		}
		sof = append(sof, byte(c+1), f, tq)
	}
	seg(0xC0, sof)
	if !o.noDHT {
		out = append(out, annexKDHT...)
	}
	if o.restart > 0 {
		seg(0xDD, []byte{byte(o.restart >> 8), byte(o.restart)})
	}
	sos := []byte{byte(nc)}
	for c := range nc {
		t := byte(0)
		if c > 0 {
			t = 0x11
		}
		sos = append(sos, byte(c+1), t)
	}
	seg(0xDA, append(sos, 0, 63, 0))

	var cosT [8][8]float64
	for x := range 8 {
		for u := range 8 {
			cosT[x][u] = math.Cos(float64(2*x+1) * float64(u) * math.Pi / 16)
		}
	}
	w := &bitWriter{out: out}
	var pred [3]int
	block := func(c int, src *[64]float64) {
		var coef [64]int
		var tmp [64]float64 // rows transformed across: tmp[y*8+u]
		for y := range 8 {
			for u := range 8 {
				s := 0.0
				for x := range 8 {
					s += src[y*8+x] * cosT[x][u]
				}
				tmp[y*8+u] = s
			}
		}
		for v := range 8 {
			for u := range 8 {
				s := 0.0
				for y := range 8 {
					s += tmp[y*8+u] * cosT[y][v]
				}
				cu, cv := 1.0, 1.0
				if u == 0 {
					cu = 1 / math.Sqrt2
				}
				if v == 0 {
					cv = 1 / math.Sqrt2
				}
				s *= cu * cv / 4
				coef[v*8+u] = int(math.Round(s / float64(qt[min(c, 1)][v*8+u])))
			}
		}
		tab := min(c, 1)
		bits := func(v int) (uint32, uint) {
			a := v
			if a < 0 {
				a = -a
			}
			n := uint(0)
			for a > 0 {
				n++
				a >>= 1
			}
			if v < 0 {
				v += 1<<n - 1
			}
			return uint32(v), n
		}
		diff := coef[0] - pred[c]
		pred[c] = coef[0]
		vb, n := bits(diff)
		w.put(encTables[0][tab][n].code, encTables[0][tab][n].n)
		w.put(vb, n)
		run := 0
		for k := 1; k < 64; k++ {
			v := coef[zigzag[k]]
			if v == 0 {
				run++
				continue
			}
			for run > 15 {
				w.put(encTables[1][tab][0xF0].code, encTables[1][tab][0xF0].n)
				run -= 16
			}
			vb, n := bits(v)
			sym := byte(run<<4) | byte(n)
			w.put(encTables[1][tab][sym].code, encTables[1][tab][sym].n)
			w.put(vb, n)
			run = 0
		}
		if run > 0 {
			w.put(encTables[1][tab][0].code, encTables[1][tab][0].n)
		}
	}
	var src [64]float64
	mcu := 0
	for my := range mcuY {
		for mx := range mcuX {
			if o.restart > 0 && mcu > 0 && mcu%o.restart == 0 {
				w.flush()
				w.out = append(w.out, 0xFF, byte(0xD0+(mcu/o.restart-1)%8))
				pred = [3]int{}
			}
			mcu++
			for c := range nc {
				bh, bv := 1, 1
				if c == 0 {
					bh, bv = hm, vm
				}
				for by := range bv {
					for bx := range bh {
						for y := range 8 {
							for x := range 8 {
								if c == 0 {
									px, py := (mx*hm+bx)*8+x, (my*vm+by)*8+y
									src[y*8+x] = plane(0, px, py) - 128
									continue
								}
								// Chroma: the mean of the hm x vm luma pixels it covers.
								s := 0.0
								for j := range vm {
									for i := range hm {
										s += plane(c, (mx*8+x)*hm+i, (my*8+y)*vm+j)
									}
								}
								src[y*8+x] = s/float64(hm*vm) - 128
							}
						}
						block(c, &src)
					}
				}
			}
		}
	}
	w.flush()
	return append(w.out, 0xFF, 0xD9)
}

// cameraScene is camsim.Scene: a textured scene like a robot camera sees
// with Gaussian sensor noise of sigma (in 8-bit units).
func cameraScene(w, h int, seed uint64, sigma float64) *image.RGBA {
	return camsim.Scene(w, h, seed, sigma)
}
