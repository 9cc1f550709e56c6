package frame

import (
	"fmt"
	"math"
)

// Area resampling in the DCT domain. An area filter averages the source
// pixels under each output pixel; a pixel of a JPEG block is the sum of its
// dequantised coefficients times the IDCT basis, so the average is, block by
// block, the sum of the coefficients times the basis summed over the pixels
// the output covers. Those sums are fixed per axis (the crop and the output
// size do not change), so they are tabulated once, and a frame costs a few
// multiply-adds per kept coefficient. Unlike averaging box means of a
// reduced image, the output pixel's edges fall exactly where they should,
// not at the nearest box edge: that misplacement is what kept 1/8-scale
// block means above 1 LSB from a full decode wherever an output pixel spans
// few blocks. What remains is the frequencies dropped in blocks an output
// edge cuts, so each axis keeps more of them the fewer blocks an output
// pixel spans (areaKeep).

// areaKeep: an axis keeps ceil(areaKeep / blocks per output pixel)
// frequencies (at most 8). 2 keeps every camera size of BenchmarkMJPEG
// within 1 LSB MAE of image/jpeg + area (TestJPEGReducedMatchesReference);
// 1.875, which keeps 2 instead of 3 where an output spans 7.5 pixels
// (640x480 centre crops), reached 1.001 LSB, and chroma kept at 1.5 reached
// 1.02: fewer frequencies would shorten the scan's keep phase but cost the
// accuracy target.
const areaKeep = 2.0

// areaFreqs is how many frequencies one axis of a component keeps: n source
// pixels of crop onto out samples, sub source pixels per component pixel.
func areaFreqs(n, out, sub int) int {
	blocksPerOut := float64(n) / float64(out) / float64(8*sub)
	return min(8, int(math.Ceil(areaKeep/blocksPerOut-1e-9)))
}

// dctAxis holds one axis of one component: for each output sample, the
// blocks it covers and, per block (tap), k weights: the IDCT basis of
// frequency u summed over the block's pixels under the sample, each
// weighted by its share of the sample. Every sample has the same number of
// taps, the extra ones repeating its last block with zero weights: the tap
// loops then run a fixed count, where a count varying between 1 and 3 from
// one output to the next mispredicted about once per output.
type dctAxis struct {
	k, taps int
	blk     []int32   // [o*taps+t]
	w       []float32 // [(o*taps+t)*k+u]
}

// makeDCTAxis tabulates an axis: the crop [off, off+n) in source pixels onto
// out samples, sub source pixels per component pixel (chroma subsampling,
// replicated as image/jpeg does), k frequencies.
func makeDCTAxis(off, n, out, sub, k int) dctAxis {
	scale := float64(n) / float64(out)
	var basis [8][8]float64 // basis[u][j]
	for u := range 8 {
		cu := 0.5
		if u == 0 {
			cu = 0.5 / math.Sqrt2
		}
		for j := range 8 {
			basis[u][j] = cu * math.Cos(float64(2*j+1)*float64(u)*math.Pi/16)
		}
	}
	type tap struct {
		blk int
		w   [8]float64
	}
	fs := float64(sub)
	taps := make([][]tap, out)
	for o := range out {
		lo := float64(off) + float64(o)*scale
		hi := lo + scale
		for p := int(math.Floor(lo / fs)); float64(p)*fs < hi; p++ {
			ov := math.Min(hi, float64(p+1)*fs) - math.Max(lo, float64(p)*fs)
			if ov <= 0 {
				continue
			}
			if b := p / 8; len(taps[o]) == 0 || taps[o][len(taps[o])-1].blk != b {
				taps[o] = append(taps[o], tap{blk: b})
			}
			t := &taps[o][len(taps[o])-1]
			for u := range k {
				t.w[u] += ov / scale * basis[u][p%8]
			}
		}
	}
	a := dctAxis{k: k}
	for _, ts := range taps {
		a.taps = max(a.taps, len(ts))
	}
	a.blk = make([]int32, out*a.taps)
	a.w = make([]float32, out*a.taps*k)
	for o, ts := range taps {
		for t := range a.taps {
			src := ts[min(t, len(ts)-1)]
			a.blk[o*a.taps+t] = int32(src.blk)
			if t < len(ts) {
				for u := range k {
					a.w[(o*a.taps+t)*k+u] = float32(src.w[u])
				}
			}
		}
	}
	return a
}

// areaLanes: outputs are processed in groups of this many (one AVX-512
// vector of float32); rows of the tables are padded to it.
const areaLanes = 16

