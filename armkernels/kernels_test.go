package armkernels

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
)

const sentinel = int32(-0x5a5a5a5a)

// gemmCase is one GEMM problem laid out in caller memory with the quirks the
// kernels must cope with: start offsets, strides larger than needed, and
// guard values around every output.
type gemmCase struct {
	m, rows, k   int
	aOff, cOff   int // start of a and c inside their buffers
	ldaX, ldcX   int // extra stride beyond the minimum
	fill         func(r *rand.Rand) int8
	wFill, aFill func(r *rand.Rand) int8 // override fill for one side
}

func (gc gemmCase) String() string {
	return fmt.Sprintf("m%d_n%d_k%d_off%d.%d_ld%d.%d", gc.m, gc.rows, gc.k, gc.aOff, gc.cOff, gc.ldaX, gc.ldcX)
}

func randI8(r *rand.Rand) int8 { return int8(r.IntN(255) - 127) }

// setup builds W, a and a guarded c for gc.
func (gc gemmCase) setup(t testing.TB, r *rand.Rand) (w *Matrix, a []int8, lda int, cbuf []int32, ldc int) {
	wf, af := randI8, randI8
	if gc.fill != nil {
		wf, af = gc.fill, gc.fill
	}
	if gc.wFill != nil {
		wf = gc.wFill
	}
	if gc.aFill != nil {
		af = gc.aFill
	}
	wv := make([]int8, gc.rows*gc.k)
	for i := range wv {
		wv[i] = wf(r)
	}
	w, err := PackMatrix(gc.rows, gc.k, wv)
	if err != nil {
		t.Fatal(err)
	}
	lda = w.Stride() + gc.ldaX
	abuf := make([]int8, gc.aOff+gc.m*lda)
	for i := range abuf {
		abuf[i] = int8(r.IntN(256) - 128) // junk between rows must be ignored
	}
	a = abuf[gc.aOff:]
	for i := 0; i < gc.m; i++ {
		for p := 0; p < lda; p++ {
			switch {
			case p < gc.k:
				a[i*lda+p] = af(r)
			case p < w.Stride():
				a[i*lda+p] = 0 // the contract: padding up to Stride is zero
			}
		}
	}
	ldc = gc.rows + gc.ldcX
	cbuf = make([]int32, gc.cOff+gc.m*ldc+8)
	for i := range cbuf {
		cbuf[i] = sentinel
	}
	return w, a, lda, cbuf, ldc
}

