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
// so a refill is one load with no 0xFF test and no fallback. Each phase of
// a block is its own small function on purpose: with few live values the
// bit buffer, the coefficient index and the table entry stay in registers,
// where one big loop spilled them to the stack and put a store and a
// reload on every lookup's dependency chain.

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

// fill tops acc up to at least 56 bits from the unstuffed data: the bits
// below the nb valid ones are either zero or the next byte's own, so
// OR-ing them in again is harmless. pos stops at limit, inside the zero
// padding, where every load reads zeros anyway. Callers fill only below 32
// bits (enough for any one code and its extra bits): filling before every
// lookup measured slower, as it puts a load on the lookup chain.
func fill(buf []byte, acc uint64, nb uint, pos, limit int) (uint64, uint, int) {
	acc |= binary.BigEndian.Uint64(buf[pos:]) >> nb
	pos += int((63 - nb) >> 3)
	return acc, nb | 56, min(pos, limit)
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
)

// keepAC decodes the coefficients from k on while kept ones may come
// (k <= c.kmax), into cw at their places (c.cslot), and returns the next
// k. Every code up to lookBits long decodes the same way, magnitude bits
// taken out without a branch on their length (two symbols per fill: each
// takes at most lookBits+15 bits), so the only branches per symbol are
// the end of the block and of the keep phase. A coefficient that is not
// kept is written to cw[0], which the caller fills with the DC after, and
// one that lands past 63 is an error found at the end (k > 64).
func (d *jpegDecoder) keepAC(t *huffTable, c *jpegComp, q *[64]int32, cw []int32, acc uint64, nb uint, pos, k int) (uint64, uint, int, int, blockEnd) {
	buf, limit := d.ubuf, d.ulen+ubufPad-8
	kmax := c.kmax
	for k <= kmax {
		acc, nb, pos = fill(buf, acc, nb, pos, limit)
		for range 2 {
			e := t.sym[acc>>(64-lookBits)]
			if e == 0 {
				var end blockEnd
				if acc, nb, pos, k, end = d.keepSlow(t, c, q, cw, acc, nb, pos, k); end != endMore {
					return acc, nb, pos, k, end
				}
				break
			}
			v := symValue(acc, e)
			tot := uint(e & symTot)
			acc <<= tot
			nb -= tot
			if e&symEOB != 0 {
				return acc, nb, pos, k, endEOB
			}
			k += int(e>>symRunShift) & 15
			cw[c.cslot[k&127]] = v * q[k&63]
			k++
			if k > kmax {
				break
			}
		}
	}
	if k > 64 {
		return acc, nb, pos, k, endIndex
	}
	return acc, nb, pos, k, endMore
}

// symValue is the signed coefficient (T.81 F.2.2.1's EXTEND) whose sym
// entry e is at the top of acc: the extra bits rotated down to the bottom
// and masked, less the mask when their top bit is 0. Zero when the size is.
func symValue(acc uint64, e uint32) int32 {
	mask := int32(e >> symMaskShift)
	neg := int32(int64(acc<<(uint(e>>symLenShift)&15)) >> 63) // -1: top extra bit set
	return int32(bits.RotateLeft64(acc, int(e&symTot)))&mask - mask&^neg
}

