package frame

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"math"
	"strings"
	"testing"
)

// stdJPEG encodes img with image/jpeg (4:2:0 for colour).
func stdJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func toGray(img *image.RGBA) *image.Gray {
	g := image.NewGray(img.Bounds())
	for i := range g.Pix {
		p := img.Pix[4*i : 4*i+3]
		g.Pix[i] = uint8(math.Round(kr*float64(p[0]) + kg*float64(p[1]) + kb*float64(p[2])))
	}
	return g
}

// jpegCase is one generated frame for the differential tests.
type jpegCase struct {
	name string
	w, h int
	data []byte
}

func jpegCases(t testing.TB) []jpegCase {
	type size struct{ w, h int }
	var cases []jpegCase
	add := func(name string, w, h int, data []byte) {
		cases = append(cases, jpegCase{fmt.Sprintf("%s/%dx%d", name, w, h), w, h, data})
	}
	for i, sz := range []size{{64, 64}, {100, 75}, {321, 241}, {640, 480}, {1280, 720}, {1920, 1080}} {
		img := cameraScene(sz.w, sz.h, uint64(i), 4)
		for _, q := range []int{50, 85, 95} {
			add(fmt.Sprintf("imagejpeg-420-q%d", q), sz.w, sz.h, stdJPEG(t, img, q))
		}
		add("imagejpeg-gray-q85", sz.w, sz.h, stdJPEG(t, toGray(img), 85))
		if sz.w > 1280 {
			continue // the test encoder is slow; 720p covers the same paths
		}
		for _, m := range []struct {
			name string
			o    encOptions
		}{
			{"444-q90", encOptions{h: 1, v: 1, quality: 90}},
			{"422-q75", encOptions{h: 2, v: 1, quality: 75}},
			{"440-q85", encOptions{h: 1, v: 2, quality: 85}},
			{"411-q85", encOptions{h: 4, v: 1, quality: 85}},
			{"420-restart7-noDHT-q60", encOptions{h: 2, v: 2, quality: 60, restart: 7, noDHT: true}},
			{"422-restart1-q95", encOptions{h: 2, v: 1, quality: 95, restart: 1}},
			{"gray-restart3-q70", encOptions{gray: true, quality: 70, restart: 3}},
		} {
			add("enc-"+m.name, sz.w, sz.h, encodeTestJPEG(img, m.o))
		}
	}
	return cases
}

// refImage decodes data with image/jpeg (inserting the default Huffman
// tables first if it has none) into float RGB, the reference's first step.
func refImage(t *testing.T, c jpegCase) [][3]float64 {
	t.Helper()
	fixed, err := AppendWithHuffmanTables(nil, c.data)
	if err != nil {
		t.Fatal(err)
	}
	return refRGB(t, Frame{Data: fixed, Format: MJPEG, Width: c.w, Height: c.h})
}

// errStats returns the mean absolute error and PSNR of got against the
// float reference (not rounded).
func errStats(got []byte, want []float64) (mae, psnr float64) {
	var se float64
	for i, v := range want {
		d := float64(got[i]) - v
		mae += math.Abs(d)
		se += d * d
	}
	n := float64(len(want))
	return mae / n, 10 * math.Log10(255*255/(se/n))
}

// TestTestEncoderReadsBack checks the test encoder against image/jpeg: every
// mode decodes, at the right size, close to the source image.
func TestTestEncoderReadsBack(t *testing.T) {
	img := cameraScene(90, 70, 1, 0)
	for _, o := range []encOptions{
		{h: 1, v: 1, quality: 95}, {h: 2, v: 1, quality: 95}, {h: 1, v: 2, quality: 95},
		{h: 2, v: 2, quality: 95, restart: 2}, {h: 4, v: 1, quality: 95}, {gray: true, quality: 95, restart: 1},
	} {
		data := encodeTestJPEG(img, o)
		m, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%+v: image/jpeg: %v", o, err)
		}
		var se float64
		for y := range 70 {
			for x := range 90 {
				r, g, b, _ := m.At(x, y).RGBA()
				p := img.RGBAAt(x, y)
				want := [3]float64{float64(p.R), float64(p.G), float64(p.B)}
				if o.gray {
					l := kr*want[0] + kg*want[1] + kb*want[2]
					want = [3]float64{l, l, l}
				}
				for k, v := range [3]uint32{r, g, b} {
					d := float64(v>>8) - want[k]
					se += d * d
				}
			}
		}
		if psnr := 10 * math.Log10(255*255/(se/(90*70*3))); psnr < 28 {
			t.Errorf("%+v: PSNR %.1f dB against the source, want ≥ 28", o, psnr)
		}
	}
}

