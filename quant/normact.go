package quant

// The float epilogue of the dreamer_resnet convolutions (encoder: conv → InstanceNorm(affine) →
// SiLU; decoder: transposed conv → InstanceNorm → SiLU), done in three vectorisable passes over
// the int32 GEMM result instead of a dequantise pass, three float64 InstanceNorm passes and a
// scalar float64 exp per value.

import (
	"math"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
)

// normScratch holds normAct's per-channel work space (maxC channels) and its chunk buffers.
type normScratch struct {
	s1, s2 []int64   // Σ acc, Σ acc² per channel: exact
	mi     []int32   // the rounded integer mean per channel
	a, b   []float32 // y = (acc − mi)·a + b per channel
	neg    []float32 // −y of one chunk of pixels, then e^−y
}

// normChunk is the number of values normAct keeps in flight (two float32 chunks fit in L1).
const normChunk = 2048

func newNormScratch(c int) normScratch {
	return normScratch{s1: make([]int64, c), s2: make([]int64, c), mi: make([]int32, c),
		a: make([]float32, c), b: make([]float32, c), neg: make([]float32, max(normChunk, c))}
}

// quantOut is where normAct writes int8 results: pixel i's c values at dst[i·stride:], the
// rest of each row (stride − c, padding for the next layer's GEMM) cleared.
type quantOut struct {
	dst    []int8
	stride int
	inv    float32
	zero   int32
}

// normAct computes act(norm(acc·mul + bias)) for an HWC plane of p pixels × c channels: the
// layer's dequantisation, then (if norm) InstanceNorm (biased variance, eps 1e-5, affine g, b
// when g is not nil), then the activation. The result goes to q as int8 (clamp(round-half-even(
// v·inv) + zero), as q8z and armkernels.QuantizeAffine) or, with q nil, to f as float32.
//
// The InstanceNorm statistics come from the integers: x = acc·mul + bias per channel, so
// mean(x) = mul·mean(acc) + bias and var(x) = mul²·var(acc), and Σacc, Σacc² are exact in int64
// (|acc| < 2^26 and p ≤ 2^12 for 64×64 inputs, so p·Σacc² < 2^63). Normalisation, affine and
// dequantisation fold into one multiply-add per value, taken after subtracting the integer
// mean in int32 so the float32 product does not cancel. The statistics pass is
// armkernels.NormStats; SiLU into int8 (every layer but the encoder's last) is one
// armkernels.NormSiLU pass (normalise, SiLU with the Exp32 approximation, requantise), the same
// bits on every helper path. The float output and other activations take chunks of pixels that
// stay in L1: armkernels.Exp for SiLU, model.Activate otherwise. The result differs from the
// float64 two-pass path by float32 rounding only (TestNormActMatchesFloat).
func normAct(k *armkernels.Kernels, f []float32, acc []int32, p, c int, mul, bias, g, b []float32, norm bool, act string, ns *normScratch, q *quantOut) {
	f, acc = f[:p*c], acc[:p*c]
	A, B, mi := ns.a[:c], ns.b[:c], ns.mi[:c]
	if !norm {
		copy(A, mul[:c])
		copy(B, bias[:c])
		clear(mi)
	} else {
		s1, s2 := ns.s1[:c], ns.s2[:c]
		clear(s1)
		clear(s2)
		k.NormStats(s1, s2, acc, c)
		n := float64(p)
		for j := range A {
			mean := float64(s1[j]) / n
			vr := float64(int64(p)*s2[j]-s1[j]*s1[j]) / (n * n)
			m := float64(mul[j])
			scale := 1 / math.Sqrt(m*m*vr+1e-5)
			mi[j] = int32(math.Round(mean))
			aj := m * scale
			bj := 0.0
			if g != nil {
				aj *= float64(g[j])
				bj = float64(b[j])
			}
			// y = (acc − mean)·aj + bj = (acc − mi)·aj + (mi − mean)·aj + bj
			A[j] = float32(aj)
			B[j] = float32((float64(mi[j])-mean)*aj + bj)
		}
	}
	silu := act == "silu" || act == "swish"
	if silu && q != nil {
		// The common case, one vectorised pass: normalise, SiLU, requantise.
		k.NormSiLU(q.dst, q.stride, acc, c, mi, A, B, q.inv, q.zero)
		if q.stride > c {
			for i := 0; i < p; i++ {
				clear(q.dst[i*q.stride+c : (i+1)*q.stride])
			}
		}
		return
	}
	rows := max(1, len(ns.neg)/c)
	for lo := 0; lo < p; lo += rows {
		hi := min(lo+rows, p)
		fc, ac := f[lo*c:hi*c], acc[lo*c:hi*c]
		neg := ns.neg[:len(fc)]
		for i := 0; i < hi-lo; i++ {
			row, d, e := ac[i*c:(i+1)*c], fc[i*c:(i+1)*c], neg[i*c:(i+1)*c]
			row, d, e = row[:len(A)], d[:len(A)], e[:len(A)]
			for j, v := range row {
				y := float32(float32(v-mi[j])*A[j]) + B[j]
				d[j] = y
				e[j] = -y
			}
		}
		if silu {
			k.Exp(neg, neg)
			for i, y := range fc {
				fc[i] = y / (1 + neg[i])
			}
		} else {
			model.Activate(fc, act)
		}
		if q == nil {
			continue
		}
		for i := 0; i < hi-lo; i++ {
			d := fc[i*c : (i+1)*c]
			o := q.dst[(lo+i)*q.stride : (lo+i+1)*q.stride]
			o8 := o[:len(d)]
			for j, y := range d {
				o8[j] = q8fast(y, q.inv, q.zero)
			}
			clear(o[c:])
		}
	}
}

// magicBits is math.Float32bits(roundMagic).
const magicBits = 0x4B400000

// q8fast is q8z for finite v: clamp(round-half-even(v·inv + zero), -128, 127). The clamp is two
// rarely taken branches (Go's float min/max handle NaN and −0 in several instructions) and
// the rounded value is read from the bits of v + 1.5·2²³ (no float-to-int conversion).
func q8fast(v, inv float32, zero int32) int8 {
	v = float32(v*inv) + float32(zero)
	if v > 127 {
		v = 127
	} else if v < -128 {
		v = -128
	}
	return int8(int32(math.Float32bits(v+roundMagic)) - magicBits)
}
