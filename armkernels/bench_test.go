package armkernels

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// walkerShapes are the GEMMs of one walker filter step (see the package's
// performance target): conv layers as patch rows × weight rows, linears at m=1.
var walkerShapes = []struct {
	name       string
	m, rows, k int
}{
	{"conv1", 961, 32, 48},
	{"conv2", 196, 64, 512},
	{"conv3", 36, 128, 1024},
	{"conv4", 4, 256, 2048},
	{"gru", 1, 1536, 1024},
	{"posterior", 1, 512, 1536},
}

func BenchmarkGemm(b *testing.B) {
	for _, impl := range Implementations() {
		for _, s := range walkerShapes {
			b.Run(impl.Name+"/"+s.name, func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				w, a, lda, c, ldc := gemmCase{m: s.m, rows: s.rows, k: s.k}.setup(b, r)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					impl.Gemm(c, ldc, a, lda, s.m, w)
				}
				macs := float64(s.m) * float64(s.rows) * float64(s.k) * float64(b.N)
				b.ReportMetric(macs/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}

func BenchmarkQuantizeRow(b *testing.B) {
	src := make([]float32, 1024)
	for i := range src {
		src[i] = float32(i%300) - 150
	}
	dst := make([]int8, len(src))
	benchHelperLevels(b, func(b *testing.B, k *Kernels) {
		b.ReportAllocs()
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			k.QuantizeRow(dst, src, 0.9)
		}
	})
}

func BenchmarkDequantize(b *testing.B) {
	n := 1024
	acc, scale, bias, dst := make([]int32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	b.ReportAllocs()
	b.SetBytes(int64(n * 4))
	for b.Loop() {
		Dequantize(dst, acc, scale, 0.01, bias)
	}
}

// BenchmarkGemv times batch-1 products on the wide GRU/MLP weights of rssmo-m/l/xl and reports
// the weight bytes streamed per second: at m=1 every weight byte is used once, so GB/s against
// a plain read of the same bytes (the read row) says how far the kernel is from its bound.
// Several matrices of the same shape are cycled so the weights come from memory (or L3) as in
// a filter step, not from L2. rssmo-m's GRU and MLP weights are 10.4 MB per filter step,
// rssmo-l's 26.8 MB, rssmo-xl's 84 MB.
func BenchmarkGemv(b *testing.B) {
	for _, s := range []struct {
		name    string
		rows, k int
	}{
		{"1024x1024", 1024, 1024},
		{"3072x2048", 3072, 2048},
		{"6144x4096", 6144, 4096},
	} {
		r := rand.New(rand.NewPCG(1, 2))
		const mats = 4
		var ws [mats]*Matrix
		var a []int8
		var c []int32
		for i := range ws {
			ws[i], a, _, c, _ = gemmCase{m: 1, rows: s.rows, k: s.k}.setup(b, r)
		}
		// The bound: the same bytes read by bytes.IndexByte (one vectorised sequential
		// stream, nothing computed) over as many buffers.
		var raw [mats][]byte
		for i := range raw {
			raw[i] = make([]byte, s.rows*s.k)
		}
		b.Run("read/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(s.rows) * int64(s.k))
			for i := 0; b.Loop(); i++ {
				if bytes.IndexByte(raw[i%mats], 1) >= 0 {
					b.Fatal("buffer not zero")
				}
			}
		})
		for _, impl := range Implementations()[1:] {
			b.Run(impl.Name+"/"+s.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(s.rows) * int64(s.k))
				for i := 0; b.Loop(); i++ {
					impl.Gemm(c, s.rows, a, ws[0].Stride(), 1, ws[i%mats])
				}
			})
		}
	}
}