// TestJPEGReducedMatchesReference is the differential test: Process
// (reduced decode + area resampling) against image/jpeg's full decode
// resampled by area in float64.
func TestJPEGReducedMatchesReference(t *testing.T) {
	for _, c := range jpegCases(t) {
		for _, cropName := range []string{"full", "center"} {
			crop := Rect{}
			if cropName == "center" {
				crop = CenterSquare(c.w, c.h)
			}
			t.Run(c.name+"/"+cropName, func(t *testing.T) {
				p, err := NewPreprocessor(Config{Format: MJPEG, Width: c.w, Height: c.h, Crop: crop, Filter: Area})
				if err != nil {
					t.Fatal(err)
				}
				dst := make([]byte, p.OutLen())
				if err := p.Process(dst, Frame{Data: c.data, Format: MJPEG, Width: c.w, Height: c.h}); err != nil {
					t.Fatal(err)
				}
				full := refImage(t, c)
				want := refResize(full, c.w, p.Config().Crop, 64, 64, Area)
				mae, psnr := errStats(dst, want)
				if f := p.jpeg.f; f == 0 {
					// Full-size path: image/jpeg's own planes.
					if mae > 0.5 || psnr < 50 {
						t.Errorf("full size: MAE %.3f LSB, PSNR %.1f dB; want ≤ 0.5 and ≥ 50", mae, psnr)
					}
					return
				}
				// Area integrates each block's kept frequencies over exactly
				// the pixels an output covers; what is left is the dropped
				// frequencies of the blocks an output edge cuts, plus one
				// rounding.
				if mae > 1 || psnr < 40 {
					t.Errorf("scale 1/%d, %v x %v frequencies: against image/jpeg + area: MAE %.3f LSB, PSNR %.1f dB; want ≤ 1 and ≥ 40",
						p.jpeg.f, p.jpeg.area.comp[0].kx, p.jpeg.area.comp[0].ky, mae, psnr)
				}
				t.Logf("scale 1/%d, luma %d x %d frequencies: MAE %.3f LSB, PSNR %.1f dB", p.jpeg.f, p.jpeg.area.comp[0].kx, p.jpeg.area.comp[0].ky, mae, psnr)
			})
		}
	}
}

// blockMeans averages every f x f block of a w x h float image (blocks at
// the right and bottom edges average the pixels they have).
func blockMeans(full [][3]float64, w, h, f int) [][3]float64 {
	rw, rh := (w+f-1)/f, (h+f-1)/f
	red := make([][3]float64, rw*rh)
	for y := range rh {
		for x := range rw {
			var s [3]float64
			n := 0.0
			for j := y * f; j < min(h, (y+1)*f); j++ {
				for i := x * f; i < min(w, (x+1)*f); i++ {
					for k := range s {
						s[k] += full[j*w+i][k]
					}
					n++
				}
			}
			for k := range s {
				red[y*rw+x][k] = s[k] / n
			}
		}
	}
	return red
}

// TestAreaFreqs pins how many frequencies an axis keeps: enough that an
// output pixel spans about 2/k blocks or more, so the dropped ones of the
// blocks its edges cut stay below 1 LSB.
func TestAreaFreqs(t *testing.T) {
	tests := []struct{ n, sub, want int }{
		{1920, 1, 1}, {1080, 1, 1}, {1080, 2, 2},
		{1280, 1, 1}, {720, 1, 2}, {720, 2, 3},
		{640, 1, 2}, {480, 1, 3}, {480, 2, 5},
		{128, 1, 8}, {512, 1, 2}, {1024, 1, 1},
	}
	for _, tt := range tests {
		if got := areaFreqs(tt.n, 64, tt.sub); got != tt.want {
			t.Errorf("areaFreqs(%d, 64, %d) = %d, want %d", tt.n, tt.sub, got, tt.want)
		}
	}
}

