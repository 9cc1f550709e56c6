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
	kindAVXVNNI
)

// helperLevel names one implementation of the elementwise helpers (QuantizeRow,
// ReluRequant, AddInt32, AddInt32Rows, Exp, NormStats, NormSiLU; on arm64 also MulAdd,
// LayerNorm, StackRGB, CopyRows). Every level is bit-identical to the Go loops.
type helperLevel uint8

const (
	helperGo     helperLevel = iota // Go loops, every arch
	helperAVX2                      // amd64, 8 lanes
	helperAVX512                    // amd64 AVX-512 F+BW, 16 lanes
	helperNEON                      // arm64 Advanced SIMD (baseline), 4 lanes
)

var helperNames = [...]string{helperGo: "go", helperAVX2: "avx2", helperAVX512: "avx512", helperNEON: "neon"}

func (h helperLevel) String() string { return helperNames[h] }

// blockError is the panic of callBlock on a block shape it has no kernel for: a bug in
// gemmBlocked or blockRows, never skipped silently.
type blockError struct {
	kind   kernelKind
	mr, np int
}

func (e blockError) Error() string {
	return fmt.Sprintf("armkernels: no block kernel of kind %d for %d rows × %d panels", e.kind, e.mr, e.np)
}

// Kernels is one implementation of the int8 kernels: a GEMM path and a helper path.
// Everything a Kernels computes is bit-identical to the reference; the value, not
// package state, decides which code runs.
type Kernels struct {
	// Name identifies the implementation as GEMM+Helpers, e.g. "avx512vnni+avx512"
	// or "sdot+neon": what the start-up log, the kernel metric label and RSSMD_KERNEL use.
	Name string
	// GEMM is the GEMM path: ref, avx2, avxvnni, avx512vnni, neon, sdot, i8mm.
	GEMM string
	// Helpers is the elementwise-helper path: go, avx2, avx512, neon.
	Helpers string

	kind kernelKind
	// rows[np-1] is the most activation rows of a block np panels of 16
	// weight rows wide; len(rows) is the widest block.
	rows   []int
	helper helperLevel
}

// gemmPath is one GEMM implementation the CPU runs and the helper level made for the
// same CPU generation (what RSSMD_KERNEL=<gemm> pairs it with).
type gemmPath struct {
	name    string
	kind    kernelKind
	natural helperLevel
}

func newKernels(g gemmPath, h helperLevel) *Kernels {
	k := &Kernels{Name: g.name + "+" + h.String(), GEMM: g.name, Helpers: h.String(), kind: g.kind, helper: h}
	if g.kind != kindRef {
		k.rows = blockRows(g.kind)
		if len(k.rows) == 0 {
			panic(fmt.Sprintf("armkernels: GEMM %s has no block kernels", g.name))
		}
	}
	return k
}

var refPath = gemmPath{"ref", kindRef, helperGo}

// pairings lists the implementations to offer: the reference, each GEMM path with its
// natural helper level, every remaining helper level with the best GEMM, and last the
// best GEMM with the best helpers (the default). helpers holds the levels the CPU runs
// beyond Go, slowest first.
func pairings(gemms []gemmPath, helpers []helperLevel) []*Kernels {
	ks := []*Kernels{newKernels(refPath, helperGo)}
	have := func(h helperLevel) bool {
		for _, x := range helpers {
			if x == h {
				return true
			}
		}
		return h == helperGo
	}
	used := map[helperLevel]bool{helperGo: true}
	bestG := refPath
	for _, g := range gemms {
		h := g.natural
		if !have(h) {
			h = helperGo
		}
		ks = append(ks, newKernels(g, h))
		used[h] = true
		bestG = g
	}
	bestH := helperGo
	if len(helpers) > 0 {
		bestH = helpers[len(helpers)-1]
	}
	for _, h := range helpers {
		if !used[h] {
			ks = append(ks, newKernels(bestG, h))
			used[h] = true
		}
	}
	if last := ks[len(ks)-1]; last.GEMM != bestG.name || last.helper != bestH {
		ks = append(ks, newKernels(bestG, bestH))
	}
	return ks
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
	if m == 1 && w.nib != nil && hasGemv4(k.kind) {
		gemv4(k.kind, c, a, w) // batch 1 reads the weights once: half the bytes (gemv4.go)
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
		for i0 := 0; i0 < m; {
			mr := min(MR, m-i0)
			kind := blockKind(k.kind, mr)
			ap := &a[i0*lda]
			if cols == np*panelCols {
				// Where the asm loops over row blocks, one call takes every full block.
				nb := 1
				if blockLoop && mr == MR {
					nb = (m - i0) / MR
				}
				callBlock(kind, mr, np, nb, ap, lda, wp, pstride, kg, &c[i0*ldc+j0], ldc*4, corr)
				i0 += nb * mr
				continue
			}
			tw := np * panelCols
			callBlock(kind, mr, np, 1, ap, lda, wp, pstride, kg, &tile[0], tw*4, corr)
			for i := 0; i < mr; i++ {
				copy(c[(i0+i)*ldc+j0:(i0+i)*ldc+j0+cols], tile[i*tw:i*tw+cols])
			}
			i0 += mr
		}
	}
}

