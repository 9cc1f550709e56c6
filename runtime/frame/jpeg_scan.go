package frame

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// The scan loop of coefficient mode (the Area filter), the path every
// camera frame takes. It decodes the same bits into the same coefficients
// as decodeBlock (TestJPEGCoefScanMatchesRef) and writes each kept one
// straight into its place in comp.coef (no staging block, no copy). The
// entropy-coded data is first copied without its byte stuffing (unstuff),
// so a refill is one load with no 0xFF test and no fallback. Each block is
// one call of its own small function (decodeBlockCoef) whose loops call
// nothing (codes longer than lookBits go back to the scan loop, slowAC):
// with few live values the bit buffer, the coefficient index and the table
// entry stay in registers, where one big loop, or a call inside the loop,
// spilled them to the stack and put a store and a reload on every lookup's
// dependency chain.
//
// Measured with BenchmarkJPEGCoefScanAB and not kept: one branch-free step
// for both phases, choosing the sym or skip entry by k <= kmax (slower at
// every size, 1080p most: a longer chain and more spills); a pair table
// decoding two keep-phase symbols per lookup when both fit 12 bits (1.59
// symbols per step, no faster); all of a component's blocks in an MCU in
// one call (about 0.94x at 1080p); four skip entries per fill, or the
// first AC symbol read with the DC's fill (no faster); lookBits 11,
// skipBits 12 or 14, GOAMD64=v3 (the same within noise). Fewer
// instructions per symbol is what has paid: fewer fills, fewer tests.

// ubufPad is how many zero bytes follow the unstuffed data in ubuf: eight
// for the last load, and enough that the reader, held at the end of the
// padding, is past any point where a frame could still be whole.
const ubufPad = 128

// unstuff copies the entropy-coded bytes from d.data[d.pos:] up to the next
// marker (or the end of the data) into d.ubuf without their stuffing, then
// ubufPad zero bytes, and moves d.pos to the marker. The reader then needs
// no check per refill: the zeros are what refillSlow feeds at a marker.
func (d *jpegDecoder) unstuff() {
	data, p := d.data, d.pos
	// The unstuffed bytes are at most the raw ones. Room for a quarter more
	// than this frame needs keeps the next, slightly larger frames from
	// allocating (MJPEG frame sizes vary with the scene).
	if need := len(data) - p + ubufPad; cap(d.ubuf) < need {
		d.ubuf = make([]byte, 0, need+need/4)
	}
	buf := d.ubuf[:0]
	for {
		i := bytes.IndexByte(data[p:], 0xFF)
		if i < 0 {
			buf = append(buf, data[p:]...)
			p = len(data)
			break
		}
		buf = append(buf, data[p:p+i]...)
		p += i
		if p+1 >= len(data) || data[p+1] != 0 {
			break // a marker, or a lone 0xFF at the end: the data ends
		}
		buf = append(buf, 0xFF)
		p += 2
	}
	d.ulen = len(buf)
	var zeros [ubufPad]byte
	d.ubuf = append(buf, zeros[:]...)
	d.pos = p
}

// fill tops acc up to at least 56 bits from the unstuffed data buf: the
// bits below the nb valid ones are either zero or the next byte's own, so
// OR-ing them in again is harmless. pos stops at len(buf)-8, inside the
// zero padding, where every load reads zeros anyway.
func fill(buf []byte, acc uint64, nb uint, pos int) (uint64, uint, int) {
	// buf[pos:pos+8], not buf[pos:]: a slice of known length needs no
	// masking of its pointer against being empty.
	acc |= binary.BigEndian.Uint64(buf[pos:pos+8]) >> (nb & 63)
	pos += int((63 - nb) >> 3)
	return acc, nb | 56, min(pos, len(buf)-8)
}

// decodeDCSlow decodes a DC difference whose code and extra bits do not fit
// the dcFast table: it returns the difference and the bits it takes.
func (t *huffTable) decodeDCSlow(acc uint64) (int32, uint, error) {
	var s int32
	var l uint
	if e := t.look[acc>>(64-lookBits)]; e != 0 {
		s, l = int32(e&0xFF), uint(e>>8)
	} else {
		var ok bool
		if s, l, ok = t.decodeSlow(acc); !ok {
			return 0, 0, errHuffCode
		}
	}
	if s > 11 {
		return 0, 0, fmt.Errorf("DC difference of %d bits", s)
	}
	if s == 0 {
		return 0, l, nil
	}
	return extend(int32(acc<<l>>(64-uint(s))), s), l + uint(s), nil
}

