package frame

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// randomFrame fills a packed frame with noise plus a gradient, so both
// neighbouring-pixel structure and out-of-gamut YUV values occur.
func randomFrame(rng *rand.Rand, format PixelFormat, w, h, pad int) Frame {
	stride := w*format.BytesPerPixel() + pad
	data := make([]byte, stride*h)
	for y := 0; y < h; y++ {
		for x := 0; x < stride; x++ {
			data[y*stride+x] = byte(int(rng.IntN(96)) + (x+y)%160)
		}
	}
	return Frame{Data: data, Format: format, Width: w, Height: h, Stride: stride}
}

// maxDiff compares got against the float64 reference rounded to bytes.
func maxDiff(got []byte, want []float64) (float64, int) {
	worst, at := 0.0, -1
	for i, v := range want {
		ref := math.Min(255, math.Max(0, math.Round(v)))
		if d := math.Abs(float64(got[i]) - ref); d > worst {
			worst, at = d, i
		}
	}
	return worst, at
}

func TestProcessMatchesReference(t *testing.T) {
	type size struct{ w, h int }
	sizes := []size{{640, 480}, {64, 64}, {100, 50}, {30, 20}, {84, 84}}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, format := range []PixelFormat{YUYV, UYVY, RGB24} {
		for _, sz := range sizes {
			for _, cropName := range []string{"full", "center", "offset"} {
				for _, filter := range []Filter{Bilinear, Area} {
					crop := Rect{}
					switch cropName {
					case "center":
						crop = CenterSquare(sz.w, sz.h)
					case "offset":
						crop = Rect{X: 3, Y: 1, W: sz.w/2 + 1, H: sz.h/2 + 3}
					}
					name := format.String() + "/" + itoa(sz.w) + "x" + itoa(sz.h) + "/" + cropName + "/" + filter.String()
					t.Run(name, func(t *testing.T) {
						src := randomFrame(rng, format, sz.w, sz.h, 4)
						p, err := NewPreprocessor(Config{Format: format, Width: sz.w, Height: sz.h, Crop: crop, Filter: filter})
						if err != nil {
							t.Fatal(err)
						}
						dst := make([]byte, p.OutLen())
						if err := p.Process(dst, src); err != nil {
							t.Fatal(err)
						}
						c := p.Config().Crop
						want := refResize(refRGB(t, src), sz.w, c, 64, 64, filter)
						if d, at := maxDiff(dst, want); d > 1 {
							t.Errorf("max difference %v LSB at index %d (got %d, reference %.3f)", d, at, dst[at], want[at])
						}
					})
				}
			}
		}
	}
}

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

func TestBilinearIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	src := randomFrame(rng, RGB24, 64, 64, 0)
	for _, f := range []Filter{Bilinear, Area} {
		p, err := NewPreprocessor(Config{Format: RGB24, Width: 64, Height: 64, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]byte, p.OutLen())
		if err := p.Process(dst, src); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(dst, src.Data) {
			t.Errorf("%v: 64x64 → 64x64 is not the identity", f)
		}
	}
}

// TestYUVConversion checks the fixed-point colour matrix on known colours:
// limited-range black, white and the BT.601 primaries.
func TestYUVConversion(t *testing.T) {
	tests := []struct {
		name    string
		y, u, v byte
		want    [3]int32
	}{
		{"black", 16, 128, 128, [3]int32{0, 0, 0}},
		{"white", 235, 128, 128, [3]int32{255, 255, 255}},
		{"red", 81, 90, 240, [3]int32{255, 0, 0}},
		{"green", 145, 54, 34, [3]int32{0, 255, 0}},
		{"blue", 41, 240, 110, [3]int32{0, 0, 255}},
		{"superwhite clamps", 255, 128, 128, [3]int32{255, 255, 255}},
	}
	for _, tt := range tests {
		r, g, b := limitedTables.rgbQ8(tt.y, tt.u, tt.v)
		got := [3]int32{(r + 128) >> 8, (g + 128) >> 8, (b + 128) >> 8}
		for c := range got {
			if d := got[c] - tt.want[c]; d > 1 || d < -1 {
				t.Errorf("%s: YUV(%d,%d,%d) → %v, want %v ±1", tt.name, tt.y, tt.u, tt.v, got, tt.want)
				break
			}
		}
	}
}