// areaComp is one component's tables and buffers, laid out for the row and
// column kernels (areaRow, areaCol): per output column ox of a padded row
// of outWp,
//
//	idx[t*outWp+ox]        first coefficient of tap t's block, counted from its block row's start
//	wx[(t*kx+u)*outWp+ox]  the weight of frequency u of that block
//
// and per output row oy, taps*ky rows of h (yrows, in elements) with their
// weights (yw). h holds the horizontal pass of block rows rowLo..rowHi,
// ky frequency rows each.
type areaComp struct {
	x, y         dctAxis
	kx, ky, kk   int
	idx          []int32
	wx           []float32
	yrows        []int32
	yw           []float32
	rowLo, rowHi int
	minBlkX      int
	maxBlkX      int
	h, acc       []float32
}

func (c *areaComp) build(x, y dctAxis, outW, outWp, outH int) {
	c.x, c.y = x, y
	c.kx, c.ky, c.kk = x.k, y.k, x.k*y.k
	c.idx = make([]int32, x.taps*outWp)
	c.wx = make([]float32, x.taps*x.k*outWp)
	c.minBlkX, c.maxBlkX = math.MaxInt, 0
	for ox := range outW {
		for t := range x.taps {
			b := x.blk[ox*x.taps+t]
			c.minBlkX, c.maxBlkX = min(c.minBlkX, int(b)), max(c.maxBlkX, int(b))
			c.idx[t*outWp+ox] = b * int32(c.kk)
			for u := range x.k {
				c.wx[(t*x.k+u)*outWp+ox] = x.w[(ox*x.taps+t)*x.k+u]
			}
		}
	}
	c.rowLo, c.rowHi = math.MaxInt, 0
	for _, b := range y.blk {
		c.rowLo, c.rowHi = min(c.rowLo, int(b)), max(c.rowHi, int(b))
	}
	n := y.taps * y.k
	c.yrows = make([]int32, outH*n)
	c.yw = make([]float32, outH*n)
	for oy := range outH {
		for t := range y.taps {
			by := int(y.blk[oy*y.taps+t]) - c.rowLo
			for v := range y.k {
				j := oy*n + t*y.k + v
				c.yrows[j] = int32((by*y.k + v) * outWp)
				c.yw[j] = y.w[(oy*y.taps+t)*y.k+v]
			}
		}
	}
	c.h = make([]float32, (c.rowHi-c.rowLo+1)*y.k*outWp)
	c.acc = make([]float32, outH*outWp)
}

// areaState is the per-Preprocessor state of the DCT-domain area path,
// built for one set of sampling factors and rebuilt if they change.
type areaState struct {
	key   [7]int // ncomp, then h, v of each component
	comp  [3]areaComp
	ok    bool
	outWp int
}

// prepare sizes the decoder's components for the area path (their kept
// frequencies per axis) and builds the tables when the sampling changed.
func (s *areaState) prepare(d *jpegDecoder, crop Rect, outW, outH int) {
	key := [7]int{d.ncomp}
	for i := range d.ncomp {
		key[1+2*i], key[2+2*i] = d.comp[i].h, d.comp[i].v
	}
	if !s.ok || key != s.key {
		s.key, s.ok = key, true
		s.outWp = (outW + areaLanes - 1) / areaLanes * areaLanes
		for i := range d.ncomp {
			c := &d.comp[i]
			sx, sy := d.hmax/c.h, d.vmax/c.v
			kx, ky := areaFreqs(crop.W, outW, sx), areaFreqs(crop.H, outH, sy)
			s.comp[i].build(makeDCTAxis(crop.X, crop.W, outW, sx, kx), makeDCTAxis(crop.Y, crop.H, outH, sy, ky), outW, s.outWp, outH)
		}
	}
	for i := range d.ncomp {
		c, ac := &d.comp[i], &s.comp[i]
		c.setAreaBlockSize(ac.kx, ac.ky)
		c.need = [4]int{ac.minBlkX, ac.maxBlkX, ac.rowLo, ac.rowHi}
		c.hasNeed = areaSkipOutside
	}
}

// areaSkipOutside lets the scan skip the AC coefficients of blocks no
// output covers (a test turns it off to compare).
var areaSkipOutside = true

