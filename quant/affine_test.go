package quant

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
)

// shiftedZeros gives every point that takes one a small zero point. With the fixed scales
// of small() no activation comes near the clamp, so the codes are the symmetric codes
// shifted by the zero point and every output must match the symmetric model up to float
// rounding: a wrong zero-point term (bias fold, im2col padding, the transposed convs'
// position-dependent start, the fused requantisation) shows as a large difference.
func shiftedZeros(a *model.Arch) map[string]int32 {
	z := map[string]int32{}
	for i, p := range Points(a) {
		if ZeroPointOK(p) {
			z[p] = int32(3 - 7*(i%2)) // +3 and −4 in turn
		}
	}
	return z
}

func TestZeroPointsExact(t *testing.T) {
	fm, sym, seq := small(t)
	zeros := shiftedZeros(fm.Arch)
	asym, err := QuantizeAffine(fm, fixedScales(fm.Arch, 4), zeros)
	if err != nil {
		t.Fatal(err)
	}
	for p, z := range zeros {
		if asym.Zeros[p] != z {
			t.Fatalf("zero point %s = %d, want %d", p, asym.Zeros[p], z)
		}
	}
	opt := model.FilterOptions{RolloutStart: 8, RolloutHorizon: 4}
	want, err := model.Filter(sym.NewRunner(nil), seq, opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.Filter(asym.NewRunner(nil), seq, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		var mx, diff float64
		for j, w := range want[i].Data {
			mx = math.Max(mx, math.Abs(float64(w)))
			diff = math.Max(diff, math.Abs(float64(got[i].Data[j]-w)))
		}
		// A one-level flip of a code on an exact rounding tie is the most float order may cause.
		if diff > 1e-3*math.Max(mx, 1) {
			t.Errorf("%s: zero points change the output by %.3g (largest magnitude %.3g)", want[i].Name, diff, mx)
		}
	}
}

func TestZeroPointErrors(t *testing.T) {
	fm, _, _ := small(t)
	tests := []struct {
		name  string
		zeros map[string]int32
	}{
		{"image input", map[string]int32{EncPoint(0): 5}},
		{"unknown point", map[string]int32{"nope": 1}},
		{"too low", map[string]int32{PointEmb: -129}},
		{"too high", map[string]int32{PointEmb: 128}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := QuantizeAffine(fm, fixedScales(fm.Arch, 4), tc.zeros); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// TestBundleZeroPoints: zero points survive the bundle, and malformed ones are refused.
func TestBundleZeroPoints(t *testing.T) {
	fm, _, seq := small(t)
	qm, err := QuantizeAffine(fm, fixedScales(fm.Arch, 4), shiftedZeros(fm.Arch))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.int8.rssm")
	if err := SaveBundle(qm, path, bundle.Provenance{}); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	opt := model.FilterOptions{RolloutStart: 8, RolloutHorizon: 4}
	want, _ := model.Filter(qm.NewRunner(nil), seq, opt)
	got, err := model.Filter(back.NewRunner(nil), seq, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for j := range want[i].Data {
			if math.Float32bits(want[i].Data[j]) != math.Float32bits(got[i].Data[j]) {
				t.Fatalf("%s[%d]: reloaded %v, original %v", want[i].Name, j, got[i].Data[j], want[i].Data[j])
			}
		}
	}
	for _, bad := range []float32{2.5, 200, -129, float32(math.NaN())} {
		p, err := qm.BundlePayload(bundle.Provenance{})
		if err != nil {
			t.Fatal(err)
		}
		p.Tensors = append(p.Tensors, bundle.FromFloat32(zeroTensorName+PointDeter, []int{1}, []float32{bad}))
		if _, err := FromBundle(p); err == nil {
			t.Errorf("zero point %v accepted", bad)
		}
	}
}

func TestQ8Z(t *testing.T) {
	tests := []struct {
		v, inv float32
		zero   int32
		want   int8
	}{
		{0, 10, -128, -128},
		{1.04, 10, -128, -118},
		{25.5, 10, -128, 127},
		{-1, 10, -128, -128},
		{0.25, 10, 5, 8}, // 2.5 rounds to even
		{float32(math.NaN()), 1, 7, 7},
		{float32(math.Inf(1)), 1, 0, 127},
		{float32(math.Inf(-1)), 1, 0, -128},
	}
	for _, tc := range tests {
		if got := q8z(tc.v, tc.inv, tc.zero); got != tc.want {
			t.Errorf("q8z(%v, %v, %d) = %d, want %d", tc.v, tc.inv, tc.zero, got, tc.want)
		}
	}
}

// TestWalkerBundleSize checks issue 3's size target on the shared walker model: the int8
// bundle is at most 30% of the float32 bundle.
func TestWalkerBundleSize(t *testing.T) {
	fm, qm, _ := walker(t)
	dir := t.TempDir()
	qpath, fpath := filepath.Join(dir, "w.int8.rssm"), filepath.Join(dir, "w.f32.rssm")
	if err := SaveBundle(qm, qpath, bundle.Provenance{}); err != nil {
		t.Fatal(err)
	}
	if err := model.SaveBundle(fm, fpath, bundle.Provenance{}); err != nil {
		t.Fatal(err)
	}
	qs, err := os.Stat(qpath)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := os.Stat(fpath)
	if err != nil {
		t.Fatal(err)
	}
	ratio := float64(qs.Size()) / float64(fs.Size())
	t.Logf("walker: int8 bundle %d bytes, float32 %d (%.1f%%)", qs.Size(), fs.Size(), 100*ratio)
	if ratio > 0.30 {
		t.Errorf("int8 bundle is %.1f%% of the float32 bundle, want ≤ 30%%", 100*ratio)
	}
}