// decodeACSlow decodes an AC symbol the fast table does not hold: its run
// and size, and the code's length.
func (t *huffTable) decodeACSlow(acc uint64) (run int, size uint, l uint, ok bool) {
	var rs int32
	if e := t.look[acc>>(64-lookBits)]; e != 0 {
		rs, l = int32(e&0xFF), uint(e>>8)
	} else if rs, l, ok = t.decodeSlow(acc); !ok {
		return 0, 0, 0, false
	}
	return int(rs >> 4), uint(rs & 15), l, true
}

// blockEnd is how a phase of decoding a block ended.
type blockEnd uint8

const (
	endMore  blockEnd = iota // the phase is done, the block is not
	endEOB                   // the block is complete
	endHuff                  // errHuffCode
	endIndex                 // errCoefIndex
	endSlow                  // the next code is longer than lookBits
)

// decodeBlockCoef decodes a block of component c into cw from
// coefficient k on (0: the DC first) and returns where it stopped: endEOB
// when the block is complete, or endSlow before a code longer than
// lookBits (k 0: the DC's, for decodeDCSlow; else for slowAC), after
// which the caller calls it again with the k it returned. It leaves
// cw[0], where coefficients that are not kept land, for the caller to
// fill with the DC after.
//
// Each phase is one loop with no call in it, so acc and the rest stay in
// registers (a spilled acc put a store and a reload on every symbol's
// dependency chain); one call per block keeps the scan loop's own state
// from being saved and restored around several.
func decodeBlockCoef(d *jpegDecoder, c *jpegComp, cw *[256]int32, acc uint64, nb uint, pos, k int) (uint64, uint, int, int, blockEnd) {
	if k == 0 {
		acc, nb, pos = fill(d.ubuf, acc, nb, pos)
		// DC: category, then that many bits of difference.
		e := c.dc.sym[acc>>(64-lookBits)]
		if e == 0 {
			return acc, nb, pos, 0, endSlow
		}
		tot := uint(e & symTot)
		c.pred += symExtend(bits.RotateLeft64(acc, int(tot)), e)
		acc <<= tot
		nb -= tot
		k = 1
	}
	// The keep phase, while kept coefficients may come: every code up to
	// lookBits long decodes the same way, magnitude bits taken out without
	// a branch on their length, three symbols per fill (each takes at most
	// symLong bits, longer ones go the slow way), so the only branches per
	// symbol are the end of the block and of the phase. A coefficient that
	// is not kept goes to cw[0], and one past 63 to cw[0] too, an error
	// found once at the end (k > 64).
	sym := &c.ac.sym
	for k <= c.kmax {
		acc, nb, pos = fill(d.ubuf, acc, nb, pos)

		e := sym[acc>>(64-lookBits)]
		tot := uint(e & symTot)
		rot := bits.RotateLeft64(acc, int(tot))
		acc <<= tot
		nb -= tot
		if e&symEOB != 0 {
			return acc, nb, pos, k, symEnd(e)
		}
		k += int(e>>symRunShift) & 15
		cw[c.cslot[k&127]] = symExtend(rot, e) * c.q128[k&127]
		k++
		if k > c.kmax {
			break
		}

		e = sym[acc>>(64-lookBits)]
		tot = uint(e & symTot)
		rot = bits.RotateLeft64(acc, int(tot))
		acc <<= tot
		nb -= tot
		if e&symEOB != 0 {
			return acc, nb, pos, k, symEnd(e)
		}
		k += int(e>>symRunShift) & 15
		cw[c.cslot[k&127]] = symExtend(rot, e) * c.q128[k&127]
		k++
		if k > c.kmax {
			break
		}

		e = sym[acc>>(64-lookBits)]
		tot = uint(e & symTot)
		rot = bits.RotateLeft64(acc, int(tot))
		acc <<= tot
		nb -= tot
		if e&symEOB != 0 {
			return acc, nb, pos, k, symEnd(e)
		}
		k += int(e>>symRunShift) & 15
		cw[c.cslot[k&127]] = symExtend(rot, e) * c.q128[k&127]
		k++
	}
	if k > 64 {
		return acc, nb, pos, k, endIndex
	}
	// The skip phase: skip-table entries (several coefficients each, or
	// one long one) three per fill (skipLong bits at most each), one
	// coefficient at a time where they do not apply.
	skip := &c.ac.skip
	for k < 64 {
		acc, nb, pos = fill(d.ubuf, acc, nb, pos)
		// An entry applies when it cannot run past coefficient 63 (nor
		// read an EOB after it, which would be the next block's DC): an
		// EOB counts one more in the advance, an entry that decodes
		// nothing advances by skipNone, and an EOB entry also by
		// skipEOB>>skipAdvShift here, so one comparison checks all and
		// the loop leaves at an EOB.
		e := skip[acc>>(64-skipBits)]
		if nk := k + int(e>>skipAdvShift); nk <= 64 {
			acc <<= e & skipLen
			nb -= uint(e & skipLen)
			k = nk
			e = skip[acc>>(64-skipBits)]
			if nk := k + int(e>>skipAdvShift); nk <= 64 {
				acc <<= e & skipLen
				nb -= uint(e & skipLen)
				k = nk
				e = skip[acc>>(64-skipBits)]
				if nk := k + int(e>>skipAdvShift); nk <= 64 {
					acc <<= e & skipLen
					nb -= uint(e & skipLen)
					k = nk
					continue
				}
			}
		}
		if e&skipEOB != 0 && k+int(e>>skipAdvShift&skipAdvMask) <= 64 {
			acc <<= e & skipLen
			nb -= uint(e & skipLen)
			return acc, nb, pos, k, endEOB
		}
		if k >= 64 {
			break
		}
		// One coefficient at a time (up to 25 bits).
		if nb < 32 {
			acc, nb, pos = fill(d.ubuf, acc, nb, pos)
		}
		e2 := sym[acc>>(64-lookBits)]
		if e2&symSlow != 0 {
			return acc, nb, pos, k, endSlow
		}
		l := uint(e2 & symTot)
		acc <<= l
		nb -= l
		if e2&symEOB != 0 {
			return acc, nb, pos, k, endEOB
		}
		k += int(e2>>symRunShift)&15 + 1
		if k > 64 {
			return acc, nb, pos, k, endIndex
		}
	}
	return acc, nb, pos, k, endEOB
}