// TestJPEGCoefModeMatchesPlanes: the coefficients the area path keeps are
// the ones the plane path turns into box means (checked against the
// reference loop by TestJPEGScanMatchesRef): fed through storeBlock they
// give the same planes (to the LSB; see below).
func TestJPEGCoefModeMatchesPlanes(t *testing.T) {
	for _, c := range jpegCases(t) {
		for _, n := range []int{1, 2, 4} {
			var pl, co jpegDecoder
			pl.setScale(n)
			co.coefMode = true
			if err := pl.parseHeaders(c.data); err != nil {
				t.Fatal(err)
			}
			if err := co.parseHeaders(c.data); err != nil {
				t.Fatal(err)
			}
			pl.allocPlanes() // sizes the blocks as the plane path does
			for i := range co.ncomp {
				co.comp[i].setBlockSize(pl.comp[i].nx, pl.comp[i].ny)
			}
			if err := pl.decodeScan(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if err := co.decodeScan(); err != nil {
				t.Fatalf("%s coefficients: %v", c.name, err)
			}
			for i := range co.ncomp {
				cc, pc := &co.comp[i], &pl.comp[i]
				kk := cc.nx * cc.ny
				got := make([]uint8, len(pc.plane))
				cc.stride = pc.stride
				for by := range cc.bh {
					for bx := range cc.bw {
						cf := cc.coef[(by*cc.bw+bx)*kk:][:kk]
						copy(co.blk[:], cf)
						co.hasAC = false
						for _, v := range cf[1:] {
							co.hasAC = co.hasAC || v != 0
						}
						co.storeBlock(cc, got[by*cc.ny*cc.stride+bx*cc.nx:])
					}
				}
				// A block whose kept AC coefficients are all zero may have
				// gone through the IDCT weights in the plane path (a dropped
				// coefficient inside kmax set hasAC), which can round the
				// mean one LSB differently from the flat path.
				for j := range got {
					if d := int(got[j]) - int(pc.plane[j]); d < -1 || d > 1 {
						t.Fatalf("%s scale %d component %d: coefficients give %d at byte %d, the plane path %d", c.name, n, i, got[j], j, pc.plane[j])
					}
				}
			}
		}
	}
}

// TestJPEGScaleChoice pins which scale each crop gets.
func TestJPEGScaleChoice(t *testing.T) {
	tests := []struct {
		crop Rect
		want int
	}{
		{Rect{W: 1920, H: 1080}, 8},
		{Rect{W: 1280, H: 720}, 8},
		{Rect{W: 640, H: 480}, 4},
		{CenterSquare(640, 480), 4},
		{Rect{W: 512, H: 512}, 8},
		{Rect{W: 511, H: 512}, 4},
		{Rect{W: 321, H: 241}, 2},
		{Rect{W: 128, H: 128}, 2},
		{Rect{W: 127, H: 300}, 0},
		{Rect{W: 100, H: 75}, 0},
	}
	for _, tt := range tests {
		if got := jpegScale(tt.crop, 64, 64); got != tt.want {
			t.Errorf("jpegScale(%+v) = %d, want %d", tt.crop, got, tt.want)
		}
	}
}

// TestJPEGFullSizeBitExact: crops too small for a reduced scale decode with
// image/jpeg, bit-identical to decoding and resampling by hand.
func TestJPEGFullSizeBitExact(t *testing.T) {
	img := cameraScene(100, 75, 3, 4)
	for _, filter := range []Filter{Bilinear, Area} {
		data := stdJPEG(t, img, 85)
		p, err := NewPreprocessor(Config{Format: MJPEG, Width: 100, Height: 75, Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, p.OutLen())
		if err := p.Process(got, Frame{Data: data, Format: MJPEG, Width: 100, Height: 75}); err != nil {
			t.Fatal(err)
		}
		m, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		want := make([]byte, p.OutLen())
		if err := p.resampleImage(want, m); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%v: full-size path differs from image/jpeg + resampleImage", filter)
		}
	}
}

// TestJPEGBilinear checks Bilinear on the reduced planes against a float
// reference built the same way from image/jpeg's decode: average each f x f
// block, then sample the reduced image at the output centres.
func TestJPEGBilinear(t *testing.T) {
	for _, c := range jpegCases(t) {
		if !strings.HasPrefix(c.name, "imagejpeg-420-q85") && !strings.HasPrefix(c.name, "enc-422") {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			crop := CenterSquare(c.w, c.h)
			p, err := NewPreprocessor(Config{Format: MJPEG, Width: c.w, Height: c.h, Crop: crop})
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]byte, p.OutLen())
			if err := p.Process(dst, Frame{Data: c.data, Format: MJPEG, Width: c.w, Height: c.h}); err != nil {
				t.Fatal(err)
			}
			f := p.jpeg.f
			if f == 0 {
				t.Skip("full-size path: covered by TestJPEGFullSizeBitExact")
			}
			rw, rh := (c.w+f-1)/f, (c.h+f-1)/f
			red := blockMeans(refImage(t, c), c.w, c.h, f)
			// Sample centres as scaledAxis defines them.
			sample := func(o, off, n, lim int) (int, int, float64) {
				first, last := off/f, (off+n+f-1)/f-1
				s := float64(off)/float64(f) + (float64(o)+0.5)*float64(n)/float64(f)/64 - 0.5
				i0 := int(math.Floor(s))
				fr := s - math.Floor(s)
				if i0 < first {
					i0, fr = first, 0
				}
				if i0 >= last {
					i0, fr = last, 0
				}
				return i0, min(i0+1, lim-1), fr
			}
			want := make([]float64, 0, 64*64*3)
			for oy := range 64 {
				y0, y1, fy := sample(oy, crop.Y, crop.H, rh)
				for ox := range 64 {
					x0, x1, fx := sample(ox, crop.X, crop.W, rw)
					for k := range 3 {
						a := red[y0*rw+x0][k]*(1-fx) + red[y0*rw+x1][k]*fx
						b := red[y1*rw+x0][k]*(1-fx) + red[y1*rw+x1][k]*fx
						want = append(want, a*(1-fy)+b*fy)
					}
				}
			}
			mae, psnr := errStats(dst, want)
			// Looser than Area: two taps per axis do not average out the
			// per-sample error (rounded planes, dropped high frequencies).
			if mae > 1.25 || psnr < 40 {
				t.Errorf("scale 1/%d: MAE %.3f LSB, PSNR %.1f dB; want ≤ 1.25 and ≥ 40", f, mae, psnr)
			}
			t.Logf("scale 1/%d: MAE %.3f LSB, PSNR %.1f dB", f, mae, psnr)
		})
	}
}

