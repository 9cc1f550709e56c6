package frame

import (
	"fmt"
	"math"
	"os"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
)

// TestBilinearMatchesPyTorch checks the half-pixel semantics against PyTorch
// itself: testdata/torch_resize.npz holds inputs and the float output of
// F.interpolate(bilinear, align_corners=False, antialias=False), written by
// testdata/gen_torch_resize.py. Downscales (120x160, 84x84 like the PatchAIL
// frames, 38x50) and an upscale (48x40).
func TestBilinearMatchesPyTorch(t *testing.T) {
	f, err := os.Open("testdata/torch_resize.npz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	r, err := npz.NewReader(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, sz := range [][2]int{{120, 160}, {84, 84}, {38, 50}, {48, 40}} {
		h, w := sz[0], sz[1]
		t.Run(fmt.Sprintf("%dx%d", h, w), func(t *testing.T) {
			var in []uint8
			var want []float32
			if err := r.Read(fmt.Sprintf("in_%dx%d.npy", h, w), &in); err != nil {
				t.Fatal(err)
			}
			if err := r.Read(fmt.Sprintf("out_%dx%d.npy", h, w), &want); err != nil {
				t.Fatal(err)
			}
			p, err := NewPreprocessor(Config{Format: RGB24, Width: w, Height: h})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, p.OutLen())
			if err := p.Process(got, Frame{Data: in, Format: RGB24, Width: w, Height: h}); err != nil {
				t.Fatal(err)
			}
			if len(want) != len(got) {
				t.Fatalf("reference has %d values, want %d", len(want), len(got))
			}
			worst := 0.0
			for i, v := range want {
				worst = math.Max(worst, math.Abs(float64(got[i])-float64(v)))
			}
			// Rounding alone accounts for 0.5; weights are Q14.
			if worst > 0.51 {
				t.Errorf("max |ours - PyTorch| = %.3f, want ≤ 0.51", worst)
			}
		})
	}
}
