package frame

import "math"

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

// areaWBits is the fixed point of the basis-sum weights.
const areaWBits = 15

// areaHShift drops this many bits after the horizontal pass, keeping the
// vertical pass inside int64 even for 16-bit quantisation tables.
const areaHShift = 8

// areaKeep: an axis keeps ceil(areaKeep / blocks per output pixel)
// frequencies (at most 8). 2 keeps every camera size of BenchmarkMJPEG
// within 1 LSB MAE of image/jpeg + area (TestJPEGReducedMatchesReference).
const areaKeep = 2.0

// areaFreqs is how many frequencies one axis of a component keeps: n source
// pixels of crop onto out samples, sub source pixels per component pixel.
func areaFreqs(n, out, sub int) int {
	blocksPerOut := float64(n) / float64(out) / float64(8*sub)
	return min(8, int(math.Ceil(areaKeep/blocksPerOut-1e-9)))
}

// dctAxis holds one axis of one component: for each output sample, the
// blocks it covers and, per block, k weights (Q areaWBits): the IDCT basis
// of frequency u summed over the block's pixels under the sample, each
// weighted by its share of the sample.
type dctAxis struct {
	k     int
	start []int32 // taps of output o: [start[o], start[o+1])
	blk   []int32 // block index of each tap
	w     []int32 // k weights per tap
}

// makeDCTAxis tabulates an axis: the crop [off, off+n) in source pixels onto
// out samples, sub source pixels per component pixel (chroma subsampling,
// replicated as image/jpeg does), k frequencies.
func makeDCTAxis(off, n, out, sub, k int) dctAxis {
	a := dctAxis{k: k, start: make([]int32, 0, out+1)}
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
	fs := float64(sub)
	for o := range out {
		a.start = append(a.start, int32(len(a.blk)))
		lo := float64(off) + float64(o)*scale
		hi := lo + scale
		var w [8]float64
		cur := -1
		flush := func() {
			if cur < 0 {
				return
			}
			a.blk = append(a.blk, int32(cur))
			for u := range k {
				a.w = append(a.w, int32(math.Round(w[u]*(1<<areaWBits))))
			}
			w = [8]float64{}
		}
		for p := int(math.Floor(lo / fs)); float64(p)*fs < hi; p++ {
			ov := math.Min(hi, float64(p+1)*fs) - math.Max(lo, float64(p)*fs)
			if ov <= 0 {
				continue
			}
			if b := p / 8; b != cur {
				flush()
				cur = b
			}
			for u := range k {
				w[u] += ov / scale * basis[u][p%8]
			}
		}
		flush()
	}
	a.start = append(a.start, int32(len(a.blk)))
	return a
}

// areaState is the per-Preprocessor state of the DCT-domain area path,
// built for one set of sampling factors and rebuilt if they change.
type areaState struct {
	key    [7]int // ncomp, then h, v of each component
	x, y   [3]dctAxis
	acc    [3][]int64 // per component, out samples, Q(areaHShift... see accumulate)
	h      []int64    // one block row after the horizontal pass
	ok     bool
	ncomp  int
	outLen int
}

// prepare sizes the decoder's components for the area path (their kept
// frequencies per axis) and builds the axes when the sampling changed.
func (s *areaState) prepare(d *jpegDecoder, crop Rect, outW, outH int) {
	key := [7]int{d.ncomp}
	for i := range d.ncomp {
		key[1+2*i], key[2+2*i] = d.comp[i].h, d.comp[i].v
	}
	if !s.ok || key != s.key {
		s.key, s.ok, s.ncomp = key, true, d.ncomp
		kmax := 1
		for i := range d.ncomp {
			c := &d.comp[i]
			sx, sy := d.hmax/c.h, d.vmax/c.v
			kx, ky := areaFreqs(crop.W, outW, sx), areaFreqs(crop.H, outH, sy)
			s.x[i] = makeDCTAxis(crop.X, crop.W, outW, sx, kx)
			s.y[i] = makeDCTAxis(crop.Y, crop.H, outH, sy, ky)
			s.acc[i] = make([]int64, outW*outH)
			kmax = max(kmax, ky)
		}
		s.h = make([]int64, kmax*outW)
	}
	for i := range d.ncomp {
		d.comp[i].setBlockSize(s.x[i].k, s.y[i].k)
	}
}

// accumulate sets acc to the area means of component c, level shift not
// added, in Q(areaWBits*2 - areaHShift).
func (s *areaState) accumulate(acc []int64, c *jpegComp, xa, ya *dctAxis, outW, outH int) {
	kx, ky := xa.k, ya.k
	kk := kx * ky
	h := s.h[:ky*outW]
	coef := c.coef
	cached := int32(-1)
	for oy := range outH {
		row := acc[oy*outW : oy*outW+outW]
		clear(row)
		for t := ya.start[oy]; t < ya.start[oy+1]; t++ {
			by := ya.blk[t]
			// Consecutive outputs share at most their edge block row,
			// which is the last one computed.
			if by != cached {
				cached = by
				base := int(by) * c.bw
				if kk == 1 {
					for ox := range outW {
						var sum int64
						for tx := xa.start[ox]; tx < xa.start[ox+1]; tx++ {
							sum += int64(coef[base+int(xa.blk[tx])]) * int64(xa.w[tx])
						}
						h[ox] = sum >> areaHShift
					}
				} else {
					s.rowPass(h, coef, xa, base, kx, ky, outW)
				}
			}
			// Two frequency rows per pass over the output row: half the
			// loads and stores of row.
			wy := ya.w[int(t)*ky : int(t)*ky+ky]
			v := 0
			for ; v+1 < len(wy); v += 2 {
				w0, w1 := int64(wy[v]), int64(wy[v+1])
				h0 := h[v*outW : v*outW+len(row)]
				h1 := h[(v+1)*outW : (v+1)*outW+len(row)]
				for ox := range row {
					row[ox] += h0[ox]*w0 + h1[ox]*w1
				}
			}
			if v < len(wy) {
				w0 := int64(wy[v])
				h0 := h[v*outW : v*outW+len(row)]
				for ox := range row {
					row[ox] += h0[ox] * w0
				}
			}
		}
	}
}