func TestJPEGAllocs(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{640, 480}, {1280, 720}, {321, 241}} {
		data := stripDHT(t, stdJPEG(t, cameraScene(sz.w, sz.h, 9, 4), 85))
		rst := encodeTestJPEG(cameraScene(sz.w, sz.h, 9, 4), encOptions{h: 2, v: 1, quality: 85, restart: 5})
		for _, d := range [][]byte{data, rst} {
			p, err := NewPreprocessor(Config{Format: MJPEG, Width: sz.w, Height: sz.h, Filter: Area})
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]byte, p.OutLen())
			src := Frame{Data: d, Format: MJPEG, Width: sz.w, Height: sz.h}
			allocs := testing.AllocsPerRun(10, func() {
				if err := p.Process(dst, src); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%dx%d: %v allocations per frame, want 0", sz.w, sz.h, allocs)
			}
			if p.jpeg.f == 0 {
				t.Errorf("%dx%d: reduced path not used", sz.w, sz.h)
			}
		}
	}
}

// TestJPEGCorrupt: damaged frames give ErrDecode, never a panic or a wrong
// success where the damage is detectable.
func TestJPEGCorrupt(t *testing.T) {
	img := cameraScene(320, 240, 4, 4)
	good := encodeTestJPEG(img, encOptions{h: 2, v: 2, quality: 85, restart: 4})
	p, err := NewPreprocessor(Config{Format: MJPEG, Width: 320, Height: 240})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, p.OutLen())
	process := func(d []byte) error {
		return p.Process(dst, Frame{Data: d, Format: MJPEG, Width: 320, Height: 240})
	}
	if err := process(good); err != nil {
		t.Fatal(err)
	}
	sos := bytes.Index(good, []byte{0xFF, 0xDA})
	rst := bytes.Index(good[sos:], []byte{0xFF, 0xD2}) + sos
	wrongRST := bytes.Clone(good)
	wrongRST[rst+1] = 0xD5
	// A frame header claiming 320x240 whose scan holds 20 bytes.
	tiny := append(bytes.Clone(good[:sos+14]), make([]byte, 20)...)
	badTable := bytes.Clone(good)
	dht := bytes.Index(badTable, []byte{0xFF, 0xC4})
	badTable[dht+5] = 200 // 200 one-bit... codes of length 1: overfull
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"truncated half", good[:len(good)/2], errTruncated},
		{"truncated end", good[:len(good)-40], errTruncated},
		{"wrong RST", wrongRST, ErrDecode},
		{"tiny scan", tiny, ErrDecode},
		{"overfull table", badTable, ErrDecode},
		{"eoi in scan", append(bytes.Clone(good[:sos+2000]), 0xFF, 0xD9), errTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := process(tt.data)
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrDecode) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// Every single-byte change in the scan either decodes or errors; none
	// panics (bit flips are what a bad USB link does).
	for i := sos; i < len(good); i += 7 {
		d := bytes.Clone(good)
		d[i] ^= 0x5A
		_ = process(d)
	}
}