// symEnd is how a block's AC symbols end at an entry with symEOB: at an
// EOB, or before a code longer than lookBits (then the entry's length is
// 0, nothing was read).
func symEnd(e uint32) blockEnd {
	if e&symSlow != 0 {
		return endSlow
	}
	return endEOB
}

// symExtend is the signed coefficient (T.81 F.2.2.1's EXTEND) of sym
// entry e, given acc rotated left by the entry's total length (its extra
// bits at the bottom): the bits under the mask, less the mask when they
// are below half its range. Zero when the size is.
func symExtend(rot uint64, e uint32) int32 {
	mask := int32(e >> symMaskShift)
	u := int32(rot) & mask
	return u - mask&((u-mask>>1-1)>>31)
}

// slowAC reads one AC symbol whose code is longer than lookBits, as
// decodeBlockRef's slow path does: into cw when keep and kept, else
// dropped. A long ZRL that runs past 63 ends the block, as there.
func slowAC(c *jpegComp, cw *[256]int32, buf []byte, acc uint64, nb uint, pos, k int, keep bool) (uint64, uint, int, int, blockEnd) {
	if nb < 32 {
		acc, nb, pos = fill(buf, acc, nb, pos)
	}
	var rs int32
	var l uint
	if e := c.ac.look[acc>>(64-lookBits)]; e != 0 {
		rs, l = int32(e&0xFF), uint(e>>8)
	} else {
		var ok bool
		if rs, l, ok = c.ac.decodeSlow(acc); !ok {
			return acc, nb, pos, k, endHuff
		}
	}
	acc <<= l
	nb -= l
	run, size := int(rs>>4), uint(rs&15)
	if size == 0 {
		if run != 15 {
			return acc, nb, pos, k, endEOB
		}
		return acc, nb, pos, min(k+16, 64), endMore
	}
	k += run
	if k > 63 {
		return acc, nb, pos, k, endIndex
	}
	if keep {
		cw[c.cslot[k]&63] = extend(int32(acc>>(64-size)), int32(size)) * c.q[k]
	}
	acc <<= size
	nb -= size
	return acc, nb, pos, k + 1, endMore
}

