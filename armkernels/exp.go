package armkernels

import (
	"fmt"
	"math"
)

// Exp writes dst[i] = e^src[i] in float32 with a relative error below 3e-7 on [-87, 88];
// inputs are clamped to that range (NaN stays NaN). The asm (AVX-512) and the Go code do the
// same float32 operations in the same order, so they agree bit for bit. It is the
// transcendental of the int8 model's float parts (GRU gates, SiLU): thousands per step.
// len(dst) must be at least len(src) (it panics otherwise). It does not allocate.
func (k *Kernels) Exp(dst, src []float32) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("armkernels: Exp dst has %d values, src %d", len(dst), len(src)))
	}
	n := expBlocks(k.helper, dst, src)
	for i, x := range src[n:] {
		dst[n+i] = Exp32(x)
	}
}

// expConsts feeds the asm the same float32 constants Exp32 uses, in this order.
var expConsts = [...]float32{-87, 88, log2e, roundMagic, ln2hi, ln2lo,
	1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1}

const (
	log2e = 1.44269504088896341
	ln2hi = 0.693145751953125
	ln2lo = 1.428606765330187045e-06
)

// Exp32 is one value of Exp: range reduction x = n·ln2 + r (|r| ≤ ln2/2, ln2 split in two
// parts), a degree-6 Taylor polynomial for e^r, and 2^n built in the exponent bits. Every
// product is converted explicitly so no compiler fuses it into an FMA (the asm has none).
func Exp32(x float32) float32 {
	if x < -87 {
		x = -87
	}
	if x > 88 {
		x = 88
	}
	n := float32(float32(float32(x*log2e)+roundMagic) - roundMagic)
	r := float32(x-float32(n*ln2hi)) - float32(n*ln2lo)
	p := float32(1.0 / 720)
	p = float32(p*r) + 1.0/120
	p = float32(p*r) + 1.0/24
	p = float32(p*r) + 1.0/6
	p = float32(p*r) + 0.5
	p = float32(p*r) + 1
	p = float32(p*r) + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