// check runs impl on gc and compares with an independent dot product per
// output, and checks that nothing outside the outputs was written.
func (gc gemmCase) check(t *testing.T, impl *Kernels, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	w, a, lda, cbuf, ldc := gc.setup(t, r)
	wv := make([]int8, gc.rows*gc.k) // unpack to check the packing too
	for j := 0; j < gc.rows; j++ {
		for p := 0; p < gc.k; p++ {
			wv[j*gc.k+p] = w.at(j, p)
		}
	}
	impl.Gemm(cbuf[gc.cOff:], ldc, a, lda, gc.m, w)
	markTested(impl.GEMM, "")
	bad := 0
	for idx, got := range cbuf {
		q := idx - gc.cOff
		i, j := q/ldc, q%ldc
		want := sentinel
		if q >= 0 && i < gc.m && j < gc.rows {
			want = 0
			for p := 0; p < gc.k; p++ {
				want += int32(a[i*lda+p]) * int32(wv[j*gc.k+p])
			}
		}
		if got != want {
			if bad++; bad <= 5 {
				t.Errorf("%s %v: c[%d] (row %d col %d) = %d, want %d", impl.Name, gc, q, i, j, got, want)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s %v: %d wrong values", impl.Name, gc, bad)
	}
}

func TestGemmShapes(t *testing.T) {
	ms := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 19, 24, 25}
	rowsList := []int{1, 2, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 80, 127, 128, 129, 193}
	ks := []int{1, 2, 3, 4, 5, 8, 9, 13, 48, 64, 65}
	for _, impl := range Implementations() {
		t.Run(impl.Name, func(t *testing.T) {
			seed := uint64(0)
			for _, m := range ms {
				for _, rows := range rowsList {
					for _, k := range ks {
						seed++
						gemmCase{m: m, rows: rows, k: k}.check(t, impl, seed)
					}
				}
			}
		})
	}
}

func TestGemmLayouts(t *testing.T) {
	var cases []gemmCase
	for _, off := range []int{0, 1, 3} {
		for _, ldx := range []int{0, 1, 5, 64} {
			cases = append(cases,
				gemmCase{m: 7, rows: 70, k: 37, aOff: off, cOff: off, ldaX: ldx, ldcX: ldx},
				gemmCase{m: 1, rows: 17, k: 100, aOff: off + 2, cOff: off, ldaX: ldx, ldcX: 2 * ldx},
			)
		}
	}
	for _, impl := range Implementations() {
		for i, gc := range cases {
			t.Run(impl.Name+"/"+gc.String(), func(t *testing.T) { gc.check(t, impl, uint64(i)) })
		}
	}
}

// TestGemmExtremes drives every accumulator to its largest magnitude: with
// VPMADDUBSW each int16 pair sum is then 2·127·127, and with VNNI the offset
// activations reach 255.
func TestGemmExtremes(t *testing.T) {
	c := func(v int8) func(*rand.Rand) int8 { return func(*rand.Rand) int8 { return v } }
	signs := func(r *rand.Rand) int8 { return int8(127 * (2*r.IntN(2) - 1)) }
	cases := []struct {
		name   string
		wf, af func(*rand.Rand) int8
	}{
		{"pos-pos", c(127), c(127)},
		{"neg-neg", c(-127), c(-127)},
		{"pos-neg", c(127), c(-127)},
		{"neg-pos", c(-127), c(127)},
		{"random-signs", signs, signs},
		{"a-128", c(127), c(-128)}, // outside the contract but still exact in every kernel
	}
	for _, impl := range Implementations() {
		for _, tc := range cases {
			for _, k := range []int{4, 63, 1024, 4099} {
				gc := gemmCase{m: 7, rows: 33, k: k, wFill: tc.wf, aFill: tc.af}
				t.Run(fmt.Sprintf("%s/%s/k%d", impl.Name, tc.name, k), func(t *testing.T) { gc.check(t, impl, 1) })
			}
		}
	}
}

func TestGemmNoAlloc(t *testing.T) {
	for _, impl := range Implementations() {
		r := rand.New(rand.NewPCG(1, 2))
		gc := gemmCase{m: 9, rows: 70, k: 50} // tail rows and a partial panel
		w, a, lda, c, ldc := gc.setup(t, r)
		if n := testing.AllocsPerRun(20, func() { impl.Gemm(c, ldc, a, lda, gc.m, w) }); n != 0 {
			t.Errorf("%s: Gemm allocates %v times per call", impl.Name, n)
		}
	}
}

// TestGemmOverlappingRows slides rows one group, one stride-unaligned step and one
// byte apart over a single buffer (allowed when K is the stride) and compares
// each implementation with a direct dot product.
func TestGemmOverlappingRows(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	cases := []struct{ m, rows, k, lda int }{
		{1, 12, 288, 96}, {37, 12, 288, 96}, {25, 33, 64, 1}, {13, 16, 48, 20}, {30, 70, 96, 32},
	}
	for _, tc := range cases {
		wv := make([]int8, tc.rows*tc.k)
		for i := range wv {
			wv[i] = int8(r.IntN(255) - 127)
		}
		w, err := PackMatrix(tc.rows, tc.k, wv)
		if err != nil {
			t.Fatal(err)
		}
		if w.Stride() != tc.k {
			t.Fatalf("k %d: stride %d, the case needs K = stride", tc.k, w.Stride())
		}
		a := make([]int8, (tc.m-1)*tc.lda+tc.k)
		for i := range a {
			a[i] = int8(r.IntN(256) - 128)
		}
		for _, impl := range Implementations() {
			c := make([]int32, tc.m*tc.rows)
			impl.Gemm(c, tc.rows, a, tc.lda, tc.m, w)
			for i := 0; i < tc.m; i++ {
				for j := 0; j < tc.rows; j++ {
					var want int32
					for p := 0; p < tc.k; p++ {
						want += int32(a[i*tc.lda+p]) * int32(wv[j*tc.k+p])
					}
					if got := c[i*tc.rows+j]; got != want {
						t.Fatalf("%s %+v: c[%d][%d] = %d, want %d", impl.Name, tc, i, j, got, want)
					}
				}
			}
		}
	}
}

func TestGemmBadShapesPanic(t *testing.T) {
	w, err := PackMatrix(3, 10, make([]int8, 30))
	if err != nil {
		t.Fatal(err)
	}
	if w.Stride() != 16 {
		t.Fatalf("Stride() = %d, the cases below assume 16", w.Stride())
	}
	cases := []struct {
		name        string
		c           []int32
		ldc, lda, m int
		a           []int8
		w           *Matrix
		want        string
	}{
		{"nil matrix", make([]int32, 3), 3, 16, 1, make([]int8, 16), nil, "nil matrix"},
		{"negative m", make([]int32, 3), 3, 16, -1, make([]int8, 16), w, "m = -1"},
		{"lda below stride", make([]int32, 3), 3, 10, 1, make([]int8, 16), w, "lda 10"},
		{"zero lda", make([]int32, 3), 3, 0, 1, make([]int8, 16), w, "lda 0"},
		{"ldc below rows", make([]int32, 3), 2, 16, 1, make([]int8, 16), w, "ldc 2"},
		{"short a", make([]int32, 6), 3, 16, 2, make([]int8, 31), w, "activations hold 31"},
		{"short c", make([]int32, 5), 3, 16, 2, make([]int8, 32), w, "output holds 5"},
	}
	for _, impl := range Implementations() {
		for _, tc := range cases {
			t.Run(impl.Name+"/"+tc.name, func(t *testing.T) {
				defer func() {
					r := recover()
					err, ok := r.(error)
					if !ok || !strings.Contains(err.Error(), tc.want) {
						t.Errorf("panic %v, want an error containing %q", r, tc.want)
					}
				}()
				impl.Gemm(tc.c, tc.ldc, tc.a, tc.lda, tc.m, tc.w)
			})
		}
	}
}

func TestPackMatrix(t *testing.T) {
	cases := []struct {
		name    string
		rows, k int
		w       []int8
		wantErr bool
	}{
		{"ok", 2, 3, []int8{1, 2, 3, -4, -5, -127}, false},
		{"minus 128", 2, 3, []int8{1, 2, 3, -4, -128, 6}, true},
		{"short", 2, 3, make([]int8, 5), true},
		{"long", 2, 3, make([]int8, 7), true},
		{"zero rows", 0, 3, nil, true},
		{"negative k", 2, -3, nil, true},
		{"huge k", 1, maxK + 1, nil, true}, // rejected before looking at w
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := PackMatrix(tc.rows, tc.k, tc.w)
			if tc.wantErr {
				if !errors.Is(err, ErrRange) {
					t.Fatalf("err = %v, want ErrRange", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Stride()%strideAlign != 0 || m.Stride() < tc.k {
				t.Errorf("Stride %d for k %d", m.Stride(), tc.k)
			}
			for j := 0; j < tc.rows; j++ {
				var sum int32
				for p := 0; p < tc.k; p++ {
					if got := m.at(j, p); got != tc.w[j*tc.k+p] {
						t.Errorf("W[%d][%d] = %d, want %d", j, p, got, tc.w[j*tc.k+p])
					}
					sum += int32(tc.w[j*tc.k+p])
				}
				if m.RowSums()[j] != sum {
					t.Errorf("row sum %d = %d, want %d", j, m.RowSums()[j], sum)
				}
			}
		})
	}
}

func TestByName(t *testing.T) {
	impls := Implementations()
	for _, impl := range impls {
		got, err := ByName(impl.Name)
		if err != nil || got != impl {
			t.Errorf("ByName(%q) = %v, %v", impl.Name, got, err)
		}
		// A GEMM name alone takes that GEMM's own helper level.
		got, err = ByName(impl.GEMM)
		if err != nil || got.GEMM != impl.GEMM {
			t.Errorf("ByName(%q) = %v, %v", impl.GEMM, got, err)
		}
	}
	// Any GEMM with any helper level the machine has, in both directions.
	best := impls[len(impls)-1]
	for _, name := range []string{best.GEMM + "+go", "ref+" + best.Helpers} {
		got, err := ByName(name)
		if err != nil || got.Name != name {
			t.Errorf("ByName(%q) = %v, %v", name, got, err)
			continue
		}
		g, _, _ := strings.Cut(name, "+")
		if want, _ := ByName(g); got.kind != want.kind || got.Helpers != strings.TrimPrefix(name, g+"+") {
			t.Errorf("ByName(%q) has GEMM kind %d helpers %s", name, got.kind, got.Helpers)
		}
	}
	for _, bad := range []string{"z80", "ref+z80", "z80+go", "+go"} {
		if _, err := ByName(bad); err == nil || !strings.Contains(err.Error(), "ref+go") {
			t.Errorf("ByName(%q) error %v should list the available kernels", bad, err)
		}
	}
}

// TestPairings: every GEMM path and every helper level appears, the reference first and
// the best of both last, on each CPU generation the detection can report.
func TestPairings(t *testing.T) {
	avx2 := gemmPath{"avx2", kindRef, helperAVX2}
	vnni := gemmPath{"avx512vnni", kindRef, helperAVX512}
	avxvnni := gemmPath{"avxvnni", kindRef, helperAVX2}
	for _, tc := range []struct {
		name    string
		gemms   []gemmPath
		helpers []helperLevel
		want    []string
	}{
		{"no simd", nil, nil, []string{"ref+go"}},
		{"avx2", []gemmPath{avx2}, []helperLevel{helperAVX2}, []string{"ref+go", "avx2+avx2"}},
		{"avx512 without vnni", []gemmPath{avx2}, []helperLevel{helperAVX2, helperAVX512}, []string{"ref+go", "avx2+avx2", "avx2+avx512"}},
		{"vnni", []gemmPath{avx2, vnni}, []helperLevel{helperAVX2, helperAVX512}, []string{"ref+go", "avx2+avx2", "avx512vnni+avx512"}},
		{"avx-vnni without avx512", []gemmPath{avx2, avxvnni}, []helperLevel{helperAVX2}, []string{"ref+go", "avx2+avx2", "avxvnni+avx2"}},
		{"avx-vnni and vnni", []gemmPath{avx2, avxvnni, vnni}, []helperLevel{helperAVX2, helperAVX512}, []string{"ref+go", "avx2+avx2", "avxvnni+avx2", "avx512vnni+avx512"}},
		{"neon gemm, go helpers", []gemmPath{{"neon", kindRef, helperNEON}}, nil, []string{"ref+go", "neon+go"}},
		{"sdot", []gemmPath{{"neon", kindRef, helperNEON}, {"sdot", kindRef, helperNEON}}, []helperLevel{helperNEON}, []string{"ref+go", "neon+neon", "sdot+neon"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(pairings(tc.gemms, tc.helpers)); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("pairings = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCallBlockUnknownShape: a block shape without a kernel panics instead of leaving its
// outputs unwritten.
func TestCallBlockUnknownShape(t *testing.T) {
	for _, impl := range Implementations()[1:] {
		t.Run(impl.Name, func(t *testing.T) {
			defer func() {
				if _, ok := recover().(blockError); !ok {
					t.Error("callBlock with an unknown shape did not panic with a blockError")
				}
			}()
			var c [maxBlock * panelCols]int32
			var a [64]int8
			callBlock(impl.kind, 15, len(impl.rows)+1, 1, &a[0], 8, &a[0], 8, 1, &c[0], 64, &c[0])
		})
	}
	defer func() {
		if r, _ := recover().(blockError); !strings.Contains(fmt.Sprint(r), "no block kernel") {
			t.Errorf("unknown kind: recovered %v", r)
		}
	}()
	callBlock(kernelKind(200), 1, 1, 1, nil, 0, nil, 0, 0, nil, 0, nil)
}

func TestChoose(t *testing.T) {
	impls := Implementations()
	best := impls[len(impls)-1]
	natural := best // a GEMM name alone takes its own helper level: the first pairing listed
	for i := len(impls) - 1; i >= 0; i-- {
		if impls[i].GEMM == best.GEMM {
			natural = impls[i]
		}
	}
	cases := []struct {
		override, want, log string
	}{
		{"", best.Name, "source=cpu"},
		{"ref", "ref+go", "source=" + EnvKernel},
		{best.GEMM, natural.Name, "source=" + EnvKernel},
		{best.GEMM + "+go", best.GEMM + "+go", "source=" + EnvKernel},
		{"no-such-kernel", best.Name, "level=WARN"},
	}
	for _, tc := range cases {
		t.Run(tc.override, func(t *testing.T) {
			var buf bytes.Buffer
			got := choose(tc.override, slog.New(slog.NewTextHandler(&buf, nil)))
			if got.Name != tc.want {
				t.Errorf("choose(%q) = %s, want %s", tc.override, got.Name, tc.want)
			}
			// One log line names both paths; "kernel=<gemm> source=" stays greppable.
			g, h, _ := strings.Cut(tc.want, "+")
			if !strings.Contains(buf.String(), tc.log) || !strings.Contains(buf.String(), "kernel="+g+" source=") || !strings.Contains(buf.String(), "helpers="+h+" name="+tc.want) {
				t.Errorf("choose(%q) logged %q, want %q, kernel=%s and helpers=%s", tc.override, buf.String(), tc.log, g, h)
			}
		})
	}
}

func names(ks []*Kernels) []string {
	var s []string
	for _, k := range ks {
		s = append(s, k.Name)
	}
	return s
}

// FuzzGemm compares every implementation with the reference on shapes and
// values drawn from the input.
func FuzzGemm(f *testing.F) {
	f.Add(uint8(3), uint8(17), uint8(5), uint8(1), []byte{1, 2, 3, 255, 128, 127})
	f.Add(uint8(7), uint8(64), uint8(64), uint8(0), []byte{127, 129})
	f.Add(uint8(1), uint8(1), uint8(1), uint8(3), []byte{})
	f.Fuzz(func(t *testing.T, m, rows, k, extra uint8, data []byte) {
		gm, gr, gk := int(m%20), int(rows%200)+1, int(k)+1
		val := func(i int) int8 {
			if len(data) == 0 {
				return 1
			}
			v := int8(data[i%len(data)] + byte(i/len(data)))
			return max(v, -127)
		}
		wv := make([]int8, gr*gk)
		for i := range wv {
			wv[i] = val(i)
		}
		w, err := PackMatrix(gr, gk, wv)
		if err != nil {
			t.Fatal(err)
		}
		lda, ldc := w.Stride()+int(extra%5), gr+int(extra%3)
		a := make([]int8, gm*lda+int(extra%4))[extra%4:]
		for i := 0; i < gm; i++ {
			for p := 0; p < gk; p++ {
				a[i*lda+p] = val(7*i + 3*p + 1)
			}
		}
		want := make([]int32, gm*ldc)
		ref.Gemm(want, ldc, a, lda, gm, w)
		for _, impl := range Implementations()[1:] {
			got := make([]int32, gm*ldc)
			impl.Gemm(got, ldc, a, lda, gm, w)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: m=%d rows=%d k=%d: c[%d] = %d, ref %d", impl.Name, gm, gr, gk, i, got[i], want[i])
				}
			}
		}
	})
}

func TestBlockShapes(t *testing.T) {
	for _, impl := range Implementations()[1:] {
		if len(impl.rows) == 0 {
			t.Errorf("%s: no block shapes", impl.Name)
		}
		for i, mr := range impl.rows {
			if mr < 1 || mr*(i+1) > maxBlock {
				t.Errorf("%s: %d rows × %d panels outside [1, %d] accumulators", impl.Name, mr, i+1, maxBlock)
			}
		}
	}
}
