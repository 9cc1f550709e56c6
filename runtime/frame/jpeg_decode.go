package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// This file is a reduced-size baseline JPEG decoder (ITU-T T.81): it decodes
// an MJPEG frame straight into planes at 1/8, 1/4 or 1/2 of the source size,
// which is all a 64x64 model input needs. Only the low-frequency
// coefficients a scale needs are dequantised and transformed; the rest are
// Huffman-decoded and dropped. Everything it uses lives in jpegDecoder and is
// reused from frame to frame.

// errJPEGUnsupported marks streams this decoder leaves to image/jpeg
// (progressive, arithmetic, 12-bit, lossless, 2 or 4 components, separate
// scans per component, unusual sampling factors).
var errJPEGUnsupported = errors.New("JPEG feature not handled by the reduced decoder")

// JPEG markers (T.81 Table B.1).
const (
	mSOF0 = 0xC0 // baseline DCT
	mSOF1 = 0xC1 // extended sequential DCT, Huffman
	mDHT  = 0xC4
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mDQT  = 0xDB
	mDRI  = 0xDD
	mRST0 = 0xD0
)

// jpegMaxSide bounds the frame the reduced decoder accepts, so a corrupt
// header cannot ask for huge planes; larger frames go to image/jpeg.
const jpegMaxSide = 8192

// lookBits is the width of the Huffman lookup tables: codes up to this long
// (nearly all of them in camera streams) decode with one load.
const lookBits = 10

// huffTable is one Huffman table in the forms the decoder reads.
type huffTable struct {
	// look, indexed by the next lookBits bits: length<<8 | symbol for codes
	// up to lookBits long, 0 for longer codes.
	look [1 << lookBits]uint16
	// fast, for AC tables: the whole coefficient when its code and extra
	// bits fit in lookBits: value<<16 | run<<8 | eob<<4 | length, 0 otherwise.
	fast [1 << lookBits]int32
	// dcFast, for DC tables: the whole difference when its code and extra
	// bits fit in lookBits: value<<8 | length, 0 otherwise.
	dcFast [1 << lookBits]int32
	// skip, for AC tables, indexed by the next skipBits bits: as many whole
	// coefficients (code and extra bits) as fit, for blocks whose remaining
	// coefficients are all dropped, or else one coefficient whose code fits
	// but whose extra bits do not (only its length matters, up to
	// skipLong): length |
	// advance<<skipAdvShift | skipEOB, where advance is how far they move
	// the coefficient index (run+1 each, 16 for ZRL, 1 for a closing EOB)
	// and skipEOB marks that the last code read is an EOB. Advance is
	// skipNone when not even one code fits.
	skip [1 << skipBits]uint16
	// sym, for the coefficient-mode scan (DC and AC tables), indexed like
	// look: the symbol decoded to the shape that lets the magnitude bits be
	// taken out without a branch on their length (symbolEntry), 0 for codes
	// longer than lookBits and for DC sizes over 11.
	sym [1 << lookBits]uint32
	// Codes longer than lookBits: maxCode[l] is the largest code of length l
	// (-1 if none); vals[valOff[l]+code] is its symbol.
	maxCode [17]int32
	valOff  [17]int32
	vals    [256]uint8
}

const (
	fastEOB = 1 << 4
	fastLen = 0xF
)

// A sym entry: symTot bits hold the length of code and extra bits
// together (DC: at most lookBits+11; AC: at most symLong), then the run
// (AC), symEOB for an end of block, and from bit symMaskShift the extra
// bits' mask, (1<<size)-1.
const (
	symTot       = 0x1F
	symRunShift  = 5
	symEOB       = 1 << 9
	symMaskShift = 16
	// symSlow | symEOB is an AC entry for a code longer than lookBits, or
	// with its extra bits longer than symLong, so that one test leaves the
	// loop for either.
	symSlow = 1 << 31
	// symLong bounds an AC entry's length so that three fit one fill; the
	// rare longer coefficients (sizes over 8) take the slow path.
	symLong = 18
)

// skipBits is the width of the AC skip table. Its lookups form one serial
// chain per block (each needs the last one's length), so the table should
// stay in L1: 12 bits is 8 KiB per table and takes ~2 coefficients of a
// q85 camera frame per lookup.
const skipBits = 13

// skipLong bounds an entry's length: three fit one fill.
const skipLong = 18

const (
	skipLen      = 0x1F
	skipAdvShift = 5
	skipAdvMask  = 0x3FF
	skipEOB      = 1 << 15
	skipNone     = skipAdvMask // advance of an entry that decodes nothing
)