// TestJPEGFallback: a stream the reduced decoder does not handle goes to
// image/jpeg, logged once.
func TestJPEGFallback(t *testing.T) {
	data := stdJPEG(t, cameraScene(320, 240, 5, 4), 85)
	sof := bytes.Index(data, []byte{0xFF, 0xC0})
	prog := bytes.Clone(data)
	prog[sof+1] = 0xC2 // now claims to be progressive
	var logs bytes.Buffer
	p, err := NewPreprocessor(Config{Format: MJPEG, Width: 320, Height: 240, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, p.OutLen())
	for range 2 {
		err := p.Process(dst, Frame{Data: prog, Format: MJPEG, Width: 320, Height: 240})
		// image/jpeg now reads the baseline scan as a progressive one: it
		// must be image/jpeg's verdict that comes back.
		if err != nil && !strings.Contains(strings.ToLower(err.Error()), "invalid jpeg format") {
			t.Fatalf("error not from image/jpeg: %v", err)
		}
	}
	if n := strings.Count(logs.String(), "image/jpeg"); n != 1 {
		t.Errorf("fallback logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "SOF2") {
		t.Errorf("log does not say why: %s", logs.String())
	}
	// And a baseline frame afterwards takes the reduced path again.
	if err := p.Process(dst, Frame{Data: data, Format: MJPEG, Width: 320, Height: 240}); err != nil {
		t.Fatal(err)
	}
}

func FuzzJPEGReduced(f *testing.F) {
	img := cameraScene(64, 48, 6, 4)
	f.Add(stdJPEG(f, img, 85))
	f.Add(stripDHT(f, stdJPEG(f, img, 50)))
	f.Add(stdJPEG(f, toGray(img), 85))
	f.Add(encodeTestJPEG(img, encOptions{h: 1, v: 1, quality: 90, restart: 2}))
	f.Add(encodeTestJPEG(img, encOptions{h: 2, v: 1, quality: 75, restart: 1, noDHT: true}))
	f.Add(encodeTestJPEG(img, encOptions{h: 1, v: 2, quality: 95}))
	// One preprocessor per scale: out 8 → 1/8 ... 32 → 1/2 of 64x48.
	var ps []*Preprocessor
	for _, out := range []int{4, 8, 16} {
		p, err := NewPreprocessor(Config{Format: MJPEG, Width: 64, Height: 48, OutWidth: out, OutHeight: out, Filter: Area})
		if err != nil {
			f.Fatal(err)
		}
		ps = append(ps, p)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range ps {
			dst := make([]byte, p.OutLen())
			_ = p.Process(dst, Frame{Data: data, Format: MJPEG, Width: 64, Height: 48})
			if p.jpeg.f == 0 {
				t.Fatal("reduced path not chosen")
			}
		}
	})
}
