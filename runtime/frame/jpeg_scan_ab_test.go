package frame

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// The coefficient-mode scan loop as it was before the sym-table rewrite
// (commit a71daee), kept only so BenchmarkJPEGCoefScanAB can time the
// current loop against it call by call, in one process: a shared machine
// slows both alike. Its own helpers carry a V0 suffix.

// fillV0 tops acc up to at least 56 bits from the unstuffed data: the bits
// below the nb valid ones are either zero or the next byte's own, so
// OR-ing them in again is harmless. pos stops at limit, inside the zero
// padding, where every load reads zeros anyway. Callers fillV0 only below 32
// bits (enough for any one code and its extra bits): filling before every
// lookup measured slower, as it puts a load on the lookup chain.
func fillV0(buf []byte, acc uint64, nb uint, pos, limit int) (uint64, uint, int) {
	acc |= binary.BigEndian.Uint64(buf[pos:]) >> nb
	pos += int((63 - nb) >> 3)
	return acc, nb | 56, min(pos, limit)
}

// keepACV0 decodes the coefficients from k on while kept ones may come
// (k <= kmax), one per lookup, into cw at their slots. It returns the
// next k.
func (d *jpegDecoder) keepACV0(ac *huffTable, q *[64]int32, slot *[64]uint8, cw []int32, acc uint64, nb uint, pos, k, kmax int) (uint64, uint, int, int, blockEnd) {
	buf, limit := d.ubuf, d.ulen+ubufPad-8
	for k <= kmax {
		if nb < 32 {
			acc, nb, pos = fillV0(buf, acc, nb, pos, limit)
		}
		var v int32
		if e := ac.fast[acc>>(64-lookBits)]; e != 0 {
			l := uint(e & fastLen)
			acc <<= l
			nb -= l
			if e&fastEOB != 0 {
				return acc, nb, pos, k, endEOB
			}
			k += int(e>>8) & 15
			v = e >> 16
		} else {
			run, size, l, ok := ac.decodeACSlow(acc)
			if !ok {
				return acc, nb, pos, k, endHuff
			}
			acc <<= l
			nb -= l
			if size == 0 {
				if run != 15 {
					return acc, nb, pos, k, endEOB
				}
				k += 16
				continue
			}
			k += run
			if k <= 63 {
				v = extend(int32(acc>>(64-size)), int32(size))
			}
			acc <<= size
			nb -= size
		}
		if k > 63 {
			return acc, nb, pos, k, endIndex
		}
		if k <= kmax {
			if s := int(slot[k&63]); s < len(cw) {
				cw[s] = v * q[k&63]
			}
		}
		k++
	}
	return acc, nb, pos, k, endMore
}

// skipACV0 reads the rest of a block, from coefficient k on, where nothing
// is kept: whole skip-table entries (several coefficients each) where they
// fit, one coefficient at a time where they do not.
func (d *jpegDecoder) skipACV0(ac *huffTable, acc uint64, nb uint, pos, k int) (uint64, uint, int, blockEnd) {
	buf, limit := d.ubuf, d.ulen+ubufPad-8
	for k < 64 {
		// One refill, then up to four whole entries (13 bits at most
		// each): a fixed cadence, where refilling when short of bits
		// mispredicted about once per block.
		acc, nb, pos = fillV0(buf, acc, nb, pos, limit)
		n := 0
		for ; n < 4; n++ {
			// A whole entry applies when it cannot run past coefficient
			// 63 (nor read an EOB after it, which would be the next
			// block's DC): an EOB counts one more in the advance, and an
			// entry that decodes nothing advances by skipNone, so one
			// comparison checks all.
			// Entries longer than skipBits (one coefficient whose
			// extra bits do not fit the window) were skipNone then.
			e := ac.skip[acc>>(64-skipBits)]
			nk := k + int(e>>skipAdvShift&skipAdvMask)
			if nk > 64 || e&skipLen > skipBits {
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
			acc, nb, pos = fillV0(buf, acc, nb, pos, limit)
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

// decodeScanCoefV0 is decodeScan in coefficient mode, after its checks and
// allocPlanes. Its bit reader (acc, nb valid bits, pos in d.ubuf) starts
// empty at each restart interval; pos*8-nb is the bits read so far.
func (d *jpegDecoder) decodeScanCoefV0() error {
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
						acc, nb, pos = fillV0(buf, acc, nb, pos, limit)
						// DC: category, then that many bits of difference.
						if e := dc.dcFast[acc>>(64-lookBits)]; e != 0 {
							l := uint(e & 0xFF)
							acc <<= l
							nb -= l
							c.pred += e >> 8
						} else {
							v, l, err := dc.decodeDCSlow(acc)
							if err != nil {
								return fmt.Errorf("%w: MCU (%d,%d): %w", ErrDecode, mx, my, err)
							}
							acc <<= l
							nb -= l
							c.pred += v
						}
						cw[0] = c.pred * q[0]
						// k is the index of the next coefficient (T.81
						// F.2.2.2's K+1).
						k, end := 1, endMore
						if c.kmax > 0 {
							acc, nb, pos, k, end = d.keepACV0(ac, q, &c.slot, cw, acc, nb, pos, k, c.kmax)
						}
						if end == endMore {
							acc, nb, pos, end = d.skipACV0(ac, acc, nb, pos, k)
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

// BenchmarkJPEGCoefScanAB times decodeScanCoef against the loop before the
// sym-table rewrite (decodeScanCoefV0) on the MJPEGStages frames,
// alternating call by call, thread CPU time (headers included). It checks
// that both keep the same coefficients and reports each one's fastest and
// median call and the ratio of medians.
func BenchmarkJPEGCoefScanAB(b *testing.B) {
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
			d := &p.jpeg.dec
			var want [3][]int32
			for i := range d.ncomp {
				want[i] = slices.Clone(d.comp[i].coef)
			}
			var tNew, tOld []time.Duration
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for b.Loop() {
				for old := range 2 {
					t0 := threadCPU()
					if err := d.parseHeaders(data); err != nil {
						b.Fatal(err)
					}
					d.allocPlanes()
					for i := range d.ncomp {
						d.comp[i].pred = 0
					}
					if old == 1 {
						err = d.decodeScanCoefV0()
					} else {
						err = d.decodeScanCoef()
					}
					dt := threadCPU() - t0
					if err != nil {
						b.Fatal(err)
					}
					for i := range d.ncomp {
						if !slices.Equal(d.comp[i].coef, want[i]) {
							b.Fatalf("old=%d: component %d coefficients differ", old, i)
						}
					}
					if old == 1 {
						tOld = append(tOld, dt)
					} else {
						tNew = append(tNew, dt)
					}
				}
			}
			slices.Sort(tNew)
			slices.Sort(tOld)
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
			b.ReportMetric(us(tNew[0]), "min-µs")
			b.ReportMetric(us(tOld[0]), "old-min-µs")
			b.ReportMetric(us(tNew[len(tNew)/2]), "median-µs")
			b.ReportMetric(us(tOld[len(tOld)/2]), "old-median-µs")
			b.ReportMetric(us(tOld[len(tOld)/2])/us(tNew[len(tNew)/2]), "x-old")
		})
	}
}