// build fills t from the DHT counts (codes per length 1..16) and symbols.
func (t *huffTable) build(counts *[16]uint8, vals []uint8, ac bool) error {
	*t = huffTable{}
	copy(t.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		t.valOff[l] = k - code
		t.maxCode[l] = -1
		if n > 0 {
			t.maxCode[l] = code + n - 1
		}
		for range n {
			if code >= 1<<l {
				return fmt.Errorf("%w: Huffman table overfull at length %d", ErrDecode, l)
			}
			if l <= lookBits {
				sh := lookBits - l
				for i := code << sh; i < (code+1)<<sh; i++ {
					t.look[i] = uint16(l)<<8 | uint16(vals[k])
				}
			}
			code++
			k++
		}
		code <<= 1
	}
	if !ac {
		for i, e := range t.look {
			l, size := int32(e>>8), int32(e&0xFF)
			if l == 0 || size > 11 || l+size > lookBits {
				continue
			}
			v := int32(0)
			if size > 0 {
				v = extend(int32(i>>(lookBits-l-size))&(1<<size-1), size)
			}
			t.dcFast[i] = v<<8 | (l + size)
		}
		for i, e := range t.look {
			l, size := uint32(e>>8), uint32(e&0xFF)
			if l == 0 || size > 11 {
				continue
			}
			t.sym[i] = (l + size) | (1<<size-1)<<symMaskShift
		}
		return nil
	}
	t.buildSkip()
	for i := range t.sym {
		t.sym[i] = symSlow | symEOB // until a code that fits fills it
	}
	for i, e := range t.look {
		l := int32(e >> 8)
		if l == 0 {
			continue
		}
		run, size := int32(e>>4)&15, int32(e&15)
		switch {
		case size == 0 && run == 15: // ZRL: 15 zeros, then a zero coefficient
			t.fast[i] = 15<<8 | l
		case size == 0: // EOB (libjpeg reads other run/0 symbols as EOB too)
			t.fast[i] = fastEOB | l
		case l+size <= lookBits:
			bits := int32(i>>(lookBits-l-size)) & (1<<size - 1)
			t.fast[i] = extend(bits, size)<<16 | run<<8 | (l + size)
		}
		ul, us := uint32(l), uint32(size)
		switch {
		case size == 0 && run != 15:
			t.sym[i] = ul | symEOB
		case ul+us <= symLong: // ZRL is run 15 of a zero-size (so zero) coefficient
			t.sym[i] = (ul + us) | uint32(run)<<symRunShift | (1<<us-1)<<symMaskShift
		}
	}
	return nil
}

// buildSkip fills t.skip from t.look and the long-code tables: for each
// skipBits-bit window, decode whole coefficients greedily, stopping after
// an EOB or before the first that does not fit.
func (t *huffTable) buildSkip() {
	for i := range t.skip {
		acc := uint64(i) << (64 - skipBits)
		used, adv := int32(0), int32(0)
		eob := false
		for {
			var rs int32
			var l uint
			if e := t.look[acc>>(64-lookBits)]; e != 0 {
				rs, l = int32(e&0xFF), uint(e>>8)
			} else {
				var ok bool
				if rs, l, ok = t.decodeSlow(acc); !ok {
					break
				}
			}
			size := rs & 15
			n := int32(l) + size
			if used+n > skipBits {
				if used == 0 && l <= skipBits && n <= skipLong {
					// Its code alone fits (size > 0, so not an EOB).
					used, adv = n, rs>>4+1
				}
				break
			}
			used += n
			acc <<= uint(n)
			if size == 0 && rs>>4 != 15 {
				eob = true
				break
			}
			adv += rs>>4 + 1 // ZRL: 15+1
		}
		switch {
		case used == 0:
			t.skip[i] = skipNone << skipAdvShift
		case eob:
			t.skip[i] = uint16(used) | uint16(adv+1)<<skipAdvShift | skipEOB
		default:
			t.skip[i] = uint16(used) | uint16(adv)<<skipAdvShift
		}
	}
}

// extend turns size magnitude bits into a signed coefficient (T.81 F.2.2.1).
func extend(v, size int32) int32 {
	if v < 1<<(size-1) {
		return v - 1<<size + 1
	}
	return v
}

// zigzag[k] is the natural (row*8+col) index of zig-zag position k.
var zigzag = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

// jpegComp is one colour component of the frame being decoded.
type jpegComp struct {
	id     uint8
	h, v   int // sampling factors
	tq     int // quantisation table
	td, ta int // DC and AC Huffman tables
	pred   int32
	// Blocks across and down the component's plane (padded to whole MCUs).
	bw, bh int
	// nx x ny samples come out of each block: the scale times the
	// subsampling, so chroma planes keep luma's reduced resolution.
	nx, ny int
	// slot[k] is where zig-zag coefficient k goes in jpegDecoder.blk (64
	// when outside nx x ny); kmax is the last k with a slot inside.
	slot [64]uint8
	// cslot[k] is the same for coefficient mode's block in comp.coef, but 0
	// (the DC's place, written last) where slot has 64, and for k past 63
	// (a run that overshoots lands there, and is an error checked once).
	cslot [128]uint8
	kmax  int
	// corner: only frequencies (u, v) with u+v < max(nx, ny) are kept (setAreaBlockSize).
	corner bool
	// need, in coefficient mode when set (hasNeed): the blocks whose AC
	// coefficients anything reads, [x0, x1] x [y0, y1]; the others are
	// decoded for their DC and skipped (a crop leaves a quarter of a
	// 640x480 frame's blocks outside).
	need    [4]int
	hasNeed bool
	plane   []uint8
	stride  int
	// coef, in coefficient mode: the nx*ny kept dequantised coefficients
	// of every block (row-major within a block, blocks in raster order).
	coef []int32
	// dc, ac and q, in coefficient mode: the component's Huffman and
	// quantisation tables, set when its scan starts.
	dc, ac *huffTable
	q      *[64]int32
	// q128[k] is q[k&63], indexed like cslot.
	q128 [128]int32
}

