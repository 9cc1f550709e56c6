package armkernels

// Weights that fit 4 bits. A batch-1 GEMM (GEMV) of a large matrix reads every weight once
// from L3 or DRAM, so its speed is bytes per second, not MACs: rssmo-m's GRU and posterior
// layers stream ~10 MB per filter step. A matrix whose values all lie in [−8, 7] (quant's
// 4-bit layers) therefore also keeps its weights two to a byte, and the kernels that have a
// 4-bit GEMV read those, unpack them in registers and run the same dot products: the result
// is bit-identical to the int8 one, from half the bytes.
//
// Layout: the int8 panel layout (ref.go) with each pair of K groups (2q, 2q+1) of a panel
// merged into one 64-byte block: byte i holds group 2q's byte i plus 8 in its low nibble
// and group 2q+1's plus 8 in its high nibble. Every value becomes unsigned (0..15), so
// unpacking is one shift and two masks; the +8 adds 8·Σa′ to each dot product, which the
// kernels take back from their own sum of the (offset) activations.

// nibRange reports whether every value of w fits the 4-bit layout.
func nibRange(w []int8) bool {
	for _, v := range w {
		if v < -8 || v > 7 {
			return false
		}
	}
	return true
}

// packNibbles returns m's weights in the 4-bit layout: m.panels panels of m.kp·8 bytes.
func packNibbles(m *Matrix) []byte {
	pstride := m.kp * panelCols
	nib := make([]byte, m.panels*m.kp*8)
	out := 0
	for p := 0; p < m.panels; p++ {
		panel := m.data[p*pstride : (p+1)*pstride]
		for g := 0; g < m.kp/kGroup; g += 2 {
			lo := panel[g*64 : (g+1)*64]
			hi := panel[(g+1)*64 : (g+2)*64]
			for i := range 64 {
				nib[out+i] = byte(lo[i]+8) | byte(hi[i]+8)<<4
			}
			out += 64
		}
	}
	return nib
}

// Nibbles reports whether m also holds its weights in the 4-bit layout (its values all fit
// 4 bits and this machine has a kernel that reads them).
func (m *Matrix) Nibbles() bool { return m.nib != nil }

// HasGemv4 reports whether this machine has a 4-bit GEMV, that is whether PackMatrix keeps
// a matrix whose weights all fit [−8, 7] in nibbles too (Nibbles).
func HasGemv4() bool { return haveGemv4 }