// blockKind returns the kernel family that runs a block of mr rows on path kind. On I8MM a
// block of one row (a batch-1 GEMV, or the last row of an m = 4q+1 GEMM) runs SDOT's: SMMLA
// takes rows in pairs, so the I8MM 1-row kernel computes its row twice and issues ~1.9x the
// SDOT kernel's instructions (docs/arm64.md). Every I8MM path has SDOT (detectARM64), both
// read the same packed layout and activation stride, and both are exact, so the output is
// the same bits.
func blockKind(kind kernelKind, mr int) kernelKind {
	if kind == kindI8MM && mr == 1 {
		return kindSDOT
	}
	return kind
}

var ref = newKernels(refPath, helperGo)

// Reference returns the pure-Go implementation (GEMM ref, helpers go), for load-time
// work that needs no speed and for tests.
func Reference() *Kernels { return ref }

var implementations = sync.OnceValue(func() []*Kernels {
	gemms, helpers := archPaths()
	return pairings(gemms, helpers)
})

// Implementations returns every implementation this machine can run: the
// reference first, then from the most portable to the fastest, covering every
// GEMM path and every helper level the CPU has. The slice is shared: do not modify it.
func Implementations() []*Kernels { return implementations() }

// ByName returns the implementation called name, or an error if it is unknown or this
// machine cannot run it. name is GEMM+HELPERS ("avx512vnni+avx2", "sdot+go") or a GEMM
// name alone ("avx2", "sdot", "ref"), which takes that GEMM's own helper level.
func ByName(name string) (*Kernels, error) {
	impls := Implementations()
	var names []string
	for _, k := range impls {
		names = append(names, k.Name)
	}
	for _, k := range impls {
		if k.Name == name {
			return k, nil
		}
	}
	gname, hname, pair := strings.Cut(name, "+")
	var g *Kernels
	for _, k := range impls {
		if k.GEMM == gname {
			g = k
			break
		}
	}
	if g == nil {
		return nil, fmt.Errorf("armkernels: kernel %q: GEMM %q not available on this machine (have %s)", name, gname, strings.Join(names, ", "))
	}
	if !pair {
		return g, nil
	}
	for _, k := range impls {
		if k.Helpers == hname {
			return newKernels(gemmPath{g.GEMM, g.kind, g.helper}, k.helper), nil
		}
	}
	return nil, fmt.Errorf("armkernels: kernel %q: helpers %q not available on this machine (have %s)", name, hname, strings.Join(names, ", "))
}

var defaultKernels = sync.OnceValue(func() *Kernels {
	return choose(os.Getenv(EnvKernel), slog.Default())
})

// Default returns the implementation chosen once per process: the fastest GEMM and
// helpers this CPU runs, unless RSSMD_KERNEL names another one it can run
// (RSSMD_KERNEL=avx2 forces the AVX2 GEMM and AVX2 helpers; avx512vnni+go the VNNI
// GEMM with Go helpers; ref everything in Go). The choice is logged once.
func Default() *Kernels { return defaultKernels() }

// choose picks the best implementation, or the one named by override when
// the machine can run it; it logs the choice on log.
func choose(override string, log *slog.Logger) *Kernels {
	impls := Implementations()
	best := impls[len(impls)-1]
	if override != "" {
		k, err := ByName(override)
		if err == nil {
			log.Info("int8 kernels selected", "kernel", k.GEMM, "source", EnvKernel, "helpers", k.Helpers, "name", k.Name)
			return k
		}
		log.Warn("ignoring "+EnvKernel, "err", err, "kernel", best.Name)
	}
	log.Info("int8 kernels selected", "kernel", best.GEMM, "source", "cpu", "helpers", best.Helpers, "name", best.Name)
	return best
}