// jpegDecoder decodes one frame at a time; its tables and planes are reused.
type jpegDecoder struct {
	quant   [4][64]int32 // zig-zag order
	haveQ   [4]bool
	huff    [2][4]huffTable // [class][id]; class 0 DC, 1 AC
	useHuff [2][4]*huffTable
	// dhtCache holds the last DHT segment bodies seen, so a camera that sends
	// the same tables with every frame does not rebuild them.
	dhtCache [2][4][]byte

	width, height int
	ncomp         int
	comp          [3]jpegComp
	hmax, vmax    int
	restart       int
	mcuX, mcuY    int

	// n is the output size of one luma block side: 1, 2 or 4 (scale 1/8,
	// 1/4, 1/2).
	n int
	// blk holds the dequantised coefficients of the block being decoded
	// that its component keeps, row-major; slot 64 catches the rest.
	blk [65]int32
	// hasAC: the block has a kept AC coefficient (else it is flat).
	hasAC bool
	// coefMode: decodeScan keeps each block's nx x ny low-frequency
	// coefficients in comp.coef (the caller set each comp's block size)
	// instead of box means in comp.plane.
	coefMode bool

	// Entropy-coded data and the bit reader: acc holds nbits valid bits,
	// MSB first; fake counts the zero bytes fed past a marker or the end.
	data   []byte
	pos    int
	acc    uint64
	nbits  uint
	fake   int
	marker bool

	// ubuf, in coefficient mode: the entropy-coded data of one restart
	// interval without its stuffing (ulen bytes), then ubufPad zeros.
	ubuf []byte
	ulen int
}

// defaultHuff is the Annex K.3 table set MJPEG frames without DHT assume.
var defaultHuff = func() *[2][4]huffTable {
	var d jpegDecoder
	if err := d.parseDHT(annexKDHT[4:], false); err != nil {
		panic(err) // the built-in tables are valid
	}
	// A scan may name a table no DHT defined. Those are built empty, so
	// every code in them is invalid (errHuffCode), rather than left zero,
	// where a skip entry that advances nothing would never end a block.
	for c := range d.huff {
		for i := range d.huff[c] {
			if d.useHuff[c][i] == nil {
				if err := d.huff[c][i].build(&[16]uint8{}, nil, c == 1); err != nil {
					panic(err)
				}
			}
		}
	}
	return &d.huff
}()

// boxW[l][u][m] (Q13) is the weight of frequency u in output sample m when
// a block yields 1<<l samples per side: the mean of the orthonormal 8-point
// IDCT basis, C(u)/2 * cos((2j+1)uπ/16) with C(0) = 1/√2, over the 8>>l
// source pixels j that sample covers, so each sample is its box's mean as
// far as the kept frequencies (u < 1<<l) go.
var boxW = func() (w [4][8][8]int64) {
	for l := range 4 {
		n := 1 << l
		box := 8 / n
		for u := range n {
			cu := 0.5
			if u == 0 {
				cu = 0.5 / math.Sqrt2
			}
			for m := range n {
				s := 0.0
				for j := m * box; j < (m+1)*box; j++ {
					s += math.Cos(float64(2*j+1) * float64(u) * math.Pi / 16)
				}
				w[l][u][m] = int64(math.Round(cu * s / float64(box) * (1 << 13)))
			}
		}
	}
	return w
}()

func log2n(n int) int {
	switch n {
	case 1:
		return 0
	case 2:
		return 1
	case 4:
		return 2
	}
	return 3
}

// setScale chooses n luma samples per block side (1, 2 or 4).
func (d *jpegDecoder) setScale(n int) { d.n = n }

// setBlockSize prepares component c to yield nx x ny samples per block.
func (c *jpegComp) setBlockSize(nx, ny int) { c.setKept(nx, ny, false) }

// setAreaBlockSize prepares component c for the area path: nx x ny frequencies per block,
// but only those with u+v < max(nx, ny). The dropped corner (the highest frequencies in
// both directions, whose area integrals are products of two small 1-D ones) stays zero.
// It ends the scan's keep phase sooner: a 640x480 centre crop keeps 3 x 3 frequencies, the
// last at zig-zag 12, and the corner rule stops at 5. Against keeping the whole rectangle,
// over TestJPEGReducedMatchesReference's cases worst MAE 0.896 → 0.909 LSB (PSNR ≥ 43.9
// dB), and BenchmarkMJPEGStages' 640x480 decode stage was faster in 4 of 4 interleaved runs
// of the two builds (5–15%).
func (c *jpegComp) setAreaBlockSize(nx, ny int) { c.setKept(nx, ny, true) }

func (c *jpegComp) setKept(nx, ny int, corner bool) {
	if c.nx == nx && c.ny == ny && c.corner == corner {
		return
	}
	c.nx, c.ny, c.kmax, c.corner = nx, ny, 0, corner
	c.cslot = [128]uint8{}
	for k, z := range zigzag {
		r, col := int(z)/8, int(z)%8
		c.slot[k] = 64
		if r < ny && col < nx && (!corner || r+col < max(nx, ny)) {
			c.slot[k] = uint8(r*nx + col)
			c.cslot[k] = c.slot[k]
			c.kmax = k
		}
	}
}

