package camsim_test

import (
	"bytes"
	"image/jpeg"
	"math"
	"testing"

	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/frame/camsim"
)

// TestMJPEG: the frame carries no Huffman tables (as UVC cameras send it),
// decodes once the default ones are put back, at its size, close to the
// scene, and the same seed gives the same bytes.
func TestMJPEG(t *testing.T) {
	img := camsim.Scene(160, 120, 5, 4)
	data, err := camsim.MJPEG(img, 85)
	if err != nil {
		t.Fatal(err)
	}
	sos := bytes.Index(data, []byte{0xFF, 0xDA})
	if sos < 0 || bytes.Contains(data[:sos], []byte{0xFF, 0xC4}) {
		t.Fatalf("want a scan and no DHT before it (SOS at %d)", sos)
	}
	again, err := camsim.MJPEG(camsim.Scene(160, 120, 5, 4), 85)
	if err != nil || !bytes.Equal(again, data) {
		t.Fatalf("same seed gave different bytes (err %v)", err)
	}
	fixed, err := frame.AppendWithHuffmanTables(nil, data)
	if err != nil {
		t.Fatal(err)
	}
	m, err := jpeg.Decode(bytes.NewReader(fixed))
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != 160 || b.Dy() != 120 {
		t.Fatalf("decoded %v, want 160x120", b)
	}
	var se float64
	for y := range 120 {
		for x := range 160 {
			r, _, _, _ := m.At(x, y).RGBA()
			d := float64(r>>8) - float64(img.RGBAAt(x, y).R)
			se += d * d
		}
	}
	if psnr := 10 * math.Log10(255*255/(se/(160*120))); psnr < 28 {
		t.Fatalf("red channel %.1f dB from the scene, want ≥ 28", psnr)
	}
}
