package frame

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestAreaKernelsMatchGo: every SIMD implementation of the area kernels
// gives the Go kernels' bits, over table shapes around the vector widths
// (taps 1-4, 1-8 frequencies per axis, padded rows of 16-80 columns), with
// coefficients at the int range a 16-bit quantisation table can give.
func TestAreaKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ref := areaKernels[len(areaKernels)-1]
	if len(areaKernels) == 1 {
		t.Skip("no SIMD area kernel on this CPU")
	}
	for _, k := range areaKernels[:len(areaKernels)-1] {
		for _, outWp := range []int{16, 32, 48, 80} {
			for taps := 1; taps <= 4; taps++ {
				for _, kx := range []int{1, 2, 3, 5, 8} {
					for _, ky := range []int{1, 3, 8} {
						kk := kx * ky
						blocks := 7
						coef := make([]int32, blocks*kk)
						for i := range coef {
							coef[i] = rng.Int32N(1<<17) - 1<<16
						}
						idx := make([]int32, taps*outWp)
						for i := range idx {
							idx[i] = rng.Int32N(int32(blocks)) * int32(kk)
						}
						wx := randFloats(rng, taps*kx*outWp)
						// Guard bands: a kernel writing past its row shows.
						want := make([]float32, ky*outWp+16)
						got := make([]float32, ky*outWp+16)
						for i := range got {
							got[i], want[i] = -7, -7
						}
						ref.row(want, coef, idx, wx, outWp, taps, kx, ky)
						k.row(got, coef, idx, wx, outWp, taps, kx, ky)
						if i := firstDiff(got, want); i >= 0 {
							t.Fatalf("%s row kernel, outWp %d taps %d kx %d ky %d: [%d] = %v, Go gives %v", k.name, outWp, taps, kx, ky, i, got[i], want[i])
						}

						h := randFloats(rng, 5*outWp)
						n := taps * ky
						rows := make([]int32, n)
						for i := range rows {
							rows[i] = rng.Int32N(5) * int32(outWp)
						}
						w := randFloats(rng, n)
						wantC := make([]float32, outWp+16)
						gotC := make([]float32, outWp+16)
						ref.col(wantC, h, rows, w, outWp)
						k.col(gotC, h, rows, w, outWp)
						if i := firstDiff(gotC, wantC); i >= 0 {
							t.Fatalf("%s column kernel, outWp %d, %d rows: [%d] = %v, Go gives %v", k.name, outWp, n, i, gotC[i], wantC[i])
						}
					}
				}
			}
		}
	}
}

// TestAreaRGBMatchesGo: the SIMD colour conversion gives the Go one's
// bytes for rows of 1-70 pixels (whole groups and tails) over values that
// reach both clamps and sit on rounding edges, and writes nothing past the
// row.
func TestAreaRGBMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range areaKernels[:len(areaKernels)-1] {
		for n := 1; n <= 70; n++ {
			y, cb, cr := randFloats(rng, n), randFloats(rng, n), randFloats(rng, n)
			for i := range y {
				y[i] *= 120
				cb[i] *= 90
				cr[i] *= 90
				if i%7 == 3 {
					y[i] = float32(rng.IntN(300)-150) - 0.5 // x.5: the rounding edge
					cb[i], cr[i] = 0, 0
				}
			}
			want := make([]byte, 3*n+64)
			got := make([]byte, 3*n+64)
			for i := range got {
				got[i], want[i] = 0xA5, 0xA5
			}
			areaRGBGo(want[:3*n], y, cb, cr)
			k.rgb(got[:3*n], y, cb, cr)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s, %d pixels: byte %d = %d, Go gives %d", k.name, n, i, got[i], want[i])
				}
			}
		}
	}
}

// TestAreaRowGoFormula checks the Go row kernel against its formula in
// float64 (relative to the row's scale): the SIMD kernels are held to it
// only through TestAreaKernelsMatchGo.
func TestAreaRowGoFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const outWp, taps, kx, ky, blocks = 32, 3, 2, 3, 9
	kk := kx * ky
	coef := make([]int32, blocks*kk)
	for i := range coef {
		coef[i] = rng.Int32N(4096) - 2048
	}
	idx := make([]int32, taps*outWp)
	for i := range idx {
		idx[i] = rng.Int32N(blocks) * int32(kk)
	}
	wx := randFloats(rng, taps*kx*outWp)
	h := make([]float32, ky*outWp)
	areaRowGo(h, coef, idx, wx, outWp, taps, kx, ky)
	for v := range ky {
		for ox := range outWp {
			var want, scale float64
			for tp := range taps {
				for u := range kx {
					p := float64(coef[int(idx[tp*outWp+ox])+v*kx+u]) * float64(wx[(tp*kx+u)*outWp+ox])
					want += p
					scale += math.Abs(p)
				}
			}
			if got := float64(h[v*outWp+ox]); math.Abs(got-want) > 1e-6*scale {
				t.Fatalf("h[%d][%d] = %v, want %v (scale %v)", v, ox, got, want, scale)
			}
		}
	}
}

