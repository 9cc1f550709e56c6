package quant

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
)

// correlatedGram returns the Gram matrix of m samples of n correlated, ReLU'd inputs (as the
// decoder's feature maps are: shared factors, many zeros).
func correlatedGram(rng *rand.Rand, n, m int) []float64 {
	g := make([]float64, n*n)
	x := make([]float64, n)
	mix := make([]float64, n*4)
	for i := range mix {
		mix[i] = rng.NormFloat64()
	}
	for s := 0; s < m; s++ {
		f := [4]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		for i := range x {
			v := 0.3 * rng.NormFloat64()
			for k := range f {
				v += mix[i*4+k] * f[k]
			}
			x[i] = max(v, 0)
		}
		for i := range x {
			for j := range x {
				g[i*n+j] += x[i] * x[j]
			}
		}
	}
	return g
}

func TestRoundingFactorInvertsGram(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 12
	h := correlatedGram(rng, n, 200)
	u, err := roundingFactor(h, n)
	if err != nil {
		t.Fatal(err)
	}
	// Uᵀ·U·(H + damp·I) = I, and U is upper triangular.
	var tr float64
	for i := 0; i < n; i++ {
		tr += h[i*n+i]
	}
	damp := gramDamp * tr / n
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			if u[i*n+j] != 0 {
				t.Fatalf("U[%d][%d] = %v below the diagonal", i, j, u[i*n+j])
			}
		}
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for k := 0; k < n; k++ {
				var inv float64 // (UᵀU)[i][k]
				for l := 0; l < n; l++ {
					inv += u[l*n+i] * u[l*n+k]
				}
				hk := h[k*n+j]
				if k == j {
					hk += damp
				}
				s += inv * hk
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(s-want) > 1e-8 {
				t.Fatalf("(UᵀU·(H+λI))[%d][%d] = %v, want %v", i, j, s, want)
			}
		}
	}
}

// TestRounderOrder: inputs are rounded strongest first (decreasing Gram diagonal), and a
// Gram matrix of the wrong size is an error.
func TestRounderOrder(t *testing.T) {
	h := []float64{
		1, 0, 0,
		0, 9, 0,
		0, 0, 4,
	}
	rd, err := newRounder(h, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 0}; !reflect.DeepEqual(rd.perm, want) {
		t.Errorf("rounding order %v, want %v", rd.perm, want)
	}
	if _, err := newRounder(h, 2); err == nil || !strings.Contains(err.Error(), "holds 9 values") {
		t.Errorf("3×3 Gram matrix as 2×2: error %v", err)
	}
}

func TestRoundingFactorRejectsBadGram(t *testing.T) {
	for _, c := range []struct {
		name string
		h    []float64
		n    int
		want string
	}{
		{"size", make([]float64, 5), 2, "holds 5 values"},
		{"negative diagonal", []float64{-1, 0, 0, 1}, 2, "diagonal 0 is -1"},
		{"NaN diagonal", []float64{1, 0, 0, math.NaN()}, 2, "diagonal 1 is NaN"},
		{"infinite diagonal", []float64{math.Inf(1), 0, 0, 1}, 2, "diagonal 0 is +Inf"},
		{"NaN off the diagonal", []float64{1, math.NaN(), math.NaN(), 1}, 2, "not positive definite"},
		{"indefinite", []float64{1, 5, 5, 1}, 2, "not positive definite"},
	} {
		_, err := roundingFactor(c.h, c.n)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// An input that never fired is no error: its weights are free.
	if _, err := roundingFactor([]float64{0, 0, 0, 2}, 2); err != nil {
		t.Errorf("Gram with a dead input: %v", err)
	}
	if _, err := roundingFactor(make([]float64, 4), 2); err != nil {
		t.Errorf("all-zero Gram: %v", err)
	}
}

// TestRoundRowBeatsNearest checks the point of output-aware rounding: on correlated inputs,
// rows rounded by rounder.round (and refineRow) have less output error than rounded to nearest,
// by a margin, and refineRow never adds error. Codes stay within ±127.
func TestRoundRowBeatsNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, rows = 32, 64
	h := correlatedGram(rng, n, 2000)
	rd, err := newRounder(h, n)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, n)
	q, qn := make([]int8, n), make([]int8, n)
	work, d := make([]float64, n), make([]float64, n)
	var eNear, eRound, eRefine float64
	for r := 0; r < rows; r++ {
		var mx float64
		for i := range w {
			w[i] = float32(rng.NormFloat64() * 0.05)
			mx = max(mx, math.Abs(float64(w[i])))
		}
		s := mx / 127
		for i, v := range w {
			qn[i] = int8(math.Round(float64(v) / s))
		}
		rd.round(q, w, s, work)
		e1 := rowError(w, q, s, h, d)
		refineRow(q, w, s, h, work, d)
		e2 := rowError(w, q, s, h, d)
		if e2 > e1*(1+1e-12) {
			t.Fatalf("row %d: refineRow raised the error %v → %v", r, e1, e2)
		}
		for i, c := range q {
			if c < -127 {
				t.Fatalf("row %d: code %d at %d", r, c, i)
			}
		}
		eNear += rowError(w, qn, s, h, d)
		eRound += e1
		eRefine += e2
	}
	t.Logf("output error: nearest %.4g, rounder %.4g, + refineRow %.4g", eNear, eRound, eRefine)
	if !(eRefine < 0.7*eNear) {
		t.Errorf("output-aware rounding error %.4g, nearest %.4g: want under 70%%", eRefine, eNear)
	}
}