// parseHeaders reads the marker segments up to the first scan and leaves
// d.pos at the start of its entropy-coded data.
func (d *jpegDecoder) parseHeaders(data []byte) error {
	d.data, d.pos = data, 0
	d.width, d.height, d.ncomp, d.restart = 0, 0, 0, 0
	d.haveQ = [4]bool{}
	for c := range 2 {
		for i := range 4 {
			d.useHuff[c][i] = &defaultHuff[c][i]
		}
	}
	if len(data) < 4 || data[0] != 0xFF || data[1] != mSOI {
		return fmt.Errorf("%w: missing SOI marker", ErrNotJPEG)
	}
	pos := 2
	for {
		if pos >= len(data) || data[pos] != 0xFF {
			return fmt.Errorf("%w: expected a marker at offset %d", ErrDecode, pos)
		}
		for pos < len(data) && data[pos] == 0xFF {
			pos++
		}
		if pos >= len(data) {
			return fmt.Errorf("%w: truncated before the first scan", ErrDecode)
		}
		m := data[pos]
		pos++
		if m == 0x01 || (m >= mRST0 && m <= mRST0+7) {
			continue
		}
		if m == mEOI {
			return fmt.Errorf("%w: EOI before any scan", ErrDecode)
		}
		if pos+2 > len(data) {
			return fmt.Errorf("%w: truncated segment length at offset %d", ErrDecode, pos)
		}
		n := int(data[pos])<<8 | int(data[pos+1])
		if n < 2 || pos+n > len(data) {
			return fmt.Errorf("%w: segment 0xFF%02X of length %d overruns the %d-byte frame", ErrDecode, m, n, len(data))
		}
		body := data[pos+2 : pos+n]
		pos += n
		var err error
		switch {
		case m == mDQT:
			err = d.parseDQT(body)
		case m == mDHT:
			err = d.parseDHT(body, true)
		case m == mDRI:
			if len(body) != 2 {
				return fmt.Errorf("%w: DRI of %d bytes", ErrDecode, len(body))
			}
			d.restart = int(body[0])<<8 | int(body[1])
		case m == mSOF0 || m == mSOF1:
			err = d.parseSOF(body)
		case m >= 0xC0 && m <= 0xCF && m != mDHT && m != 0xC8 && m != 0xCC:
			return fmt.Errorf("%w: frame type SOF%d", errJPEGUnsupported, m-0xC0)
		case m == 0xCC: // DAC: arithmetic coding conditioning
			return fmt.Errorf("%w: arithmetic coding", errJPEGUnsupported)
		case m == mSOS:
			if d.ncomp == 0 {
				return fmt.Errorf("%w: scan before a frame header (SOF)", ErrDecode)
			}
			if err := d.parseSOS(body); err != nil {
				return err
			}
			d.pos = pos
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (d *jpegDecoder) parseDQT(b []byte) error {
	for len(b) > 0 {
		pq, tq := b[0]>>4, int(b[0]&15)
		if tq > 3 || pq > 1 {
			return fmt.Errorf("%w: DQT table %d precision %d", ErrDecode, tq, pq)
		}
		size := 64 << pq
		if len(b) < 1+size {
			return fmt.Errorf("%w: DQT table %d truncated", ErrDecode, tq)
		}
		for k := range 64 {
			if pq == 0 {
				d.quant[tq][k] = int32(b[1+k])
			} else {
				d.quant[tq][k] = int32(b[1+2*k])<<8 | int32(b[2+2*k])
			}
		}
		d.haveQ[tq] = true
		b = b[1+size:]
	}
	return nil
}

// parseDHT builds the tables in b; cache skips tables identical to the
// last ones built in the same slot.
func (d *jpegDecoder) parseDHT(b []byte, cache bool) error {
	for len(b) > 0 {
		if len(b) < 17 {
			return fmt.Errorf("%w: DHT truncated", ErrDecode)
		}
		tc, th := int(b[0]>>4), int(b[0]&15)
		if tc > 1 || th > 3 {
			return fmt.Errorf("%w: DHT class %d id %d", ErrDecode, tc, th)
		}
		var counts [16]uint8
		copy(counts[:], b[1:17])
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if total > 256 || len(b) < 17+total {
			return fmt.Errorf("%w: DHT with %d symbols in %d bytes", ErrDecode, total, len(b))
		}
		seg := b[:17+total]
		t := &d.huff[tc][th]
		if !cache || string(d.dhtCache[tc][th]) != string(seg) {
			if cache {
				d.dhtCache[tc][th] = d.dhtCache[tc][th][:0] // invalid until built
			}
			if err := t.build(&counts, seg[17:], tc == 1); err != nil {
				return err
			}
			if cache {
				d.dhtCache[tc][th] = append(d.dhtCache[tc][th], seg...)
			}
		}
		d.useHuff[tc][th] = t
		b = b[17+total:]
	}
	return nil
}

func (d *jpegDecoder) parseSOF(b []byte) error {
	if len(b) < 6 {
		return fmt.Errorf("%w: frame header of %d bytes", ErrDecode, len(b))
	}
	if b[0] != 8 {
		return fmt.Errorf("%w: %d-bit samples", errJPEGUnsupported, b[0])
	}
	d.height = int(b[1])<<8 | int(b[2])
	d.width = int(b[3])<<8 | int(b[4])
	nc := int(b[5])
	if nc != 1 && nc != 3 {
		return fmt.Errorf("%w: %d components", errJPEGUnsupported, nc)
	}
	if len(b) != 6+3*nc {
		return fmt.Errorf("%w: frame header of %d bytes for %d components", ErrDecode, len(b), nc)
	}
	if d.width == 0 || d.height == 0 {
		return fmt.Errorf("%w: frame size %dx%d", ErrDecode, d.width, d.height)
	}
	if d.width > jpegMaxSide || d.height > jpegMaxSide {
		return fmt.Errorf("%w: %dx%d is larger than %d", errJPEGUnsupported, d.width, d.height, jpegMaxSide)
	}
	d.ncomp = nc
	d.hmax, d.vmax = 1, 1
	for i := range nc {
		c := &d.comp[i]
		c.id = b[6+3*i]
		c.h, c.v = int(b[7+3*i]>>4), int(b[7+3*i]&15)
		c.tq = int(b[8+3*i])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return fmt.Errorf("%w: component %d sampling %dx%d table %d", ErrDecode, c.id, c.h, c.v, c.tq)
		}
		if nc == 1 { // a single component is never interleaved: 1 block per MCU
			c.h, c.v = 1, 1
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	if nc == 3 {
		// Luma may be subsampled more finely than chroma by 1, 2 or 4 across
		// and 1 or 2 down; both chroma planes alike. Anything else is rare
		// enough to leave to image/jpeg.
		y, cb, cr := d.comp[0], d.comp[1], d.comp[2]
		if cb.h != cr.h || cb.v != cr.v || y.h != d.hmax || y.v != d.vmax ||
			y.h%cb.h != 0 || y.v%cb.v != 0 || chromaShift(y.h/cb.h) < 0 || y.v/cb.v > 2 {
			return fmt.Errorf("%w: sampling factors %dx%d, %dx%d, %dx%d", errJPEGUnsupported, y.h, y.v, cb.h, cb.v, cr.h, cr.v)
		}
	}
	d.mcuX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcuY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	for i := range nc {
		c := &d.comp[i]
		c.bw, c.bh = d.mcuX*c.h, d.mcuY*c.v
	}
	return nil
}

// chromaShift is log2 of a subsampling ratio of 1, 2 or 4; -1 otherwise.
func chromaShift(r int) int {
	switch r {
	case 1:
		return 0
	case 2:
		return 1
	case 4:
		return 2
	}
	return -1
}

func (d *jpegDecoder) parseSOS(b []byte) error {
	if len(b) < 1 {
		return fmt.Errorf("%w: empty scan header", ErrDecode)
	}
	ns := int(b[0])
	if len(b) != 4+2*ns {
		return fmt.Errorf("%w: scan header of %d bytes for %d components", ErrDecode, len(b), ns)
	}
	if ns != d.ncomp {
		return fmt.Errorf("%w: scan with %d of %d components", errJPEGUnsupported, ns, d.ncomp)
	}
	for i := range ns {
		// Components must come in frame order (T.81 B.2.3), which lets the
		// MCU loop walk d.comp.
		if b[1+2*i] != d.comp[i].id {
			return fmt.Errorf("%w: scan component %d is not frame component %d", ErrDecode, b[1+2*i], d.comp[i].id)
		}
		td, ta := int(b[2+2*i]>>4), int(b[2+2*i]&15)
		if td > 3 || ta > 3 {
			return fmt.Errorf("%w: scan Huffman tables %d/%d", ErrDecode, td, ta)
		}
		d.comp[i].td, d.comp[i].ta = td, ta
		if !d.haveQ[d.comp[i].tq] {
			return fmt.Errorf("%w: quantisation table %d not defined", ErrDecode, d.comp[i].tq)
		}
	}
	ss, se, a := b[1+2*ns], b[2+2*ns], b[3+2*ns]
	if ss != 0 || se != 63 || a != 0 {
		return fmt.Errorf("%w: spectral selection %d..%d, approximation %#x", errJPEGUnsupported, ss, se, a)
	}
	return nil
}

// allocPlanes sizes the component planes for scale n, reusing their
// memory. Subsampled chroma yields more samples per block (up to 8), so
// every plane has about the luma plane's reduced resolution.
func (d *jpegDecoder) allocPlanes() {
	for i := range d.ncomp {
		c := &d.comp[i]
		if d.coefMode {
			// Room for 256 past the end lets the scan address every
			// block as a [256]int32 without a bounds check per store.
			need := c.bw * c.bh * c.nx * c.ny
			if cap(c.coef) < need+256 {
				c.coef = make([]int32, need, need+256)
			}
			c.coef = c.coef[:need]
			continue
		}
		c.setBlockSize(min(8, d.n*d.hmax/c.h), min(8, d.n*d.vmax/c.v))
		c.stride = c.bw * c.nx
		need := c.stride * c.bh * c.ny
		if cap(c.plane) < need {
			c.plane = make([]uint8, need)
		}
		c.plane = c.plane[:need]
	}
}

// Errors of the entropy-coded data; returned wrapped in ErrDecode.
var (
	errHuffCode  = errors.New("invalid Huffman code")
	errCoefIndex = errors.New("coefficient index past 63")
	errTruncated = errors.New("entropy-coded data truncated or cut by a marker")
)

// decodeScan decodes every MCU of the scan into the planes.
func (d *jpegDecoder) decodeScan() error {
	d.acc, d.nbits, d.fake, d.marker = 0, 0, 0, false
	for i := range d.ncomp {
		d.comp[i].pred = 0
	}
	// Every block costs at least two bits (a DC and an EOB code), so a frame
	// whose data cannot hold its blocks is refused before any work.
	blocks := 0
	for i := range d.ncomp {
		blocks += d.comp[i].h * d.comp[i].v
	}
	if need := d.mcuX * d.mcuY * blocks / 4; len(d.data)-d.pos < need {
		return fmt.Errorf("%w: %d bytes of scan data for %d blocks", ErrDecode, len(d.data)-d.pos, d.mcuX*d.mcuY*blocks)
	}
	d.allocPlanes()
	// A block cut short by an error in the last frame leaves coefficients
	// behind.
	d.blk = [65]int32{}
	if d.coefMode {
		return d.decodeScanCoef()
	}
	left := d.restart
	rst := 0
	// The bit buffer lives in locals (registers) through the loop; d.acc
	// and d.nbits are only current around nextRestart and refillSlow.
	acc, nb := d.acc, d.nbits
	for my := range d.mcuY {
		for mx := range d.mcuX {
			if d.restart > 0 {
				if left == 0 {
					d.acc, d.nbits = acc, nb
					if err := d.nextRestart(rst); err != nil {
						return err
					}
					acc, nb = d.acc, d.nbits
					rst = (rst + 1) & 7
					left = d.restart
				}
				left--
			}
			for ci := range d.ncomp {
				c := &d.comp[ci]
				dc, ac := d.useHuff[0][c.td], d.useHuff[1][c.ta]
				q := &d.quant[c.tq]
				one := c.nx == 1 && c.ny == 1 // DC only: one sample per block
				for by := range c.v {
					row := ((my*c.v + by) * c.ny) * c.stride
					for bx := range c.h {
						var err error
						if acc, nb, err = d.decodeBlock(c, dc, ac, q, acc, nb); err != nil {
							return fmt.Errorf("%w: MCU (%d,%d): %w", ErrDecode, mx, my, err)
						}
						at := row + (mx*c.h+bx)*c.nx
						if one {
							c.plane[at] = clampByte((d.blk[0]+4)>>3 + 128)
							d.blk[0] = 0
							continue
						}
						d.storeBlock(c, c.plane[at:])
					}
				}
			}
		}
		// Bound the time a truncated frame costs: stop once the reader is
		// well past the data.
		if d.fake > 64 {
			return fmt.Errorf("%w: %w (MCU row %d of %d)", ErrDecode, errTruncated, my, d.mcuY)
		}
	}
	d.acc, d.nbits = acc, nb
	if d.fake*8 > int(d.nbits) {
		return fmt.Errorf("%w: %w", ErrDecode, errTruncated)
	}
	return nil
}

// nextRestart checks that the interval just decoded ended inside its data,
// then finds the RSTn marker that must follow and resets the predictors.
func (d *jpegDecoder) nextRestart(rst int) error {
	if d.fake*8 > int(d.nbits) {
		return fmt.Errorf("%w: restart interval %w", ErrDecode, errTruncated)
	}
	// Skip what is left of the last byte (and, leniently, any bytes up to
	// the marker, as libjpeg does).
	p := d.pos
	for p+1 < len(d.data) && (d.data[p] != 0xFF || d.data[p+1] == 0 || d.data[p+1] == 0xFF) {
		p++
	}
	if p+1 >= len(d.data) || d.data[p+1] != byte(mRST0+rst) {
		got := -1
		if p+1 < len(d.data) {
			got = int(d.data[p+1])
		}
		return fmt.Errorf("%w: expected RST%d at offset %d, found marker %#x", ErrDecode, rst, p, got)
	}
	d.pos = p + 2
	d.acc, d.nbits, d.fake, d.marker = 0, 0, 0, false
	for i := range d.ncomp {
		d.comp[i].pred = 0
	}
	return nil
}

// refill tops the bit buffer up to at least 57 bits. The fast path loads
// eight bytes at once when none is 0xFF (no stuffing, no marker).
func (d *jpegDecoder) refill() {
	if d.pos+8 <= len(d.data) {
		v := binary.BigEndian.Uint64(d.data[d.pos:])
		const lo, hi = 0x0101010101010101, 0x8080808080808080
		if (^v-lo)&v&hi == 0 { // no byte of v is 0xFF
			// Whole bytes only count; the partial one below them is the
			// next byte's own bits, so OR-ing it in again later is harmless.
			d.acc |= v >> d.nbits
			k := (63 - d.nbits) >> 3
			d.pos += int(k)
			d.nbits += k << 3
			return
		}
	}
	d.refillSlow()
}

// refillSlow feeds bytes one at a time, unstuffing 0xFF00. At a marker or
// the end of the data it feeds zeros and counts them in d.fake.
func (d *jpegDecoder) refillSlow() {
	if d.nbits < 64 {
		d.acc &^= ^uint64(0) >> d.nbits
	}
	for d.nbits <= 56 {
		var b byte
		switch {
		case d.marker || d.pos >= len(d.data):
			d.fake++
		case d.data[d.pos] != 0xFF:
			b = d.data[d.pos]
			d.pos++
		case d.pos+1 < len(d.data) && d.data[d.pos+1] == 0:
			b = 0xFF
			d.pos += 2
		default: // a marker: the scan's data ends here
			d.marker = true
			d.fake++
		}
		d.acc |= uint64(b) << (56 - d.nbits)
		d.nbits += 8
	}
}

// decodeSlow decodes a symbol whose code is longer than lookBits.
func (t *huffTable) decodeSlow(acc uint64) (sym int32, l uint, ok bool) {
	for l := uint(lookBits + 1); l <= 16; l++ {
		code := int32(acc >> (64 - l))
		if code <= t.maxCode[l] {
			i := t.valOff[l] + code
			if i < 0 || i > 255 {
				return 0, 0, false
			}
			return int32(t.vals[i]), l, true
		}
	}
	return 0, 0, false
}

// decodeBlock Huffman-decodes one 8x8 block, keeping the dequantised
// coefficients that fall in the n x n corner in d.blk. It reads in two
// phases: one coefficient per lookup while a kept one may still come
// (k ≤ kmax), then whole runs of dropped coefficients per skip lookup.
//
// The bit buffer comes in and goes out by value so that it stays in
// registers from block to block.
func (d *jpegDecoder) decodeBlock(c *jpegComp, dc, ac *huffTable, q *[64]int32, acc uint64, nb uint) (uint64, uint, error) {
	if nb < 32 {
		d.acc, d.nbits = acc, nb
		d.refill()
		acc, nb = d.acc, d.nbits
	}
	// DC: category, then that many bits of difference.
	if e := dc.dcFast[acc>>(64-lookBits)]; e != 0 {
		l := uint(e & 0xFF)
		acc <<= l
		nb -= l
		c.pred += e >> 8
	} else {
		var s int32
		var l uint
		if e := dc.look[acc>>(64-lookBits)]; e != 0 {
			s, l = int32(e&0xFF), uint(e>>8)
		} else {
			var ok bool
			if s, l, ok = dc.decodeSlow(acc); !ok {
				return acc, nb, errHuffCode
			}
		}
		acc <<= l
		nb -= l
		if s > 11 {
			return acc, nb, fmt.Errorf("DC difference of %d bits", s)
		}
		if s > 0 {
			v := extend(int32(acc>>(64-uint(s))), s)
			acc <<= uint(s)
			nb -= uint(s)
			c.pred += v
		}
	}
	blk := &d.blk
	blk[0] = c.pred * q[0]
	kmax, slot := c.kmax, &c.slot
	data := d.data
	ac0 := false // a kept AC coefficient was stored
	// k is the index of the next coefficient (T.81 F.2.2.2's K+1).
	k := 1
	for k <= kmax {
		if nb < 32 {
			// refill's fast path, inlined by hand (the compiler will not).
			ok := false
			if p := d.pos; p+8 <= len(data) {
				v := binary.BigEndian.Uint64(data[p:])
				const lo, hi = 0x0101010101010101, 0x8080808080808080
				if (^v-lo)&v&hi == 0 {
					acc |= v >> nb
					n := (63 - nb) >> 3
					d.pos = p + int(n)
					nb += n << 3
					ok = true
				}
			}
			if !ok {
				d.acc, d.nbits = acc, nb
				d.refillSlow()
				acc, nb = d.acc, d.nbits
			}
		}
		if e := ac.fast[acc>>(64-lookBits)]; e != 0 {
			l := uint(e & fastLen)
			acc <<= l
			nb -= l
			if e&fastEOB != 0 {
				goto done
			}
			k += int(e>>8) & 15
			if k > 63 {
				return acc, nb, errCoefIndex
			}
			if k <= kmax {
				blk[slot[k]] = (e >> 16) * q[k]
				ac0 = true
			}
			k++
			continue
		}
		var rs int32
		var l uint
		if e := ac.look[acc>>(64-lookBits)]; e != 0 {
			rs, l = int32(e&0xFF), uint(e>>8)
		} else {
			var ok bool
			if rs, l, ok = ac.decodeSlow(acc); !ok {
				return acc, nb, errHuffCode
			}
		}
		acc <<= l
		nb -= l
		run, size := int(rs>>4), rs&15
		if size == 0 {
			if run != 15 {
				goto done
			}
			k += 16
			continue
		}
		k += run
		if k > 63 {
			return acc, nb, errCoefIndex
		}
		v := extend(int32(acc>>(64-uint(size))), size)
		acc <<= uint(size)
		nb -= uint(size)
		if k <= kmax {
			blk[slot[k]] = v * q[k]
			ac0 = true
		}
		k++
	}
	// The rest is dropped: only its length matters.
	for k < 64 {
		if nb < 32 {
			ok := false
			if p := d.pos; p+8 <= len(data) {
				v := binary.BigEndian.Uint64(data[p:])
				const lo, hi = 0x0101010101010101, 0x8080808080808080
				if (^v-lo)&v&hi == 0 {
					acc |= v >> nb
					n := (63 - nb) >> 3
					d.pos = p + int(n)
					nb += n << 3
					ok = true
				}
			}
			if !ok {
				d.acc, d.nbits = acc, nb
				d.refillSlow()
				acc, nb = d.acc, d.nbits
			}
		}
		// A whole entry applies when it cannot run past coefficient 63
		// (nor read an EOB after it, which would be the next block's DC):
		// an EOB counts one more in the advance, and an entry that decodes
		// nothing advances by skipNone, so one comparison checks all.
		e := ac.skip[acc>>(64-skipBits)]
		if nk := k + int(e>>skipAdvShift&skipAdvMask); nk <= 64 {
			l := uint(e & skipLen)
			acc <<= l
			nb -= l
			if e&skipEOB != 0 {
				goto done
			}
			k = nk
			continue
		}
		// One coefficient at a time, as in the first phase.
		if e := ac.fast[acc>>(64-lookBits)]; e != 0 {
			l := uint(e & fastLen)
			acc <<= l
			nb -= l
			if e&fastEOB != 0 {
				goto done
			}
			k += int(e>>8) & 15
			if k > 63 {
				return acc, nb, errCoefIndex
			}
			k++
			continue
		}
		var rs int32
		var l uint
		if e := ac.look[acc>>(64-lookBits)]; e != 0 {
			rs, l = int32(e&0xFF), uint(e>>8)
		} else {
			var ok bool
			if rs, l, ok = ac.decodeSlow(acc); !ok {
				return acc, nb, errHuffCode
			}
		}
		acc <<= l
		nb -= l
		run, size := int(rs>>4), uint(rs&15)
		if size == 0 {
			if run != 15 {
				goto done
			}
			k += 16
			continue
		}
		k += run
		if k > 63 {
			return acc, nb, errCoefIndex
		}
		acc <<= size
		nb -= size
		k++
	}
done:
	d.hasAC = ac0
	return acc, nb, nil
}

// storeBlock writes the nx x ny samples of the block in d.blk at dst (rows
// c.stride apart) and clears d.blk for the next block.
func (d *jpegDecoder) storeBlock(c *jpegComp, dst []uint8) {
	blk := &d.blk
	stride := c.stride
	const half = 1 << 25 // two Q13 stages
	if c.nx == 1 && c.ny == 1 {
		dst[0] = clampByte((blk[0]+4)>>3 + 128)
		blk[0] = 0
		return
	}
	if !d.hasAC { // flat block: every sample is the DC mean
		v := clampByte((blk[0]+4)>>3 + 128)
		for r := range c.ny {
			row := dst[r*stride : r*stride+c.nx]
			for i := range row {
				row[i] = v
			}
		}
		blk[0], blk[64] = 0, 0
		return
	}
	if c.nx == 2 && c.ny == 2 {
		w := &boxW[1]
		t00 := int64(blk[0])*w[0][0] + int64(blk[1])*w[1][0]
		t01 := int64(blk[0])*w[0][1] + int64(blk[1])*w[1][1]
		t10 := int64(blk[2])*w[0][0] + int64(blk[3])*w[1][0]
		t11 := int64(blk[2])*w[0][1] + int64(blk[3])*w[1][1]
		dst[0] = clampByte(int32((t00*w[0][0]+t10*w[1][0]+half)>>26) + 128)
		dst[1] = clampByte(int32((t01*w[0][0]+t11*w[1][0]+half)>>26) + 128)
		r := dst[stride:]
		r[0] = clampByte(int32((t00*w[0][1]+t10*w[1][1]+half)>>26) + 128)
		r[1] = clampByte(int32((t01*w[0][1]+t11*w[1][1]+half)>>26) + 128)
		blk[0], blk[1], blk[2], blk[3], blk[64] = 0, 0, 0, 0, 0
		return
	}
	if c.nx == 4 && c.ny == 4 {
		b := (*[16]int32)(blk[:16])
		w := &boxW[2]
		var t [4][4]int64
		for v := range 4 {
			f0, f1, f2, f3 := int64(b[4*v]), int64(b[4*v+1]), int64(b[4*v+2]), int64(b[4*v+3])
			for m := range 4 {
				t[v][m] = f0*w[0][m] + f1*w[1][m] + f2*w[2][m] + f3*w[3][m]
			}
		}
		for r := range 4 {
			out := (*[4]uint8)(dst[r*stride:])
			w0, w1, w2, w3 := w[0][r], w[1][r], w[2][r], w[3][r]
			for m := range 4 {
				s := t[0][m]*w0 + t[1][m]*w1 + t[2][m]*w2 + t[3][m]*w3
				out[m] = clampByte(int32((s+half)>>26) + 128)
			}
		}
		*b = [16]int32{}
		blk[64] = 0
		return
	}
	// Separable: each row of frequencies across, then down the columns.
	nx, ny := c.nx, c.ny
	wx, wy := &boxW[log2n(nx)], &boxW[log2n(ny)]
	var t [8][8]int64 // t[v][m]
	for v := range ny {
		row := blk[v*nx : v*nx+nx]
		for m := range nx {
			var s int64
			for u, f := range row {
				s += int64(f) * wx[u][m]
			}
			t[v][m] = s
		}
	}
	for r := range ny {
		out := dst[r*stride : r*stride+nx]
		for m := range out {
			var s int64
			for v := range ny {
				s += t[v][m] * wy[v][r]
			}
			out[m] = clampByte(int32((s+half)>>26) + 128)
		}
	}
	clear(blk[:nx*ny])
	blk[64] = 0
}

func clampByte(v int32) uint8 { return uint8(max(0, min(v, 255))) }
