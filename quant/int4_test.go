package quant

import (
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
)

// TestQuantizeInt4Layers: QuantizeCalibratedInt4 gives exactly the named Linears codes in
// [−7, 7] (every other layer keeps int8's range), a bundle round trip keeps them, and where
// the CPU has the 4-bit GEMV their matrices hold nibbles; a name outside Int4Layers is an
// error, not a silently int8 layer.
func TestQuantizeInt4Layers(t *testing.T) {
	fm, err := model.Load(filepath.Join("..", "model", "testdata", "trained", "rssmo-m"))
	if err != nil {
		t.Fatal(err)
	}
	qm, err := QuantizeCalibratedInt4(fm, fixedScales(fm.Arch, 4), nil, nil, Int4Layers, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := qm.BundlePayload(bundle.Provenance{})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := FromBundle(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Model{qm, loaded} {
		layers := map[string]*qlinear{"memory_cell.input_layer": m.gru, "posterior_net.net.0": m.post.in,
			"decoders.image.net.0": m.decLin, "prior_net.net.0": m.prior.in, "posterior_net.net.3": m.post.head}
		for name, l := range layers {
			four := name != "prior_net.net.0" && name != "posterior_net.net.3"
			for _, s := range l.segs {
				lo, hi := int8(0), int8(0)
				for _, v := range s.q {
					lo, hi = min(lo, v), max(hi, v)
				}
				if four && (lo < -7 || hi > 7) {
					t.Errorf("%s (%s): codes in [%d, %d], want 4-bit [-7, 7]", name, s.point, lo, hi)
				}
				if !four && int(hi)-int(lo) <= 14 {
					t.Errorf("%s (%s): codes in [%d, %d]: an int8 layer rounded to 4 bits", name, s.point, lo, hi)
				}
				if four && s.w.Nibbles() != armkernels.HasGemv4() {
					t.Errorf("%s (%s): Nibbles() = %v on a machine whose 4-bit GEMV exists: %v", name, s.point, s.w.Nibbles(), armkernels.HasGemv4())
				}
			}
		}
	}
	if _, err := QuantizeCalibratedInt4(fm, fixedScales(fm.Arch, 4), nil, nil, []string{"prior_net.net.0"}, nil); err == nil {
		t.Error("prior_net.net.0 accepted as a 4-bit layer")
	}
}

// TestQuantizeWeights4: each row's codes fit [−7, 7] and its scale is the clip with the
// least (weighted) squared error among int4Clips, unweighted and with per-input weights
// (which change the choice: an input that weighs little may be clipped); an all-zero row
// stays finite.
func TestQuantizeWeights4(t *testing.T) {
	w := []float32{1, -0.5, 0.25, 0.01, 3, 0, 0, 0, 0, 0, 0, 0.2, -0.1, 0.05, 0.12, -0.07}
	const rows, k = 4, 4
	for _, d := range [][]float64{nil, {0.01, 1, 2, 1}} {
		q, sc := quantizeWeights4(w, rows, k, d)
		for j := range rows {
			if !(sc[j] > 0) {
				t.Fatalf("row %d: scale %v", j, sc[j])
			}
			rowErr := func(s float32) float64 {
				var e float64
				for i, v := range w[j*k : (j+1)*k] {
					c := code4(v, s)
					if s == sc[j] && c != q[j*k+i] {
						t.Fatalf("row %d: code %d, want %d", j, q[j*k+i], c)
					}
					r := float64(v) - float64(s)*float64(c)
					if d != nil {
						r *= r * d[i]
					} else {
						r *= r
					}
					e += r
				}
				return e
			}
			var mx float32
			for _, v := range w[j*k : (j+1)*k] {
				mx = max(mx, v, -v)
			}
			if mx == 0 {
				continue
			}
			got := rowErr(sc[j])
			for _, c := range int4Clips {
				if e := rowErr(float32(c * float64(mx) / 7)); e < got*(1-1e-6) {
					t.Errorf("weights %v row %d: clip %v has error %g below the chosen scale's %g", d, j, c, e, got)
				}
			}
		}
	}
	// Row 0 has its max on the input weighted 0.01: weighted, a clip pays.
	_, plain := quantizeWeights4(w[:4], 1, 4, nil)
	_, weighted := quantizeWeights4(w[:4], 1, 4, []float64{0.01, 1, 2, 1})
	if plain[0] == weighted[0] {
		t.Errorf("row 0: the same scale %v with and without input weights", plain[0])
	}
}
