package armkernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzHelpers compares every helper level with the Go loops on float32 and int32 values
// taken bit for bit from the input (NaNs, infinities, subnormals, ties included), at a
// length and channel count drawn from it.
func FuzzHelpers(f *testing.F) {
	f.Add(uint8(17), uint8(4), int8(-128), []byte{0, 0, 0, 63, 0, 0, 192, 63, 0, 0, 192, 127, 1, 2, 3, 4})
	f.Add(uint8(64), uint8(16), int8(3), []byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0x80, 0xff, 0, 0, 0xfe, 0x42})
	f.Fuzz(checkHelpers)
}

// TestHelpersRandom runs FuzzHelpers' check on random inputs: the differential test that
// runs where fuzzing cannot (qemu-user, which cannot start fuzz workers).
func TestHelpersRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for range 400 {
		data := make([]byte, 4*r.IntN(70))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		checkHelpers(t, uint8(r.Uint32()), uint8(r.Uint32()), int8(r.Uint32()), data)
	}
}

func checkHelpers(t *testing.T, n8, c8 uint8, zero8 int8, data []byte) {
	n, c, zero := int(n8), 4*(1+int(c8%16)), int32(zero8)
	word := func(i int) uint32 {
		if len(data) < 4 {
			return uint32(i) * 0x9e3779b9
		}
		j := (4 * i) % (len(data) - len(data)%4)
		return binary.LittleEndian.Uint32(data[j:]) + uint32(i/(len(data)/4+1))
	}
	src := make([]float32, n)
	for i := range src {
		src[i] = math.Float32frombits(word(i))
	}
	inv := math.Float32frombits(word(n))
	rows := n / c
	acc := make([]int32, rows*c)
	for i := range acc {
		acc[i] = int32(word(i)) >> 3 // keep acc·mul + bias inside ReluRequant's range
	}
	mul, bias := make([]float32, c), make([]float32, c)
	for j := range mul {
		mul[j] = float32(word(j)%4096) / 1024
		bias[j] = float32(int32(word(j+7))%20000) / 64
	}
	for _, k := range helperLevels()[1:] {
		q, qr := make([]int8, n), make([]int8, n)
		k.QuantizeRow(q, src, inv)
		quantizeGo(qr, src, inv)
		a, ar := make([]int8, n), make([]int8, n)
		k.QuantizeAffine(a, src, inv, zero)
		quantizeAffineGo(ar, src, inv, zero)
		for i := range q {
			if q[i] != qr[i] || a[i] != ar[i] {
				t.Fatalf("%s: [%d] %v·%v: QuantizeRow %d (Go %d), QuantizeAffine %d (Go %d)", k.Helpers, i, src[i], inv, q[i], qr[i], a[i], ar[i])
			}
		}
		e := make([]float32, n)
		k.Exp(e, src)
		for i, x := range src {
			if w := Exp32(x); math.Float32bits(e[i]) != math.Float32bits(w) && !(x != x && e[i] != e[i]) {
				t.Fatalf("%s: Exp(%v) = %v, Exp32 %v", k.Helpers, x, e[i], w)
			}
		}
		if rows > 0 {
			o, or := make([]int8, len(acc)), make([]int8, len(acc))
			k.ReluRequant(o, c, acc, mul, bias, zero)
			reluRequantGo(or, c, acc, mul, bias, zero)
			for i := range o {
				if o[i] != or[i] {
					t.Fatalf("%s: ReluRequant c %d zero %d [%d] = %d, Go %d", k.Helpers, c, zero, i, o[i], or[i])
				}
			}
		}
		// MulAdd over n values of w (one more than a uses) and a guard value after a.
		ma, mr := make([]float32, n+1), make([]float32, n+1)
		mw := make([]float32, n+1)
		for i := range ma {
			ma[i] = math.Float32frombits(word(i + 5))
			mw[i] = math.Float32frombits(word(i + 9))
		}
		copy(mr, ma)
		k.MulAdd(ma[:n], mw, inv)
		mulAddGo(mr[:n], mw[:n], inv)
		for i := range ma {
			// Bit for bit, except which NaN payload survives when several operands are
			// NaN (qemu's FMLA and FMADDS pick differently; nothing downstream reads it).
			if math.Float32bits(ma[i]) != math.Float32bits(mr[i]) && !(ma[i] != ma[i] && mr[i] != mr[i]) {
				t.Fatalf("%s: MulAdd [%d] of %d (w %v, v %v) gives %v, Go %v", k.Helpers, i, n, mw[i], inv, ma[i], mr[i])
			}
		}
		// LayerNorm over src with g and b from the data, a guard value after y.
		lg, lb := make([]float32, n), make([]float32, n)
		for i := range lg {
			lg[i] = math.Float32frombits(word(i + 13))
			lb[i] = math.Float32frombits(word(i + 17))
		}
		ly, lr := make([]float32, n+1), make([]float32, n+1)
		ly[n], lr[n] = 3, 3
		k.LayerNorm(ly[:n], src, lg, lb)
		layerNormGo(lr[:n], src, lg, lb)
		for i := range ly {
			if !sameFloat32(ly[i], lr[i]) {
				t.Fatalf("%s: LayerNorm [%d] of %d gives %v, Go %v", k.Helpers, i, n, ly[i], lr[i])
			}
		}
		// StackRGB on an image of the data's bytes, w and ho from c and n.
		{
			w, ho := 2*(1+int(c8)%40), 1+n%5
			img := make([]uint8, (2*ho+2)*3*w)
			for i := range img {
				img[i] = uint8(word(i/4) >> (8 * (i % 4)))
			}
			m := ho * (w / 2) * 24
			sg, sr := make([]int8, m+1), make([]int8, m+1)
			k.StackRGB(sg[:m], img, w, ho)
			stackRGBNaive(sr, img, w, ho)
			for i := range sg {
				if sg[i] != sr[i] {
					t.Fatalf("%s: StackRGB w %d ho %d byte %d = %d, want %d", k.Helpers, w, ho, i, sg[i], sr[i])
				}
			}
		}
		d, dr := make([]int32, len(acc)+3), make([]int32, len(acc)+3)
		for i := range d {
			d[i] = int32(word(i + 11))
		}
		copy(dr, d)
		k.AddInt32Rows(d, c, acc, c, rows, c-1)
		for r := 0; r < rows; r++ {
			addInt32Go(dr[r*c:r*c+c-1], acc[r*c:r*c+c-1])
		}
		for i := range d {
			if d[i] != dr[i] {
				t.Fatalf("%s: AddInt32Rows [%d] = %d, Go %d", k.Helpers, i, d[i], dr[i])
			}
		}
	}
}
