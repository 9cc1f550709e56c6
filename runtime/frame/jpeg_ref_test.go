package frame

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The reduced decoder's scan loop as first written (commit 69c789c): one
// coefficient per table lookup, every block through decodeBlock and
// storeBlock. Kept as the reference the faster loop must match byte for
// byte (TestJPEGScanMatchesRef, FuzzJPEGScanMatchesRef).

// decodeScanRef decodes every MCU of the scan into the planes.
func (d *jpegDecoder) decodeScanRef() error {
	return d.scanRef(func(c *jpegComp, mx, my, bx, by int) {
		d.storeBlock(c, c.plane[((my*c.v+by)*c.ny)*c.stride+(mx*c.h+bx)*c.nx:])
	})
}

// decodeScanCoefRef is decodeScanRef for coefficient mode: every block
// through the reference block decoder, its kept coefficients copied out in
// the layout decodeScan's coefficient mode uses.
func (d *jpegDecoder) decodeScanCoefRef() error {
	return d.scanRef(func(c *jpegComp, mx, my, bx, by int) {
		kk := c.nx * c.ny
		at := ((my*c.v+by)*c.bw + mx*c.h + bx) * kk
		copy(c.coef[at:at+kk], d.blk[:kk])
		d.blk = [65]int32{}
	})
}

