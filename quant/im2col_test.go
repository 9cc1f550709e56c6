package quant

import (
	"math/rand/v2"
	"testing"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
)

// TestIm2colMatchesDefinition checks im2col on every kernel implementation against the
// patch definition, byte by byte, for paddings and strides that put columns on both edges
// and none inside, channel counts below and above CopyRows' 16-byte blocks, and guard bytes
// in each patch row's stride slack.
func TestIm2colMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ k, s, p, cin, h int }{
		{4, 2, 0, 3, 64}, {4, 2, 0, 32, 31}, {4, 2, 1, 32, 14}, {3, 1, 1, 16, 8}, {3, 2, 1, 5, 9},
		{4, 2, 3, 8, 4}, {5, 1, 2, 24, 6}, {3, 1, 0, 64, 3}, {1, 1, 0, 17, 5},
	} {
		ho := (c.h+2*c.p-c.k)/c.s + 1
		sp := &model.ConvSpec{K: c.k, S: c.s, P: c.p, Cin: c.cin, InH: c.h, OutH: ho}
		in := make([]int8, c.h*c.h*c.cin)
		for i := range in {
			in[i] = int8(r.Uint32())
		}
		run := c.k * c.cin
		lda := c.k*run + 5
		want := make([]int8, ho*ho*lda)
		for i := range want {
			want[i] = 0x33
		}
		const pad = int8(-9)
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < ho; ox++ {
				for ky := 0; ky < c.k; ky++ {
					for kx := 0; kx < c.k; kx++ {
						iy, ix := oy*c.s+ky-c.p, ox*c.s+kx-c.p
						for ch := 0; ch < c.cin; ch++ {
							v := pad
							if iy >= 0 && iy < c.h && ix >= 0 && ix < c.h {
								v = in[(iy*c.h+ix)*c.cin+ch]
							}
							want[(oy*ho+ox)*lda+ky*run+kx*c.cin+ch] = v
						}
					}
				}
			}
		}
		for _, k := range armkernels.Implementations() {
			got := make([]int8, len(want))
			for i := range got {
				got[i] = 0x33
			}
			im2col(k, got, lda, in[:1], sp, pad) // a short slice of the buffer, as Encode passes
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s %+v: byte %d (patch %d, offset %d) = %d, want %d", k.Name, c, i, i/lda, i%lda, got[i], want[i])
				}
			}
		}
	}
}