// accumulate sets ac.acc to the area means of component c, level shift not
// added: the horizontal pass of every block row the outputs cover into h,
// then each output row from its block rows' frequency rows in h.
func (ac *areaComp) accumulate(c *jpegComp, outWp, outH int) error {
	// The kernels read coefficients without bounds checks: the blocks the
	// tables name must be inside the plane.
	if ac.maxBlkX >= c.bw || ac.rowHi >= c.bh || len(c.coef) < c.bw*c.bh*ac.kk || c.nx*c.ny != ac.kk {
		return fmt.Errorf("area tables (blocks to %d x %d, %d coefficients) do not fit the %d x %d block plane of %d",
			ac.maxBlkX+1, ac.rowHi+1, ac.kk, c.bw, c.bh, c.nx*c.ny)
	}
	rowLen := c.bw * ac.kk
	n := ac.ky * outWp
	for by := ac.rowLo; by <= ac.rowHi; by++ {
		h := ac.h[(by-ac.rowLo)*n : (by-ac.rowLo+1)*n]
		areaRow(h, c.coef[by*rowLen:(by+1)*rowLen], ac.idx, ac.wx, outWp, ac.x.taps, ac.kx, ac.ky)
	}
	m := ac.y.taps * ac.ky
	for oy := range outH {
		areaCol(ac.acc[oy*outWp:(oy+1)*outWp], ac.h, ac.yrows[oy*m:(oy+1)*m], ac.yw[oy*m:(oy+1)*m], outWp)
	}
	return nil
}

// areaRowGo is the row kernel: the horizontal pass of one block row,
//
//	h[v*outWp+ox] = Σ_t Σ_u coef[idx[t*outWp+ox] + v*kx + u] · wx[(t*kx+u)*outWp+ox]
//
// summed in that order, each product rounded to float32 before it is added
// (the explicit conversion keeps the compiler from fusing it, so that the
// SIMD kernels, which multiply then add, give the same bits).
func areaRowGo(h []float32, coef []int32, idx []int32, wx []float32, outWp, taps, kx, ky int) {
	// One (t, u) at a time over the whole row: the same additions per
	// output in the same order, with a branch-free inner loop.
	for v := range ky {
		hv := h[v*outWp : v*outWp+outWp]
		clear(hv)
		for t := range taps {
			it := idx[t*outWp : t*outWp+len(hv)]
			for u := range kx {
				w := wx[(t*kx+u)*outWp : (t*kx+u)*outWp+len(hv)]
				c := coef[v*kx+u:]
				for ox, i := range it {
					hv[ox] += float32(float32(c[i]) * w[ox])
				}
			}
		}
	}
}

// areaColGo is the column kernel: acc[ox] = Σ_j w[j] · h[rows[j]+ox], in
// that order, products rounded as in areaRowGo.
func areaColGo(acc, h []float32, rows []int32, w []float32, outWp int) {
	acc = acc[:outWp]
	clear(acc)
	for j, r := range rows {
		hr := h[int(r) : int(r)+len(acc)]
		wj := w[j]
		for ox := range acc {
			acc[ox] += float32(wj * hr[ox])
		}
	}
}

// YCbCr→RGB for the area means (JFIF full range).
const (
	areaRV = float32(coefRV)
	areaGU = float32(coefGU)
	areaGV = float32(coefGV)
	areaBU = float32(coefBU)
)

// clampRound rounds x to the nearest byte value, saturating. It clamps
// after converting: min and max of floats must order NaNs and signed
// zeros, which costs a call per pixel; of ints they are two CMOVs. (x is a
// sum of bounded products, far inside int32.)
func clampRound(x float32) uint8 {
	return uint8(min(max(int32(x+0.5), 0), 255))
}

// areaRGBGo converts the area means of a row to RGB: y, cb, cr without
// their level shift, dst 3 bytes per pixel. Each product is rounded to
// float32 before it is added (no fused multiply-add), as the SIMD kernel
// does.
func areaRGBGo(dst []byte, ya, cba, cra []float32) {
	cba, cra = cba[:len(ya)], cra[:len(ya)]
	for ox, y := range ya {
		y += 128
		cb, cr := cba[ox], cra[ox]
		p := dst[3*ox : 3*ox+3 : 3*ox+3]
		p[0] = clampRound(y + float32(areaRV*cr))
		p[1] = clampRound(y - float32(areaGU*cb) - float32(areaGV*cr))
		p[2] = clampRound(y + float32(areaBU*cb))
	}
}

// process resamples the coefficient planes d holds into dst.
func (s *areaState) process(dst []byte, d *jpegDecoder, outW, outH int) error {
	for i := range d.ncomp {
		if err := s.comp[i].accumulate(&d.comp[i], s.outWp, outH); err != nil {
			return fmt.Errorf("%w: component %d: %w", ErrDecode, i, err)
		}
	}
	for oy := range outH {
		ya := s.comp[0].acc[oy*s.outWp : oy*s.outWp+outW]
		row := dst[3*oy*outW : 3*(oy+1)*outW]
		if d.ncomp == 1 {
			for ox, y := range ya {
				v := clampRound(y + 128)
				p := row[3*ox : 3*ox+3 : 3*ox+3]
				p[0], p[1], p[2] = v, v, v
			}
			continue
		}
		areaRGB(row, ya, s.comp[1].acc[oy*s.outWp:oy*s.outWp+outW], s.comp[2].acc[oy*s.outWp:oy*s.outWp+outW])
	}
	return nil
}