// scanRef decodes every block of the scan with decodeBlockRef and hands
// it to store (block bx, by of component c in MCU mx, my).
func (d *jpegDecoder) scanRef(store func(c *jpegComp, mx, my, bx, by int)) error {
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
	left := d.restart
	rst := 0
	for my := range d.mcuY {
		for mx := range d.mcuX {
			if d.restart > 0 {
				if left == 0 {
					if err := d.nextRestart(rst); err != nil {
						return err
					}
					rst = (rst + 1) & 7
					left = d.restart
				}
				left--
			}
			for ci := range d.ncomp {
				c := &d.comp[ci]
				dc, ac := d.useHuff[0][c.td], d.useHuff[1][c.ta]
				q := &d.quant[c.tq]
				for by := range c.v {
					for bx := range c.h {
						if err := d.decodeBlockRef(c, dc, ac, q); err != nil {
							return fmt.Errorf("%w: MCU (%d,%d): %w", ErrDecode, mx, my, err)
						}
						store(c, mx, my, bx, by)
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
	if d.fake*8 > int(d.nbits) {
		return fmt.Errorf("%w: %w", ErrDecode, errTruncated)
	}
	return nil
}

// decodeBlockRef Huffman-decodes one 8x8 block, keeping the dequantised
// coefficients that fall in the n x n corner in d.blk.
func (d *jpegDecoder) decodeBlockRef(c *jpegComp, dc, ac *huffTable, q *[64]int32) error {
	if d.nbits < 32 {
		d.refill()
	}
	acc, nb := d.acc, d.nbits
	// DC: category, then that many bits of difference.
	var s int32
	var l uint
	if e := dc.look[acc>>(64-lookBits)]; e != 0 {
		s, l = int32(e&0xFF), uint(e>>8)
	} else {
		var ok bool
		if s, l, ok = dc.decodeSlow(acc); !ok {
			return errHuffCode
		}
	}
	acc <<= l
	nb -= l
	if s > 11 {
		return fmt.Errorf("DC difference of %d bits", s)
	}
	if s > 0 {
		v := extend(int32(acc>>(64-uint(s))), s)
		acc <<= uint(s)
		nb -= uint(s)
		c.pred += v
	}
	blk := &d.blk
	blk[0] = c.pred * q[0]
	kmax, slot := c.kmax, &c.slot
	data := d.data
	ac0 := false // a kept AC coefficient was stored
	for k := 1; k < 64; k++ {
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
				break
			}
			k += int(e>>8) & 15
			if k > 63 {
				return errCoefIndex
			}
			if k <= kmax {
				blk[slot[k]] = (e >> 16) * q[k]
				ac0 = true
			}
			continue
		}
		var rs int32
		if e := ac.look[acc>>(64-lookBits)]; e != 0 {
			rs, l = int32(e&0xFF), uint(e>>8)
		} else {
			var ok bool
			if rs, l, ok = ac.decodeSlow(acc); !ok {
				return errHuffCode
			}
		}
		acc <<= l
		nb -= l
		run, size := int(rs>>4), rs&15
		if size == 0 {
			if run != 15 {
				break
			}
			k += 15
			continue
		}
		k += run
		if k > 63 {
			return errCoefIndex
		}
		v := extend(int32(acc>>(64-uint(size))), size)
		acc <<= uint(size)
		nb -= uint(size)
		if k <= kmax {
			blk[slot[k]] = v * q[k]
			ac0 = true
		}
	}
	d.acc, d.nbits = acc, nb
	d.hasAC = ac0
	return nil
}

// scanBoth decodes data at n samples per luma block side with the current
// scan loop and with the reference. It reports whether the headers parsed;
// then both must agree on success and, on success, on every plane byte.
func scanBoth(t *testing.T, data []byte, n int) bool {
	t.Helper()
	var a, b jpegDecoder
	a.setScale(n)
	b.setScale(n)
	if err := a.parseHeaders(data); err != nil {
		return false
	}
	if err := b.parseHeaders(data); err != nil {
		t.Fatalf("headers parse once and then fail: %v", err)
	}
	errA, errB := a.decodeScan(), b.decodeScanRef()
	if (errA == nil) != (errB == nil) {
		t.Fatalf("scale %d: decodeScan: %v, reference: %v", n, errA, errB)
	}
	if errA != nil {
		return true
	}
	for i := range a.ncomp {
		pa, pb := a.comp[i].plane, b.comp[i].plane
		if !bytes.Equal(pa, pb) {
			j := 0
			for j < len(pa) && pa[j] == pb[j] {
				j++
			}
			t.Fatalf("scale %d: component %d differs from the reference at byte %d of %d (stride %d)", n, i, j, len(pa), a.comp[i].stride)
		}
	}
	return true
}

// TestJPEGScanMatchesRef: the optimised scan loop gives the reference's
// planes byte for byte, for every test stream at every scale.
func TestJPEGScanMatchesRef(t *testing.T) {
	for _, c := range jpegCases(t) {
		for _, n := range []int{1, 2, 4} {
			if !scanBoth(t, c.data, n) {
				t.Fatalf("%s: headers do not parse", c.name)
			}
		}
	}
}

// FuzzJPEGScanMatchesRef: on any input, the optimised loop and the
// reference agree (both fail, or both succeed with the same planes).
func FuzzJPEGScanMatchesRef(f *testing.F) {
	img := cameraScene(64, 48, 7, 4)
	f.Add(stdJPEG(f, img, 85))
	f.Add(stdJPEG(f, img, 98))
	f.Add(stdJPEG(f, toGray(img), 60))
	f.Add(encodeTestJPEG(img, encOptions{h: 2, v: 1, quality: 75, restart: 1, noDHT: true}))
	f.Add(encodeTestJPEG(img, encOptions{h: 4, v: 1, quality: 95}))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, n := range []int{1, 2, 4} {
			scanBoth(t, data, n)
		}
	})
}

// BenchmarkJPEGScanVsRef times the scan loop and the reference on the same
// frames, alternating call by call so that a busy machine slows both alike.
// Times are the thread's CPU time (a shared machine mostly adds time spent
// descheduled, which wall time would count); it reports each one's fastest
// and median call and the ratio of medians.
func BenchmarkJPEGScanVsRef(b *testing.B) {
	for _, sz := range []struct{ w, h, n int }{{640, 480, 2}, {1280, 720, 1}, {1920, 1080, 1}} {
		data := stripDHT(b, stdJPEG(b, cameraScene(sz.w, sz.h, 42, 4), 85))
		b.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(b *testing.B) {
			var d jpegDecoder
			d.setScale(sz.n)
			var tNew, tRef []time.Duration
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for b.Loop() {
				for ref := range 2 {
					if err := d.parseHeaders(data); err != nil {
						b.Fatal(err)
					}
					t0 := threadCPU()
					var err error
					if ref == 1 {
						err = d.decodeScanRef()
					} else {
						err = d.decodeScan()
					}
					dt := threadCPU() - t0
					if err != nil {
						b.Fatal(err)
					}
					if ref == 1 {
						tRef = append(tRef, dt)
					} else {
						tNew = append(tNew, dt)
					}
				}
			}
			slices.Sort(tNew)
			slices.Sort(tRef)
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
			b.ReportMetric(us(tNew[0]), "min-µs")
			b.ReportMetric(us(tRef[0]), "ref-min-µs")
			b.ReportMetric(us(tNew[len(tNew)/2]), "median-µs")
			b.ReportMetric(us(tRef[len(tRef)/2])/us(tNew[len(tNew)/2]), "x-ref")
		})
	}
}

// threadCPU is the calling thread's CPU time.
func threadCPU() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}
