package frame

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// coefBoth decodes data in coefficient mode with sizes[i] = nx x ny kept
// per block of component i (only the u+v < max(nx, ny) corner with corner,
// as the area path keeps them) with the scan loop (a) and the reference
// (b); both must agree on success and on every coefficient. It reports
// whether the headers parsed.
func coefBoth(t *testing.T, a, b *jpegDecoder, data []byte, sizes [3][2]int, corner bool) bool {
	t.Helper()
	a.coefMode, b.coefMode = true, true
	if err := a.parseHeaders(data); err != nil {
		return false
	}
	if err := b.parseHeaders(data); err != nil {
		t.Fatalf("headers parse once and then fail: %v", err)
	}
	for i := range a.ncomp {
		a.comp[i].setKept(sizes[i][0], sizes[i][1], corner)
		b.comp[i].setKept(sizes[i][0], sizes[i][1], corner)
	}
	errA, errB := a.decodeScan(), b.decodeScanCoefRef()
	if (errA == nil) != (errB == nil) {
		t.Fatalf("kept %v (corner %v): decodeScan: %v, reference: %v", sizes, corner, errA, errB)
	}
	if errA != nil {
		return true
	}
	for i := range a.ncomp {
		ca, cb := a.comp[i].coef, b.comp[i].coef
		if !slices.Equal(ca, cb) {
			j := 0
			for j < len(ca) && ca[j] == cb[j] {
				j++
			}
			t.Fatalf("kept %v (corner %v): component %d coefficient %d of %d is %d, the reference's %d", sizes, corner, i, j, len(ca), ca[j], cb[j])
		}
	}
	return true
}

// coefSizes are kept-coefficient shapes the area path picks (areaFreqs:
// 1..8 per axis, chroma more than luma) plus a few odd ones.
var coefSizes = [][3][2]int{
	{{1, 1}, {1, 1}, {1, 1}},
	{{2, 3}, {4, 5}, {4, 5}}, // 640x480 to 64x64
	{{1, 2}, {2, 3}, {2, 3}}, // 1280x720
	{{1, 1}, {2, 2}, {2, 2}}, // 1920x1080
	{{8, 8}, {8, 8}, {8, 8}},
	{{3, 1}, {7, 2}, {5, 8}},
}

// TestJPEGCoefScanMatchesRef: coefficient mode keeps exactly the
// coefficients the reference block decoder keeps, for every test stream.
func TestJPEGCoefScanMatchesRef(t *testing.T) {
	var a, b jpegDecoder
	for _, c := range jpegCases(t) {
		for _, s := range coefSizes {
			for _, corner := range []bool{false, true} {
				if !coefBoth(t, &a, &b, c.data, s, corner) {
					t.Fatalf("%s: headers do not parse", c.name)
				}
			}
		}
	}
}

// FuzzJPEGCoefScanMatchesRef: on any input, coefficient mode and the
// reference agree (both fail, or both succeed with the same coefficients).
func FuzzJPEGCoefScanMatchesRef(f *testing.F) {
	img := cameraScene(64, 48, 7, 4)
	f.Add(stdJPEG(f, img, 85))
	f.Add(stdJPEG(f, img, 98))
	f.Add(stdJPEG(f, toGray(img), 60))
	f.Add(encodeTestJPEG(img, encOptions{h: 2, v: 1, quality: 75, restart: 1, noDHT: true}))
	f.Add(encodeTestJPEG(img, encOptions{h: 4, v: 1, quality: 95}))
	f.Fuzz(func(t *testing.T, data []byte) {
		// One pair of decoders for every shape (each holds ~200 KiB of
		// tables to zero), reused as the Preprocessor reuses its own.
		var a, b jpegDecoder
		for _, s := range coefSizes {
			coefBoth(t, &a, &b, data, s, false)
			coefBoth(t, &a, &b, data, s, true)
		}
	})
}

// BenchmarkMJPEGStages splits BenchmarkMJPEG's reduced row (area, full
// frame to 64x64) into its two stages, timed by the thread's CPU time so
// that a busy machine mostly does not count: entropy decoding into
// coefficients (headers included) and the DCT-domain area resampling. It
// reports each stage's fastest and median call.
func BenchmarkMJPEGStages(b *testing.B) {
	for _, sz := range []struct{ w, h int }{{640, 480}, {1280, 720}, {1920, 1080}} {
		data := stripDHT(b, stdJPEG(b, cameraScene(sz.w, sz.h, 42, 4), 85))
		b.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(b *testing.B) {
			p, err := NewPreprocessor(Config{Format: MJPEG, Width: sz.w, Height: sz.h, Filter: Area})
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]byte, p.OutLen())
			if err := p.Process(dst, Frame{Data: data, Format: MJPEG, Width: sz.w, Height: sz.h}); err != nil {
				b.Fatal(err)
			}
			s := p.jpeg
			d := &s.dec
			c := p.conf
			var tDec, tArea []time.Duration
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			runtime.GC() // the setup's garbage, not this row's
			b.ReportAllocs()
			for b.Loop() {
				t0 := threadCPU()
				if err := d.parseHeaders(data); err != nil {
					b.Fatal(err)
				}
				s.area.prepare(d, c.Crop, c.OutWidth, c.OutHeight)
				if err := d.decodeScan(); err != nil {
					b.Fatal(err)
				}
				t1 := threadCPU()
				s.area.process(dst, d, c.OutWidth, c.OutHeight)
				t2 := threadCPU()
				tDec = append(tDec, t1-t0)
				tArea = append(tArea, t2-t1)
			}
			slices.Sort(tDec)
			slices.Sort(tArea)
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
			b.ReportMetric(us(tDec[0]), "decode-min-µs")
			b.ReportMetric(us(tDec[len(tDec)/2]), "decode-median-µs")
			b.ReportMetric(us(tArea[0]), "area-min-µs")
			b.ReportMetric(us(tArea[len(tArea)/2]), "area-median-µs")
		})
	}
}

// TestJPEGAllocsLargerFrame: after one frame, a frame with somewhat more
// entropy-coded data (the scene changed) still decodes without allocating.
func TestJPEGAllocsLargerFrame(t *testing.T) {
	img := cameraScene(640, 480, 3, 4)
	small := stripDHT(t, stdJPEG(t, img, 85))
	large := stripDHT(t, stdJPEG(t, img, 88))
	if len(large) <= len(small) || 4*len(large) > 5*len(small) {
		t.Fatalf("frames of %d and %d bytes: want the second up to 25%% larger", len(small), len(large))
	}
	p, err := NewPreprocessor(Config{Format: MJPEG, Width: 640, Height: 480, Filter: Area})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, p.OutLen())
	if err := p.Process(dst, Frame{Data: small, Format: MJPEG, Width: 640, Height: 480}); err != nil {
		t.Fatal(err)
	}
	// Not testing.AllocsPerRun: its warm-up call would be the first to see
	// the larger frame.
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	err = p.Process(dst, Frame{Data: large, Format: MJPEG, Width: 640, Height: 480})
	runtime.ReadMemStats(&m1)
	if err != nil {
		t.Fatal(err)
	}
	if allocs := m1.Mallocs - m0.Mallocs; allocs != 0 {
		t.Errorf("%d-byte frame after a %d-byte one: %v allocations, want 0", len(large), len(small), allocs)
	}
}
