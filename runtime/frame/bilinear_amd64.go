package frame

import "golang.org/x/sys/cpu"

// hasAVX2 enables the AVX2 row kernel of the packed-YUV bilinear path (read once; x/sys/cpu
// honours GODEBUG=cpu.avx2=off). Tests switch it off to compare with the Go loop.
var hasAVX2 = cpu.X86.HasAVX2

// bilinConsts feeds bilinearRowAVX2: the low-dword mask, the final rounding term 2^35
// (accHalf), and the VPSHUFB pattern that packs 4 pixels of R|G<<8|B<<16 dwords into 12
// bytes (twice, one per 128-bit lane).
var bilinConsts = [6]uint64{0xffffffff, 1 << 35, 0x0908060504020100, 0x808080800e0d0c0a, 0x0908060504020100, 0x808080800e0d0c0a}

//go:noescape
func bilinearRowAVX2(dst *byte, row0, row1 *byte, cols *int32, groups int, wy int32, t *int32, ush, vsh uint64, k *uint64)

// bilinearSIMD runs the packed-YUV bilinear path with the AVX2 row kernel; false when it
// does not apply (no AVX2, no group tables).
func (p *Preprocessor) bilinearSIMD(dst, data []byte, stride int) bool {
	if !p.simd || p.bgroups == nil {
		return false
	}
	ush, vsh := uint64(8), uint64(24) // YUYV: Y0 U Y1 V
	if p.conf.Format == UYVY {        // U Y0 V Y1
		ush, vsh = 0, 16
	}
	t := &limitedTables.y[0]
	n := len(p.bgroups) / groupInts
	w := 3 * p.conf.OutWidth
	for i, r := range p.brows {
		d := dst[i*w : (i+1)*w]
		// The kernel gathers 4-byte pairs at the group offsets: the tables keep them
		// inside the row, checked here once per row.
		row0 := data[int(r.y0)*stride : int(r.y0)*stride+p.browLen]
		row1 := data[int(r.y1)*stride : int(r.y1)*stride+p.browLen]
		bilinearRowAVX2(&d[0], &row0[0], &row1[0], &p.bgroups[0], n, r.w1, t, ush, vsh, &bilinConsts[0])
	}
	return true
}