// TestRoundRowIdentityGram: with uncorrelated inputs of equal power nothing is worth
// feeding back, and the codes are the nearest ones.
func TestRoundRowIdentityGram(t *testing.T) {
	const n = 16
	h := make([]float64, n*n)
	for i := 0; i < n; i++ {
		h[i*n+i] = 3
	}
	rd, err := newRounder(h, n)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	w := make([]float32, n)
	q := make([]int8, n)
	work, d := make([]float64, n), make([]float64, n)
	for r := 0; r < 50; r++ {
		for i := range w {
			w[i] = float32(rng.Float64()*2 - 1)
		}
		const s = 1.0 / 127
		rd.round(q, w, s, work)
		refineRow(q, w, s, h, work, d)
		for i, v := range w {
			if want := int8(math.Round(float64(v) / s)); q[i] != want {
				t.Fatalf("w %v: code %d, want %d", v, q[i], want)
			}
		}
	}
}

// TestQuantizeCalibrated: without Gram matrices it is Quantize bit for bit; with them the
// decoder weights change, the model still round-trips through its bundle (no new format),
// and a Gram matrix of the wrong size or a non-finite one is an error naming the layer.
func TestQuantizeCalibrated(t *testing.T) {
	fm, ref, _ := small(t)
	a := fm.Arch
	sc := fixedScales(a, 4)
	same, err := QuantizeCalibrated(fm, sc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload := func(m *Model) []bundle.TensorData {
		p, err := m.BundlePayload(bundle.Provenance{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Tensors
	}
	if !reflect.DeepEqual(payload(same), payload(ref)) {
		t.Fatal("QuantizeCalibrated without Gram matrices differs from Quantize")
	}

	rng := rand.New(rand.NewPCG(7, 8))
	grams := map[string][]float64{}
	for i, sp := range model.DecoderLayers(a) {
		if i == 0 && SeedMerged(a) {
			grams[SeedName] = correlatedGram(rng, a.Deter+a.Stoch, 400)
			continue
		}
		grams[DecPoint(i)] = correlatedGram(rng, sp.Cin, 400)
	}
	qm, err := QuantizeCalibrated(fm, sc, nil, grams)
	if err != nil {
		t.Fatal(err)
	}
	pq := payload(qm)
	if reflect.DeepEqual(pq, payload(ref)) {
		t.Fatal("Gram matrices changed no weight")
	}
	p, err := qm.BundlePayload(bundle.Provenance{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromBundle(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(payload(back), pq) {
		t.Fatal("bundle of the calibrated model does not reload to the same tensors")
	}

	last := DecPoint(len(model.DecoderLayers(a)) - 1)
	for name, bad := range map[string][]float64{
		"short": make([]float64, 3),
		"NaN":   append([]float64{math.NaN()}, make([]float64, len(grams[last])-1)...),
	} {
		g := map[string][]float64{last: bad}
		_, err := QuantizeCalibrated(fm, sc, nil, g)
		if err == nil || !strings.Contains(err.Error(), model.DecoderLayers(a)[len(model.DecoderLayers(a))-1].Prefix) {
			t.Errorf("%s Gram matrix: error %v, want one naming the layer", name, err)
		}
	}
}