// testImage draws a smooth scene with edges, like a camera might see.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) & 0xff), 255}
			if (x-w/3)*(x-w/3)+(y-h/2)*(y-h/2) < h*h/16 {
				c = color.RGBA{220, 30, 40, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stripDHT removes every DHT segment, as a UVC camera would send the frame.
func stripDHT(t testing.TB, data []byte) []byte {
	t.Helper()
	out := append([]byte{}, data[:2]...)
	pos := 2
	for {
		m := data[pos+1]
		if m == 0xDA {
			return append(out, data[pos:]...)
		}
		n := int(data[pos+2])<<8 | int(data[pos+3])
		if m != 0xC4 {
			out = append(out, data[pos:pos+2+n]...)
		}
		pos += 2 + n
	}
}

func TestMJPEG(t *testing.T) {
	rgb := testImage(640, 480)
	gray := image.NewGray(rgb.Bounds())
	for i := range gray.Pix {
		gray.Pix[i] = rgb.Pix[4*i+1]
	}
	small := testImage(50, 38) // not a multiple of the 16-pixel MCU
	tests := []struct {
		name string
		img  image.Image
		crop Rect
	}{
		{"color-420", rgb, Rect{}},
		{"color-center", rgb, CenterSquare(640, 480)},
		{"gray", gray, Rect{}},
		{"odd-size", small, Rect{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.img.Bounds()
			data := encodeJPEG(t, tt.img)
			stripped := stripDHT(t, data)
			if info, err := scanJPEG(stripped); err != nil || info.hasDHT {
				t.Fatalf("stripped frame: hasDHT=%v err=%v", info.hasDHT, err)
			}
			if _, err := jpeg.Decode(bytes.NewReader(stripped)); err == nil {
				t.Fatal("image/jpeg decoded a frame without Huffman tables; the test proves nothing")
			}
			// Area: 640x480 decodes at 1/4 scale, which only an area
			// reference matches (jpeg_test.go has the full differential
			// tests); 50x38 decodes at full size.
			p, err := NewPreprocessor(Config{Format: MJPEG, Width: b.Dx(), Height: b.Dy(), Crop: tt.crop, Filter: Area})
			if err != nil {
				t.Fatal(err)
			}
			src := Frame{Data: data, Format: MJPEG, Width: b.Dx(), Height: b.Dy()}
			withDHT := make([]byte, p.OutLen())
			if err := p.Process(withDHT, src); err != nil {
				t.Fatal(err)
			}
			want := refResize(refRGB(t, src), b.Dx(), p.Config().Crop, 64, 64, Area)
			if mae, psnr := errStats(withDHT, want); mae > 1 || psnr < 40 {
				t.Errorf("MAE %.3f LSB, PSNR %.1f dB against the reference", mae, psnr)
			}
			src.Data = stripped
			noDHT := make([]byte, p.OutLen())
			if err := p.Process(noDHT, src); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(withDHT, noDHT) {
				t.Error("frame without DHT decodes differently from the original")
			}
			fixed, err := AppendWithHuffmanTables(nil, stripped)
			if err != nil {
				t.Fatal(err)
			}
			a, errA := jpeg.Decode(bytes.NewReader(fixed))
			o, errO := jpeg.Decode(bytes.NewReader(data))
			if errA != nil || errO != nil {
				t.Fatal(errA, errO)
			}
			if !imagesEqual(a, o) {
				t.Error("AppendWithHuffmanTables: decoded image differs from the original")
			}
		})
	}
}

func imagesEqual(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		conf Config
		want error
	}{
		{"no format", Config{Width: 64, Height: 64}, errBadConf},
		{"odd YUYV width", Config{Format: YUYV, Width: 63, Height: 64}, errBadConf},
		{"odd UYVY width", Config{Format: UYVY, Width: 641, Height: 480}, errBadConf},
		{"zero size", Config{Format: RGB24}, errBadConf},
		{"huge", Config{Format: RGB24, Width: 1 << 20, Height: 2}, errBadConf},
		{"negative out", Config{Format: RGB24, Width: 8, Height: 8, OutWidth: -1}, errBadConf},
		{"bad filter", Config{Format: RGB24, Width: 8, Height: 8, Filter: 9}, errBadConf},
		{"crop right of frame", Config{Format: YUYV, Width: 640, Height: 480, Crop: Rect{X: 600, W: 64, H: 64}}, errBadCrop},
		{"crop below frame", Config{Format: YUYV, Width: 640, Height: 480, Crop: Rect{Y: 470, W: 64, H: 64}}, errBadCrop},
		{"negative crop", Config{Format: YUYV, Width: 640, Height: 480, Crop: Rect{X: -2, W: 64, H: 64}}, errBadCrop},
		{"empty crop", Config{Format: YUYV, Width: 640, Height: 480, Crop: Rect{X: 2}}, errBadCrop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPreprocessor(tt.conf)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestProcessErrors(t *testing.T) {
	p, err := NewPreprocessor(Config{Format: YUYV, Width: 640, Height: 480})
	if err != nil {
		t.Fatal(err)
	}
	good := Frame{Data: make([]byte, 640*480*2), Format: YUYV, Width: 640, Height: 480}
	out := make([]byte, 64*64*3)
	tests := []struct {
		name string
		dst  []byte
		src  func(f Frame) Frame
		want error
	}{
		{"ok", out, func(f Frame) Frame { return f }, nil},
		{"wrong format", out, func(f Frame) Frame { f.Format = UYVY; return f }, ErrFormat},
		{"wrong size", out, func(f Frame) Frame { f.Width = 320; return f }, ErrSize},
		{"short data", out, func(f Frame) Frame { f.Data = f.Data[:len(f.Data)-1]; return f }, ErrBuffer},
		{"short stride", out, func(f Frame) Frame { f.Stride = 1000; return f }, ErrBuffer},
		{"stride beyond data", out, func(f Frame) Frame { f.Stride = 1282; return f }, ErrBuffer},
		{"small dst", out[:100], func(f Frame) Frame { return f }, ErrBuffer},
		{"big dst", make([]byte, 64*64*4), func(f Frame) Frame { return f }, ErrBuffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Process(tt.dst, tt.src(good))
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}

	pj, err := NewPreprocessor(Config{Format: MJPEG, Width: 64, Height: 48})
	if err != nil {
		t.Fatal(err)
	}
	jpg := encodeJPEG(t, testImage(64, 48))
	bigger := encodeJPEG(t, testImage(80, 48))
	jtests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrNotJPEG},
		{"not jpeg", []byte("hello, world"), ErrNotJPEG},
		{"truncated header", jpg[:20], ErrDecode},
		{"truncated scan", jpg[:len(jpg)/2], ErrDecode},
		{"other size", bigger, ErrSize},
	}
	for _, tt := range jtests {
		t.Run("mjpeg/"+tt.name, func(t *testing.T) {
			err := pj.Process(make([]byte, 64*64*3), Frame{Data: tt.data, Format: MJPEG, Width: 64, Height: 48})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCenterSquare(t *testing.T) {
	tests := []struct {
		w, h int
		want Rect
	}{
		{640, 480, Rect{80, 0, 480, 480}},
		{480, 640, Rect{0, 80, 480, 480}},
		{64, 64, Rect{0, 0, 64, 64}},
		{1280, 720, Rect{280, 0, 720, 720}},
		{101, 100, Rect{0, 0, 100, 100}}, // x rounded down to even
	}
	for _, tt := range tests {
		if got := CenterSquare(tt.w, tt.h); got != tt.want {
			t.Errorf("CenterSquare(%d, %d) = %+v, want %+v", tt.w, tt.h, got, tt.want)
		}
	}
}

func TestProcessAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, format := range []PixelFormat{YUYV, UYVY, RGB24} {
		for _, filter := range []Filter{Bilinear, Area} {
			src := randomFrame(rng, format, 640, 480, 0)
			p, err := NewPreprocessor(Config{Format: format, Width: 640, Height: 480, Filter: filter})
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]byte, p.OutLen())
			allocs := testing.AllocsPerRun(20, func() {
				if err := p.Process(dst, src); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v/%v: %v allocations per frame, want 0", format, filter, allocs)
			}
		}
	}
}

func BenchmarkProcess(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []struct {
		name   string
		format PixelFormat
		filter Filter
		crop   Rect
	}{
		{"YUYV-640x480-bilinear", YUYV, Bilinear, Rect{}},
		{"YUYV-640x480-center-bilinear", YUYV, Bilinear, CenterSquare(640, 480)},
		{"YUYV-640x480-area", YUYV, Area, Rect{}},
		{"RGB24-640x480-bilinear", RGB24, Bilinear, Rect{}},
		{"MJPEG-640x480-bilinear", MJPEG, Bilinear, Rect{}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var src Frame
			switch c.format {
			case YUYV:
				// Camera-like content (in gamut), not noise: what the
				// kernels see in practice.
				src = yuyvFrame(testImage(640, 480))
			case MJPEG:
				src = Frame{Data: stripDHT(b, encodeJPEG(b, testImage(640, 480))), Format: MJPEG, Width: 640, Height: 480}
			default:
				src = randomFrame(rng, c.format, 640, 480, 0)
			}
			p, err := NewPreprocessor(Config{Format: c.format, Width: 640, Height: 480, Filter: c.filter, Crop: c.crop})
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]byte, p.OutLen())
			b.ReportAllocs()
			// The fastest single call is reported too: on a shared machine
			// ns/op mostly measures the neighbours.
			best := time.Duration(1 << 62)
			for b.Loop() {
				t0 := time.Now()
				if err := p.Process(dst, src); err != nil {
					b.Fatal(err)
				}
				best = min(best, time.Since(t0))
			}
			b.ReportMetric(float64(best.Nanoseconds()), "min-ns/op")
		})
	}
}

// yuyvFrame converts an RGB image to YUYV (BT.601 limited range, chroma of
// each pair averaged), as a camera would send it.
func yuyvFrame(img *image.RGBA) Frame {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	data := make([]byte, w*h*2)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x += 2 {
			var ys [2]float64
			var u, v float64
			for k := range 2 {
				c := img.RGBAAt(x+k, y)
				r, g, b := float64(c.R), float64(c.G), float64(c.B)
				l := kr*r + kg*g + kb*b
				ys[k] = 16 + l*219/255
				u += 128 + (b-l)/(2*(1-kb))*224/255/2
				v += 128 + (r-l)/(2*(1-kr))*224/255/2
			}
			o := y*w*2 + x*2
			data[o], data[o+1], data[o+2], data[o+3] = byte(math.Round(ys[0])), byte(math.Round(u)), byte(math.Round(ys[1])), byte(math.Round(v))
		}
	}
	return Frame{Data: data, Format: YUYV, Width: w, Height: h}
}

func FuzzMJPEG(f *testing.F) {
	jpg := encodeJPEG(f, testImage(24, 16))
	f.Add(jpg)
	f.Add(stripDHT(f, jpg))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x08, 8, 0, 16, 0, 24, 1, 0xFF, 0xDA})
	p, err := NewPreprocessor(Config{Format: MJPEG, Width: 24, Height: 16, OutWidth: 8, OutHeight: 8})
	if err != nil {
		f.Fatal(err)
	}
	dst := make([]byte, p.OutLen())
	f.Fuzz(func(t *testing.T, data []byte) {
		fixed, err := AppendWithHuffmanTables(nil, data)
		if err == nil {
			info, err := scanJPEG(fixed)
			if err != nil || !info.hasDHT {
				t.Fatalf("after inserting tables: hasDHT=%v err=%v", info.hasDHT, err)
			}
			if before, _ := scanJPEG(data); before.width != info.width || before.height != info.height {
				t.Fatalf("size changed: %dx%d → %dx%d", before.width, before.height, info.width, info.height)
			}
		}
		// Must never panic; errors are fine.
		_ = p.Process(dst, Frame{Data: data, Format: MJPEG, Width: 24, Height: 16})
	})
}

// A frame that is already the output (RGB24 at the output size, no crop: prepared on
// arrival) is copied row by row, stride honoured, whatever the filter.
func TestProcessIdentityCopies(t *testing.T) {
	const w, h, stride = 64, 64, 64*3 + 5
	src := make([]byte, (h-1)*stride+w*3)
	for i := range src {
		src[i] = byte(i*131 + i>>8)
	}
	for _, f := range []Filter{Bilinear, Area} {
		p, err := NewPreprocessor(Config{Format: RGB24, Width: w, Height: h, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]byte, p.OutLen())
		if err := p.Process(dst, Frame{Data: src, Format: RGB24, Width: w, Height: h, Stride: stride}); err != nil {
			t.Fatal(err)
		}
		for y := range h {
			if !bytes.Equal(dst[y*w*3:(y+1)*w*3], src[y*stride:y*stride+w*3]) {
				t.Fatalf("filter %v: row %d is not the source row", f, y)
			}
		}
	}
}
