package armkernels

import (
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