// keepSlow is keepAC for a code longer than lookBits: it reads one symbol
// (or fails), as decodeBlockRef's slow path does. A long ZRL that runs
// past 63 ends the block, as there.
func (d *jpegDecoder) keepSlow(t *huffTable, c *jpegComp, q *[64]int32, cw []int32, acc uint64, nb uint, pos, k int) (uint64, uint, int, int, blockEnd) {
	if nb < 32 {
		acc, nb, pos = fill(d.ubuf, acc, nb, pos, d.ulen+ubufPad-8)
	}
	rs, l, ok := t.decodeSlow(acc)
	if !ok {
		return acc, nb, pos, k, endHuff
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
	cw[c.cslot[k]] = extend(int32(acc>>(64-size)), int32(size)) * q[k]
	acc <<= size
	nb -= size
	return acc, nb, pos, k + 1, endMore
}

// skipAC reads the rest of a block, from coefficient k on, where nothing
// is kept: whole skip-table entries (several coefficients each) where they
// fit, one coefficient at a time where they do not.
func (d *jpegDecoder) skipAC(ac *huffTable, acc uint64, nb uint, pos, k int) (uint64, uint, int, blockEnd) {
	buf, limit := d.ubuf, d.ulen+ubufPad-8
	for k < 64 {
		// One refill, then up to four whole entries (13 bits at most
		// each): a fixed cadence, where refilling when short of bits
		// mispredicted about once per block.
		acc, nb, pos = fill(buf, acc, nb, pos, limit)
		n := 0
		for ; n < 4; n++ {
			// A whole entry applies when it cannot run past coefficient
			// 63 (nor read an EOB after it, which would be the next
			// block's DC): an EOB counts one more in the advance, and an
			// entry that decodes nothing advances by skipNone, so one
			// comparison checks all.
			e := ac.skip[acc>>(64-skipBits)]
			nk := k + int(e>>4&0x7FF)
			if nk > 64 {
				break
			}
			l := uint(e & skipLen)
			acc <<= l
			nb -= l
			if e&skipEOB != 0 {
				return acc, nb, pos, endEOB
			}
			k = nk
		}
		if n == 4 || k >= 64 {
			continue
		}
		// One coefficient at a time (up to 31 bits: refilled above).
		if nb < 32 {
			acc, nb, pos = fill(buf, acc, nb, pos, limit)
		}
		if e := ac.fast[acc>>(64-lookBits)]; e != 0 {
			l := uint(e & fastLen)
			acc <<= l
			nb -= l
			if e&fastEOB != 0 {
				return acc, nb, pos, endEOB
			}
			k += int(e>>8)&15 + 1
		} else {
			run, size, l, ok := ac.decodeACSlow(acc)
			if !ok {
				return acc, nb, pos, endHuff
			}
			acc <<= l + size
			nb -= l + size
			if size == 0 {
				if run != 15 {
					return acc, nb, pos, endEOB
				}
				// A long ZRL code may end the block past 63, as
				// decodeBlock allows.
				k += 16
				continue
			}
			k += run + 1
		}
		if k > 64 {
			return acc, nb, pos, endIndex
		}
	}
	return acc, nb, pos, endEOB
}

// decodeScanCoef is decodeScan in coefficient mode, after its checks and
// allocPlanes. Its bit reader (acc, nb valid bits, pos in d.ubuf) starts
// empty at each restart interval; pos*8-nb is the bits read so far.
func (d *jpegDecoder) decodeScanCoef() error {
	// Blocks only store the coefficients they have; one clear per frame is
	// cheaper than one per block.
	for i := range d.ncomp {
		if c := &d.comp[i]; c.nx*c.ny > 1 {
			clear(c.coef)
		}
	}
	d.unstuff()
	buf, limit := d.ubuf, d.ulen+ubufPad-8
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
					buf, limit = d.ubuf, d.ulen+ubufPad-8
					acc, nb, pos = 0, 0, 0
					rst = (rst + 1) & 7
					left = d.restart
				}
				left--
			}
			for ci := range d.ncomp {
				c := &d.comp[ci]
				dc, ac := d.useHuff[0][c.td], d.useHuff[1][c.ta]
				q := &d.quant[c.tq]
				kk := c.nx * c.ny
				for by := range c.v {
					at := ((my*c.v+by)*c.bw + mx*c.h) * kk
					for range c.h {
						cw := c.coef[at : at+kk : at+kk]
						at += kk
						acc, nb, pos = fill(buf, acc, nb, pos, limit)
						// DC: category, then that many bits of difference.
						if e := dc.sym[acc>>(64-lookBits)]; e != 0 {
							c.pred += symValue(acc, e)
							tot := uint(e & symTot)
							acc <<= tot
							nb -= tot
						} else {
							v, l, err := dc.decodeDCSlow(acc)
							if err != nil {
								return fmt.Errorf("%w: MCU (%d,%d): %w", ErrDecode, mx, my, err)
							}
							acc <<= l
							nb -= l
							c.pred += v
						}
						// k is the index of the next coefficient (T.81
						// F.2.2.2's K+1).
						k, end := 1, endMore
						if c.kmax > 0 {
							acc, nb, pos, k, end = d.keepAC(ac, c, q, cw, acc, nb, pos, k)
						}
						// After keepAC: coefficients it does not keep land
						// in cw[0].
						cw[0] = c.pred * q[0]
						if end == endMore {
							acc, nb, pos, end = d.skipAC(ac, acc, nb, pos, k)
						}
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