// rowPass is accumulate's horizontal pass over one block row (blocks from
// base) for kx x ky coefficients per block: h[v*outW+ox] for every v. It
// walks one frequency row v at a time so that each output's sum stays in a
// register, with the kx weights of a tap unrolled for the common kx.
func (s *areaState) rowPass(h []int64, coef []int32, xa *dctAxis, base, kx, ky, outW int) {
	kk := kx * ky
	start := xa.start[:outW+1]
	blk := xa.blk
	w := xa.w
	for v := range ky {
		hv := h[v*outW : v*outW+outW]
		off := base*kk + v*kx // coefficient (v, 0) of block 0 of the row
		switch kx {
		case 1:
			for ox := range hv {
				var sum int64
				for tx := start[ox]; tx < start[ox+1]; tx++ {
					sum += int64(coef[off+int(blk[tx])*kk]) * int64(w[tx])
				}
				hv[ox] = sum >> areaHShift
			}
		case 2:
			for ox := range hv {
				var sum int64
				for tx := start[ox]; tx < start[ox+1]; tx++ {
					cf := (*[2]int32)(coef[off+int(blk[tx])*kk:])
					wx := (*[2]int32)(w[2*tx:])
					sum += int64(cf[0])*int64(wx[0]) + int64(cf[1])*int64(wx[1])
				}
				hv[ox] = sum >> areaHShift
			}
		case 3:
			for ox := range hv {
				var sum int64
				for tx := start[ox]; tx < start[ox+1]; tx++ {
					cf := (*[3]int32)(coef[off+int(blk[tx])*kk:])
					wx := (*[3]int32)(w[3*tx:])
					sum += int64(cf[0])*int64(wx[0]) + int64(cf[1])*int64(wx[1]) + int64(cf[2])*int64(wx[2])
				}
				hv[ox] = sum >> areaHShift
			}
		case 4:
			for ox := range hv {
				var sum int64
				for tx := start[ox]; tx < start[ox+1]; tx++ {
					cf := (*[4]int32)(coef[off+int(blk[tx])*kk:])
					wx := (*[4]int32)(w[4*tx:])
					sum += int64(cf[0])*int64(wx[0]) + int64(cf[1])*int64(wx[1]) +
						int64(cf[2])*int64(wx[2]) + int64(cf[3])*int64(wx[3])
				}
				hv[ox] = sum >> areaHShift
			}
		default:
			for ox := range hv {
				var sum int64
				for tx := start[ox]; tx < start[ox+1]; tx++ {
					b := off + int(blk[tx])*kk
					cf := coef[b : b+kx : b+kx]
					wx := w[int(tx)*kx : int(tx)*kx+kx : int(tx)*kx+kx]
					for u, wu := range wx {
						sum += int64(cf[u]) * int64(wu)
					}
				}
				hv[ox] = sum >> areaHShift
			}
		}
	}
}

// areaFrac is the fixed point of accumulate's results.
const areaFrac = 2*areaWBits - areaHShift

// YCbCr→RGB in Q16 for the area means (JFIF full range).
var (
	areaRV = int64(math.Round(coefRV * (1 << 16)))
	areaGU = int64(math.Round(coefGU * (1 << 16)))
	areaGV = int64(math.Round(coefGV * (1 << 16)))
	areaBU = int64(math.Round(coefBU * (1 << 16)))
)

// processJPEGArea resamples the coefficient planes d holds into dst.
func (s *areaState) process(dst []byte, d *jpegDecoder, outW, outH int) {
	n := outW * outH
	for i := range d.ncomp {
		s.accumulate(s.acc[i][:n], &d.comp[i], &s.x[i], &s.y[i], outW, outH)
	}
	const sh = areaFrac + 16
	const half, level = int64(1) << (sh - 1), int64(128) << sh
	ya := s.acc[0][:n]
	if d.ncomp == 1 {
		for i, y := range ya {
			v := uint8(max(0, min(255, (y<<16+level+half)>>sh)))
			d := dst[3*i : 3*i+3 : 3*i+3]
			d[0], d[1], d[2] = v, v, v
		}
		return
	}
	cba, cra := s.acc[1][:n], s.acc[2][:n]
	for i, y := range ya {
		y = y<<16 + level + half
		cb, cr := cba[i], cra[i]
		d := dst[3*i : 3*i+3 : 3*i+3]
		d[0] = uint8(max(0, min(255, (y+areaRV*cr)>>sh)))
		d[1] = uint8(max(0, min(255, (y-areaGU*cb-areaGV*cr)>>sh)))
		d[2] = uint8(max(0, min(255, (y+areaBU*cb)>>sh)))
	}
}