// decodeScanCoef is decodeScan in coefficient mode, after its checks and
// allocPlanes. Its bit reader (acc, nb valid bits, pos in d.ubuf) starts
// empty at each restart interval; pos*8-nb is the bits read so far.
func (d *jpegDecoder) decodeScanCoef() error {
	for i := range d.ncomp {
		c := &d.comp[i]
		c.dc, c.ac, c.q = d.useHuff[0][c.td], d.useHuff[1][c.ta], &d.quant[c.tq]
		for k := range c.q128 {
			c.q128[k] = c.q[k&63]
		}
		// Blocks only store the coefficients they have; one clear per
		// frame is cheaper than one per block.
		if c.nx*c.ny > 1 {
			clear(c.coef)
		}
	}
	d.unstuff()
	// kmax per component, restored however the scan ends (blocks outside
	// a component's need lower it while they are decoded).
	var kmax [len(d.comp)]int
	for i := range d.ncomp {
		kmax[i] = d.comp[i].kmax
	}
	defer func() {
		for i := range d.ncomp {
			d.comp[i].kmax = kmax[i]
		}
	}()
	var acc uint64
	var nb uint
	pos := 0
	left, rst := d.restart, 0
	for my := range d.mcuY {
		for mx := range d.mcuX {
			if d.restart > 0 {
				if left == 0 {
					if pos*8-int(nb) > d.ulen*8 {
						return fmt.Errorf("%w: restart interval %w", ErrDecode, errTruncated)
					}
					d.fake, d.nbits = 0, 0 // checked above
					if err := d.nextRestart(rst); err != nil {
						return err
					}
					d.unstuff()
					acc, nb, pos = 0, 0, 0
					rst = (rst + 1) & 7
					left = d.restart
				}
				left--
			}
			for ci := range d.ncomp {
				c := &d.comp[ci]
				kk := c.nx * c.ny
				for by := range c.v {
					at := ((my*c.v+by)*c.bw + mx*c.h) * kk
					for bx := range c.h {
						// allocPlanes leaves room for 256 past the last block.
						cw := (*[256]int32)(c.coef[at : at+256])
						at += kk
						if c.hasNeed {
							// Blocks nothing reads keep their DC only:
							// their AC codes take the skip table.
							x, y := mx*c.h+bx, my*c.v+by
							c.kmax = kmax[ci]
							if x < c.need[0] || x > c.need[1] || y < c.need[2] || y > c.need[3] {
								c.kmax = 0
							}
						}
						k, end := 0, endMore
						for {
							if acc, nb, pos, k, end = decodeBlockCoef(d, c, cw, acc, nb, pos, k); end != endSlow {
								break
							}
							if k == 0 {
								v, l, err := d.useHuff[0][c.td].decodeDCSlow(acc)
								if err != nil {
									return fmt.Errorf("%w: MCU (%d,%d): %w", ErrDecode, mx, my, err)
								}
								acc <<= l
								nb -= l
								c.pred += v
								k = 1
							} else if acc, nb, pos, k, end = slowAC(c, cw, d.ubuf, acc, nb, pos, k, k <= c.kmax); end != endMore {
								break
							}
						}
						// Last: coefficients that are not kept land in
						// cw[0].
						cw[0] = c.pred * c.q[0]
						switch end {
						case endHuff:
							return fmt.Errorf("%w: MCU (%d,%d): %w", ErrDecode, mx, my, errHuffCode)
						case endIndex:
							return fmt.Errorf("%w: MCU (%d,%d): %w", ErrDecode, mx, my, errCoefIndex)
						}
					}
				}
			}
		}
		// Bound the time a truncated frame costs: stop once the reader is
		// well past the data.
		if pos > d.ulen+64 {
			return fmt.Errorf("%w: %w (MCU row %d of %d)", ErrDecode, errTruncated, my, d.mcuY)
		}
	}
	if pos*8-int(nb) > d.ulen*8 {
		return fmt.Errorf("%w: %w", ErrDecode, errTruncated)
	}
	return nil
}