// TestAreaRejectsTablesOutsidePlane: the kernels read without bounds
// checks, so tables naming blocks outside the component's plane (a frame
// whose geometry changed under them) are an error, not a read past coef.
func TestAreaRejectsTablesOutsidePlane(t *testing.T) {
	var ac areaComp
	ac.build(makeDCTAxis(0, 64, 8, 1, 2), makeDCTAxis(0, 64, 8, 1, 2), 8, areaLanes, 8)
	c := jpegComp{bw: 8, bh: 8, nx: 2, ny: 2, coef: make([]int32, 8*8*4)}
	if err := ac.accumulate(&c, areaLanes, 8); err != nil {
		t.Fatalf("a plane that fits: %v", err)
	}
	for name, bad := range map[string]jpegComp{
		"narrow":       {bw: 7, bh: 8, nx: 2, ny: 2, coef: make([]int32, 7*8*4)},
		"short":        {bw: 8, bh: 7, nx: 2, ny: 2, coef: make([]int32, 8*7*4)},
		"small coef":   {bw: 8, bh: 8, nx: 2, ny: 2, coef: make([]int32, 8*8*4-1)},
		"other blocks": {bw: 8, bh: 8, nx: 1, ny: 2, coef: make([]int32, 8*8*4)},
	} {
		if err := ac.accumulate(&bad, areaLanes, 8); err == nil {
			t.Errorf("%s plane: no error", name)
		}
	}
}

func randFloats(rng *rand.Rand, n int) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = float32(rng.NormFloat64())
	}
	return f
}

