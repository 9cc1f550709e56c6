package calibration

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

// sharedTestdata returns <repo>/../shared/testdata. Outside CI a missing folder skips the
// test; in CI (env CI set) it fails, because CI provides it.
func sharedTestdata(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must provide %s: %v", dir, err)
		}
		t.Skipf("shared test data not present at %s (a fresh clone has none; CI provides it)", dir)
	}
	return dir
}

func readSeqs(t testing.TB, paths ...string) []*model.Sequence {
	t.Helper()
	var out []*model.Sequence
	for _, p := range paths {
		s, err := seqio.ReadSequenceFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestWalkerAccuracy is the end-to-end check of the int8 targets on the shared walker model:
// calibrated on seq-0*.npz (a subset, for CI's two cores), evaluated on long-300 (every step
// for deter; images on a subsample) and on the golden input.
func TestWalkerAccuracy(t *testing.T) {
	td := sharedTestdata(t)
	fm, err := model.Load(filepath.Join(td, "models", "walker-wm-synthetic"))
	if err != nil {
		t.Fatal(err)
	}
	calib, err := filepath.Glob(filepath.Join(td, "sequences", "seq-0*.npz"))
	if err != nil || len(calib) < 2 {
		t.Fatalf("calibration sequences: %v (%d found)", err, len(calib))
	}
	qm, err := Calibrate(fm, readSeqs(t, calib[:2]...), Options{Method: DefaultMethod, DecodeEvery: 4})
	if err != nil {
		t.Fatal(err)
	}
	evals := []struct {
		name string
		path string
		opt  CompareOptions
	}{
		{"long-300", filepath.Join(td, "sequences", "long-300.npz"), CompareOptions{DecodeEvery: 10, RolloutEvery: 100}},
		{"golden", filepath.Join(td, "golden", "shared-walker", "seq.npz"), CompareOptions{DecodeEvery: 2, RolloutEvery: 20}},
	}
	for _, ev := range evals {
		seq := readSeqs(t, ev.path)[0]
		r, err := Compare(ev.name, fm.NewRunner(), qm.NewRunner(nil), seq, ev.opt)
		if err != nil {
			t.Fatal(err)
		}
		(&Report{Method: DefaultMethod, Seqs: []SeqReport{*r}}).Write(testWriter{t})
		if ev.name == "long-300" && r.Steps < 300 {
			t.Errorf("long-300 has %d steps", r.Steps)
		}
		for step, c := range r.DeterCos {
			if c < 0.995 {
				t.Errorf("%s step %d: deter cosine %.5f < 0.995", ev.name, step, c)
				break
			}
		}
		if r.ELBORelMedian > 0.01 {
			t.Errorf("%s: median ELBO relative error %.4f > 1%%", ev.name, r.ELBORelMedian)
		}
		if r.PSNRMin < 35 {
			t.Errorf("%s: decoded-image PSNR min %.2f dB < 35", ev.name, r.PSNRMin)
		}
		if r.Rollouts == 0 || r.RolloutPSNRMin < 35 {
			t.Errorf("%s: rollout-image PSNR min %.2f dB < 35 (%d rollouts)", ev.name, r.RolloutPSNRMin, r.Rollouts)
		}
	}
}

// TestCalibrateSmall calibrates the committed cnnha-actions golden model on its own sequence
// (no shared data needed) with every method and checks the report is sane.
func TestCalibrateSmall(t *testing.T) {
	dir := filepath.Join("..", "model", "testdata", "golden", "cnnha-actions")
	fm, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	seq := readSeqs(t, filepath.Join(dir, "seq.npz"))[0]
	for _, method := range []string{MethodMSE, MethodPercentile, MethodMax} {
		t.Run(method, func(t *testing.T) {
			qm, err := Calibrate(fm, []*model.Sequence{seq}, Options{Method: method})
			if err != nil {
				t.Fatal(err)
			}
			if qm.Meta["calibration_method"] != method {
				t.Errorf("meta %v", qm.Meta)
			}
			r, err := Compare("cnnha-actions", fm.NewRunner(), qm.NewRunner(nil), seq, CompareOptions{RolloutEvery: 0})
			if err != nil {
				t.Fatal(err)
			}
			if r.DeterCosMin < 0.99 || r.PSNRMin < 30 {
				t.Errorf("deter cosine min %.5f, PSNR min %.2f dB", r.DeterCosMin, r.PSNRMin)
			}
		})
	}
	if _, err := Calibrate(fm, []*model.Sequence{seq}, Options{Method: "entropy"}); err == nil {
		t.Error("unknown method accepted")
	}
	if _, err := Calibrate(fm, nil, Options{}); err == nil {
		t.Error("calibration without data succeeded")
	}
}

func TestHistogram(t *testing.T) {
	tests := []struct {
		name string
		data []float32
		p    float64
		want float64 // percentile p of |x|
	}{
		{"uniform", ramp(10000, 1), 0.5, 0.5},
		{"grows", append(ramp(1000, 0.01), ramp(1000, 100)...), 0.99, 98},
		{"zeros", append(make([]float32, 1000), ramp(1000, 2)...), 0.75, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			for i := 0; i < len(tc.data); i += 100 {
				h.Add(tc.data[i:min(i+100, len(tc.data))])
			}
			if got := h.Percentile(tc.p); math.Abs(got-tc.want) > 0.02*tc.want {
				t.Errorf("percentile %.2f = %v, want %v", tc.p, got, tc.want)
			}
			if h.Total() != float64(len(tc.data)) {
				t.Errorf("total %v, want %d", h.Total(), len(tc.data))
			}
			if c := h.MSEClip(); !(c > 0 && c <= h.Max) {
				t.Errorf("MSE clip %v outside (0, %v]", c, h.Max)
			}
		})
	}
	// A heavy tail: the MSE clip must cut it (the optimum for 1e5 values in [0,1] and one at
	// 1000 is c = 1000/(1 + 1e5/(12·127²)) ≈ 659), max must not.
	var h Histogram
	d := ramp(100000, 1)
	d[0] = 1000
	h.Add(d)
	if c := h.MSEClip(); c < 600 || c > 700 {
		t.Errorf("MSE clip %v, want ≈ 659", c)
	}
	if c, _ := h.Clip(MethodMax); c != 1000 {
		t.Errorf("max clip %v, want 1000", c)
	}
}

func TestLoadDataErrors(t *testing.T) {
	dir := t.TempDir()
	h5 := filepath.Join(dir, "0.hdf5")
	if err := os.WriteFile(h5, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{h5, dir, filepath.Join(dir, "missing.npz")} {
		if _, err := LoadData([]string{p}); err == nil {
			t.Errorf("%s: no error", p)
		} else if p != filepath.Join(dir, "missing.npz") && !errors.Is(err, ErrHDF5) {
			t.Errorf("%s: %v does not wrap ErrHDF5", p, err)
		}
	}
	files := []string{"10.npz", "2.npz", "b.npz", "1.npz"}
	sortEpisodes(files)
	if strings.Join(files, " ") != "1.npz 2.npz 10.npz b.npz" {
		t.Errorf("episode order %v", files)
	}
}

func ramp(n int, top float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = top * float32(i+1) / float32(n)
		if i%2 == 1 {
			out[i] = -out[i]
		}
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
