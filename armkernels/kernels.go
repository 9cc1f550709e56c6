package armkernels

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// EnvKernel names the environment variable that forces an implementation.
const EnvKernel = "RSSMD_KERNEL"

// kernelKind names a family of generated block kernels. Each computes an
// mr×(16·np) block of c over the whole packed K:
// c[i*ldc/4+j] = corr[j] + Σ_g dot4(a[i*lda+4g:], panel(j/16)[g][j%16]),
// where the bias corr is used only by kernels that offset activations (VNNI);
// lda, pstride and ldc are in bytes and kg = Stride/4. callBlock (generated
// per arch) dispatches on it.
type kernelKind uint8

const (
	kindRef kernelKind = iota
	kindAVX2
	kindVNNI
	kindNEON
	kindSDOT
	kindI8MM
)

// Kernels is one implementation of the GEMM primitive.
type Kernels struct {
	// Name identifies the implementation: ref, avx2, avx512vnni, neon, sdot.
	Name string

	kind kernelKind
	// rows[np-1] is the most activation rows of a block np panels of 16
	// weight rows wide; len(rows) is the widest block.
	rows []int
}

// Gemm computes c[i*ldc+j] = Σ_{p<K} a[i*lda+p] · W[j][p] exactly in int32,
// for i < m, j < w.Rows. a holds m rows of int8 activations, any value
// (-128 included: every kernel is exact for it, tested as "a-128"; the int8
// model's asymmetric points use it as the zero point),
// lda >= w.Stride(), and bytes a[i*lda+K : i*lda+Stride] are zero. When K is
// the stride (no padding), rows may overlap: any lda >= 1 works, so a caller
// can slide a window over one buffer instead of copying patches (the int8
// decoder's phase-split convolution does). Nothing else
// in c is written. Gemm does not allocate. Shapes that would read or write
// outside a or c are programming errors and panic with a message saying which.
func (k *Kernels) Gemm(c []int32, ldc int, a []int8, lda, m int, w *Matrix) {
	if err := checkGemm(c, ldc, a, lda, m, w); err != nil {
		panic(err)
	}
	if m == 0 {
		return
	}
	if k.kind == kindRef {
		gemmRef(c, ldc, a, lda, m, w)
		return
	}
	k.gemmBlocked(c, ldc, a, lda, m, w)
}

func checkGemm(c []int32, ldc int, a []int8, lda, m int, w *Matrix) error {
	switch {
	case w == nil:
		return fmt.Errorf("armkernels: Gemm with nil matrix")
	case m < 0:
		return fmt.Errorf("armkernels: Gemm with m = %d rows", m)
	case lda < 1 || lda < w.kp && w.K != w.kp:
		return fmt.Errorf("armkernels: Gemm lda %d < matrix stride %d (rows may overlap only when K is the stride)", lda, w.kp)
	case ldc < w.Rows:
		return fmt.Errorf("armkernels: Gemm ldc %d < matrix rows %d", ldc, w.Rows)
	case m == 0:
		return nil
	case len(a) < (m-1)*lda+w.kp:
		return fmt.Errorf("armkernels: Gemm activations hold %d bytes, %d rows of stride %d need %d", len(a), m, lda, (m-1)*lda+w.kp)
	case len(c) < (m-1)*ldc+w.Rows:
		return fmt.Errorf("armkernels: Gemm output holds %d values, %d rows of %d need %d", len(c), m, w.Rows, (m-1)*ldc+w.Rows)
	}
	return nil
}

// maxBlock bounds mr·np of every block kernel (the accumulators that fit in
// registers); the tile that catches a partial last panel is sized by it.
const maxBlock = 24

// gemmBlocked walks c in blocks of up to MR rows × NP panels. Panel blocks are
// the outer loop so one block of weights stays in cache while every row block
// streams past it. Columns past Rows in the last panel go to a stack tile.
func (k *Kernels) gemmBlocked(c []int32, ldc int, a []int8, lda, m int, w *Matrix) {
	NP := len(k.rows)
	pstride := w.kp * panelCols
	kg := w.kp / kGroup
	var tile [maxBlock * panelCols]int32
	for p0 := 0; p0 < w.panels; p0 += NP {
		np := min(NP, w.panels-p0)
		MR := k.rows[np-1]
		j0 := p0 * panelCols
		cols := min(np*panelCols, w.Rows-j0)
		wp := &w.data[p0*pstride]
		corr := &w.corr[j0]
		for i0 := 0; i0 < m; i0 += MR {
			mr := min(MR, m-i0)
			ap := &a[i0*lda]
			if cols == np*panelCols {
				callBlock(k.kind, mr, np, ap, lda, wp, pstride, kg, &c[i0*ldc+j0], ldc*4, corr)
				continue
			}
			tw := np * panelCols
			callBlock(k.kind, mr, np, ap, lda, wp, pstride, kg, &tile[0], tw*4, corr)
			for i := 0; i < mr; i++ {
				copy(c[(i0+i)*ldc+j0:(i0+i)*ldc+j0+cols], tile[i*tw:i*tw+cols])
			}
		}
	}
}

var ref = &Kernels{Name: "ref"}

// Implementations returns every implementation this machine can run,
// reference first, then from the most portable to the fastest.
func Implementations() []*Kernels {
	return append([]*Kernels{ref}, archImplementations()...)
}

// ByName returns the implementation called name, or an error if it is
// unknown or this machine cannot run it.
func ByName(name string) (*Kernels, error) {
	var names []string
	for _, k := range Implementations() {
		if k.Name == name {
			return k, nil
		}
		names = append(names, k.Name)
	}
	return nil, fmt.Errorf("armkernels: kernel %q not available on this machine (have %s)", name, strings.Join(names, ", "))
}

var defaultKernels = sync.OnceValue(func() *Kernels {
	return choose(os.Getenv(EnvKernel), slog.Default())
})

// Default returns the implementation chosen once per process: the fastest
// this CPU runs, unless RSSMD_KERNEL names another one it can run. The
// choice is logged once.
func Default() *Kernels { return defaultKernels() }

// choose picks the best implementation, or the one named by override when
// the machine can run it; it logs the choice on log.
func choose(override string, log *slog.Logger) *Kernels {
	impls := Implementations()
	best := impls[len(impls)-1]
	if override != "" {
		k, err := ByName(override)
		if err == nil {
			log.Info("int8 kernels selected", "kernel", k.Name, "source", EnvKernel)
			return k
		}
		log.Warn("ignoring "+EnvKernel, "err", err, "kernel", best.Name)
	}
	log.Info("int8 kernels selected", "kernel", best.Name, "source", "cpu")
	return best
}