// firstDiff is the first index where a and b differ in bits, or -1.
func firstDiff(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// BenchmarkAreaStage times the area stage alone (one decoded camera frame
// resampled to 64x64 again and again) with each kernel implementation, so
// the Go kernels that arm64 runs are measured beside the SIMD ones.
func BenchmarkAreaStage(b *testing.B) {
	for _, sz := range []struct{ w, h int }{{640, 480}, {1280, 720}, {1920, 1080}} {
		data := stripDHT(b, stdJPEG(b, cameraScene(sz.w, sz.h, 42, 4), 85))
		p, err := NewPreprocessor(Config{Format: MJPEG, Width: sz.w, Height: sz.h, Filter: Area})
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]byte, p.OutLen())
		if err := p.Process(dst, Frame{Data: data, Format: MJPEG, Width: sz.w, Height: sz.h}); err != nil {
			b.Fatal(err)
		}
		s, c := p.jpeg, p.conf
		for _, k := range areaKernels {
			b.Run(fmt.Sprintf("%dx%d/%s", sz.w, sz.h, k.name), func(b *testing.B) {
				defer func() { areaRow, areaCol, areaRGB = areaKernels[0].row, areaKernels[0].col, areaKernels[0].rgb }()
				areaRow, areaCol, areaRGB = k.row, k.col, k.rgb
				b.ReportAllocs()
				for b.Loop() {
					if err := s.area.process(dst, &s.dec, c.OutWidth, c.OutHeight); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestAreaSkipOutsideSameImage: skipping the AC coefficients of blocks no
// output covers changes nothing in the image (every case, centre crops
// and an off-centre one), and it does skip: the blocks left of a centre
// crop keep no AC coefficient.
func TestAreaSkipOutsideSameImage(t *testing.T) {
	defer func() { areaSkipOutside = true }()
	for _, c := range jpegCases(t) {
		for _, crop := range []Rect{CenterSquare(c.w, c.h), {X: c.w / 5, Y: c.h / 7, W: c.w / 2, H: c.h / 2}} {
			run := func(skip bool) ([]byte, *Preprocessor) {
				areaSkipOutside = skip
				p, err := NewPreprocessor(Config{Format: MJPEG, Width: c.w, Height: c.h, Crop: crop, Filter: Area})
				if err != nil {
					t.Fatal(err)
				}
				dst := make([]byte, p.OutLen())
				if err := p.Process(dst, Frame{Data: c.data, Format: MJPEG, Width: c.w, Height: c.h}); err != nil {
					t.Fatal(err)
				}
				return dst, p
			}
			want, _ := run(false)
			got, p := run(true)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s crop %+v: the image changed when blocks outside are skipped", c.name, crop)
			}
			if p.jpeg.f == 0 || crop.X < 16 {
				continue
			}
			// Block (0, need[2]) of luma is left of the crop: only its DC
			// may be non-zero.
			y := &p.jpeg.dec.comp[0]
			if y.nx*y.ny > 1 && y.need[0] > 0 {
				at := y.need[2] * y.bw * y.nx * y.ny
				for i, v := range y.coef[at+1 : at+y.nx*y.ny] {
					if v != 0 {
						t.Fatalf("%s crop %+v: block left of the crop kept coefficient %d = %d", c.name, crop, i+1, v)
					}
				}
			}
		}
	}
}

// areaAnyWidth names the kernels whose wrappers take rows of any width
// (the asm does whole vector groups, Go the rest, or Go all of a width the
// asm does not take); the AVX ones need rows padded to areaLanes, as
// areaState pads them.
var areaAnyWidth = map[string]bool{"neon": true, "go": true}

// TestAreaKernelSelected: NEON is baseline on arm64, so the NEON kernels
// must be the ones in use there (and the qemu runs of these tests test
// what robots run).
func TestAreaKernelSelected(t *testing.T) {
	want := map[string]string{"arm64": "neon"}[runtime.GOARCH]
	if want == "" {
		t.Skipf("no fixed area kernel expected on %s", runtime.GOARCH)
	}
	if got := areaKernels[0].name; got != want {
		t.Fatalf("area kernel in use on %s is %q, want %q", runtime.GOARCH, got, want)
	}
	if areaRow == nil || areaCol == nil || areaRGB == nil {
		t.Fatal("an area kernel in use is nil")
	}
}

// checkAreaKernel compares k's row and column kernels with ref on random
// tables of one shape, with guard bands after both outputs.
func checkAreaKernel(t *testing.T, rng *rand.Rand, k, ref areaKernel, outWp, taps, kx, ky int) {
	t.Helper()
	kk, blocks := kx*ky, 5
	coef := make([]int32, blocks*kk)
	for i := range coef {
		coef[i] = rng.Int32N(1<<17) - 1<<16
	}
	idx := make([]int32, taps*outWp)
	for i := range idx {
		idx[i] = rng.Int32N(int32(blocks)) * int32(kk)
	}
	wx := randFloats(rng, taps*kx*outWp)
	want := make([]float32, ky*outWp+16)
	got := make([]float32, ky*outWp+16)
	for i := range got {
		got[i], want[i] = -7, -7
	}
	ref.row(want, coef, idx, wx, outWp, taps, kx, ky)
	k.row(got, coef, idx, wx, outWp, taps, kx, ky)
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("%s row kernel, outWp %d taps %d kx %d ky %d: [%d] = %v, Go gives %v", k.name, outWp, taps, kx, ky, i, got[i], want[i])
	}
	h := randFloats(rng, 4*outWp)
	rows := make([]int32, taps*ky)
	for i := range rows {
		rows[i] = rng.Int32N(int32(3*outWp + 1)) // any offset, not only whole rows
	}
	w := randFloats(rng, len(rows))
	wantC := make([]float32, outWp+16)
	gotC := make([]float32, outWp+16)
	for i := range gotC {
		gotC[i], wantC[i] = -7, -7
	}
	ref.col(wantC, h, rows, w, outWp)
	k.col(gotC, h, rows, w, outWp)
	if i := firstDiff(gotC, wantC); i >= 0 {
		t.Fatalf("%s column kernel, outWp %d, %d rows: [%d] = %v, Go gives %v", k.name, outWp, len(rows), i, gotC[i], wantC[i])
	}
}

// TestAreaKernelsAnyWidth: the kernels that take any row width give the
// Go kernels' bits on widths around the NEON groups (row: 8 columns, col:
// 16), multiples of them and not, with row offsets that are not multiples
// of the width, and every frequency row count 1-9 and 12 (the NEON row
// kernel unrolls 8 rows and ends after ky; the wrapper splits more).
func TestAreaKernelsAnyWidth(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ref := areaKernels[len(areaKernels)-1]
	tested := 0
	for _, k := range areaKernels[:len(areaKernels)-1] {
		if !areaAnyWidth[k.name] {
			continue
		}
		tested++
		for _, outWp := range []int{1, 4, 7, 8, 9, 12, 15, 16, 17, 20, 24, 31, 32, 40, 56, 72} {
			for taps := 1; taps <= 3; taps++ {
				for _, kx := range []int{1, 2, 3, 8} {
					for _, ky := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 12} {
						checkAreaKernel(t, rng, k, ref, outWp, taps, kx, ky)
					}
				}
			}
		}
	}
	if tested == 0 {
		t.Skip("no SIMD area kernel that takes any width on this CPU")
	}
}

// TestAreaWrappersGuardLengths: a buffer shorter than the shape says makes
// the kernels that check (the Go ones and the NEON wrappers) panic, as Go
// indexing does, instead of the asm reading or writing past it.
func TestAreaWrappersGuardLengths(t *testing.T) {
	const outWp, taps, kx, ky = 16, 2, 3, 2
	exact := func(n int) []float32 { s := make([]float32, n); return s[:n:n] }
	coef := make([]int32, 4*kx*ky)
	idx := make([]int32, taps*outWp)
	shortIdx := idx[: taps*outWp-1 : taps*outWp-1]
	for _, k := range areaKernels {
		if !areaAnyWidth[k.name] {
			continue
		}
		for name, call := range map[string]func(){
			"row, short h":    func() { k.row(exact(ky*outWp-1), coef, idx, exact(taps*kx*outWp), outWp, taps, kx, ky) },
			"row, short idx":  func() { k.row(exact(ky*outWp), coef, shortIdx, exact(taps*kx*outWp), outWp, taps, kx, ky) },
			"row, short wx":   func() { k.row(exact(ky*outWp), coef, idx, exact(taps*kx*outWp-1), outWp, taps, kx, ky) },
			"col, short acc":  func() { k.col(exact(outWp-1), exact(2*outWp), []int32{0, int32(outWp)}, exact(2), outWp) },
			"col, row past h": func() { k.col(exact(outWp), exact(2*outWp), []int32{0, int32(outWp + 1)}, exact(2), outWp) },
			"col, row < 0":    func() { k.col(exact(outWp), exact(2*outWp), []int32{-1, 0}, exact(2), outWp) },
			"col, short w":    func() { k.col(exact(outWp), exact(2*outWp), []int32{0, 0}, exact(1), outWp) },
			"rgb, short dst":  func() { k.rgb(make([]byte, 3*20-1), exact(20), exact(20), exact(20)) },
			"rgb, short cb":   func() { k.rgb(make([]byte, 3*20), exact(20), exact(19), exact(20)) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s kernels, %s: no panic", k.name, name)
					}
				}()
				call()
			}()
		}
	}
}

