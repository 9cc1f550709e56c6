package frame

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"runtime"
	"slices"
	"testing"
	"time"
)

// BenchmarkMJPEG: camera-like frames (textured scene, Gaussian noise σ=4,
// image/jpeg at quality 85, 4:2:0, Huffman tables stripped as UVC cameras
// send them) through Process to 64x64 (area, full frame), beside
// image/jpeg's own decode of the same bytes. Each row reports the median
// and fastest call; the reduced row also reports how many times faster than
// image/jpeg's median it is (measured in the same run).
func BenchmarkMJPEG(b *testing.B) {
	for _, sz := range []struct{ w, h int }{{640, 480}, {1280, 720}, {1920, 1080}} {
		img := cameraScene(sz.w, sz.h, 42, 4)
		withDHT := stdJPEG(b, img, 85)
		data := stripDHT(b, withDHT)
		name := fmt.Sprintf("%dx%d", sz.w, sz.h)
		var peer float64
		b.Run(name+"/image-jpeg", func(b *testing.B) {
			runtime.GC() // start from the same clean heap as the reduced row
			r := bytes.NewReader(withDHT)
			peer = medianLoop(b, func() error {
				r.Reset(withDHT)
				_, err := jpeg.Decode(r)
				return err
			})
			b.ReportMetric(float64(len(data))/1024, "KiB")
		})
		b.Run(name+"/reduced", func(b *testing.B) {
			p, err := NewPreprocessor(Config{Format: MJPEG, Width: sz.w, Height: sz.h, Filter: Area})
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]byte, p.OutLen())
			src := Frame{Data: data, Format: MJPEG, Width: sz.w, Height: sz.h}
			// The first frame sizes the planes and tables, as a running node's first
			// frame does; the rows report the frames after it.
			if err := p.Process(dst, src); err != nil {
				b.Fatal(err)
			}
			// image/jpeg's row left ~1 MB of garbage per call: collect it now, or the
			// collector's background work lands in this row's timings.
			runtime.GC()
			med := medianLoop(b, func() error { return p.Process(dst, src) })
			b.ReportMetric(float64(p.jpeg.f), "1/scale")
			if peer > 0 {
				b.ReportMetric(peer/med, "x-faster")
			}
		})
	}
}

// medianLoop runs fn b.N times and reports the median and fastest call in
// µs (on a shared machine ns/op mostly measures the neighbours); it returns
// the median.
func medianLoop(b *testing.B, fn func() error) float64 {
	b.ReportAllocs()
	ts := make([]time.Duration, 0, 1024)
	for b.Loop() {
		t0 := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		ts = append(ts, time.Since(t0))
	}
	slices.Sort(ts)
	med := float64(ts[len(ts)/2].Nanoseconds()) / 1e3
	b.ReportMetric(med, "median-µs")
	b.ReportMetric(float64(ts[0].Nanoseconds())/1e3, "min-µs")
	return med
}