// FuzzAreaKernelsMatchGo: every SIMD area kernel against the Go ones on
// shapes and values the fuzzer picks (widths padded to areaLanes for the
// kernels that need it).
func FuzzAreaKernelsMatchGo(f *testing.F) {
	f.Add(uint64(1), uint8(1), uint8(0), uint8(2), uint8(2), uint8(9))
	f.Add(uint64(2), uint8(4), uint8(3), uint8(7), uint8(0), uint8(1))
	f.Add(uint64(3), uint8(23), uint8(1), uint8(0), uint8(7), uint8(70))
	f.Fuzz(func(t *testing.T, seed uint64, width, taps, kx, ky, pixels uint8) {
		rng := rand.New(rand.NewPCG(seed, 9))
		ref := areaKernels[len(areaKernels)-1]
		for _, k := range areaKernels[:len(areaKernels)-1] {
			outWp := (int(width)%80 + 1 + areaLanes - 1) / areaLanes * areaLanes
			if areaAnyWidth[k.name] {
				outWp = int(width)%80 + 1
			}
			checkAreaKernel(t, rng, k, ref, outWp, int(taps)%4+1, int(kx)%8+1, int(ky)%8+1)
			n := int(pixels) % 100
			y, cb, cr := randFloats(rng, n), randFloats(rng, n), randFloats(rng, n)
			for i := range y {
				y[i] *= 150
				cb[i] *= 100
				cr[i] *= 100
			}
			want, got := make([]byte, 3*n+8), make([]byte, 3*n+8)
			areaRGBGo(want[:3*n], y, cb, cr)
			k.rgb(got[:3*n], y, cb, cr)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s rgb kernel, %d pixels: %v, Go gives %v", k.name, n, got, want)
			}
		}
	})
}

// TestAreaKernelsAllocateNothing: the kernels run per block row and per
// output row of every frame; none of them (nor a wrapper) allocates.
func TestAreaKernelsAllocateNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const outWp, taps, kx, ky = 32, 2, 3, 3
	coef := make([]int32, 4*kx*ky)
	idx := make([]int32, taps*outWp)
	wx, h := randFloats(rng, taps*kx*outWp), randFloats(rng, 3*outWp)
	rows, w, acc := []int32{0, 5, int32(outWp)}, randFloats(rng, 3), make([]float32, outWp)
	y, dst := randFloats(rng, 29), make([]byte, 3*29)
	for _, k := range areaKernels {
		if n := testing.AllocsPerRun(20, func() {
			k.row(h, coef, idx, wx, outWp, taps, kx, ky)
			k.col(acc, h, rows, w, outWp)
			k.rgb(dst, y, y, y)
		}); n != 0 {
			t.Errorf("%s kernels: %v allocations per run", k.name, n)
		}
	}
}
