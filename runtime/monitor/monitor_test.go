package monitor

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/tick"
)

const golden = "../../model/testdata/golden/cnnha-actions"

func load(t testing.TB) (*model.Model, *capture.Sequence) {
	t.Helper()
	m, err := model.Load(golden)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := capture.LoadSequence(filepath.Join(golden, "seq.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if seq.H != 64 || seq.W != 64 || seq.A != m.Arch.ActionDim {
		t.Fatalf("sequence %dx%d A=%d does not fit the model", seq.H, seq.W, seq.A)
	}
	return m, seq
}

// run filters seq through a runner and the monitor, returning each step's quality and the
// states after each step.
func run(t testing.TB, m *model.Model, seq *capture.Sequence, conf Config) ([]tick.Quality, []model.State) {
	t.Helper()
	rn := m.NewRunner()
	conf.Model = rn
	mon, err := New(conf)
	if err != nil {
		t.Fatal(err)
	}
	s := model.NewStateFor(m.Arch)
	out := m.Arch.NewStepOutput()
	var qs []tick.Quality
	var states []model.State
	for i := 0; i < seq.T; i++ {
		if err := rn.PosteriorStep(&s, seq.PreAction(i), seq.Image(i), i == 0, out, nil); err != nil {
			t.Fatal(err)
		}
		r := tick.Result{IsFirst: i == 0, Image: seq.Image(i), Action: seq.PreAction(i), State: s, Step: out}
		mon.Analyze(&r)
		qs = append(qs, r.Quality)
		c := model.NewStateFor(m.Arch)
		c.CopyFrom(s)
		states = append(states, c)
	}
	return qs, states
}

func TestELBOMatchesFilter(t *testing.T) {
	m, seq := load(t)
	qs, _ := run(t, m, seq, Config{ELBO: true})
	ms := &model.Sequence{T: seq.T, Images: seq.Images, ActionDim: seq.A, PreAction: seq.PreActions}
	arrs, err := model.Filter(m.NewRunner(), ms, model.FilterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) []float32 {
		for _, a := range arrs {
			if a.Name == name {
				return a.Data
			}
		}
		t.Fatalf("filter output has no %s", name)
		return nil
	}
	elbo, kl := get("elbo"), get("kl")
	for i, q := range qs {
		if math.Abs(q.KL-float64(kl[i])) > 1e-6*math.Max(1, math.Abs(q.KL)) {
			t.Fatalf("step %d: KL %v, filter %v", i, q.KL, kl[i])
		}
		if i == 0 && q.Decoded {
			t.Fatal("step 0 has no prediction but was scored")
		}
		// Every step, the first included; the filter's elbo (is_terminal target 0 when the
		// input has none, as live).
		if want := float64(elbo[i]); math.Abs(q.ELBO-want) > 1e-5*math.Abs(want) {
			t.Fatalf("step %d: ELBO %v, want %v", i, q.ELBO, want)
		}
	}
}

// manualPrediction rolls the prior from state[t-k] with actions t-k+1..t and decodes it.
func manualMSE(t *testing.T, m *model.Model, seq *capture.Sequence, states []model.State, step, k int) float64 {
	rn := m.NewRunner()
	s := model.NewStateFor(m.Arch)
	s.CopyFrom(states[step-k])
	out := m.Arch.NewStepOutput()
	for j := step - k + 1; j <= step; j++ {
		if err := rn.PriorStep(&s, seq.PreAction(j), out, nil); err != nil {
			t.Fatal(err)
		}
	}
	img := make([]float32, model.ImageValues)
	if err := rn.Decode(img, s.Deter, out.PriorMean); err != nil {
		t.Fatal(err)
	}
	return mse(img, seq.Image(step))
}

func TestPredictionMatchesManualRollout(t *testing.T) {
	m, seq := load(t)
	for _, k := range []int{1, 2, 4} {
		qs, states := run(t, m, seq, Config{Horizon: k})
		scored := 0
		for i, q := range qs {
			if i < k {
				if q.Decoded {
					t.Fatalf("k=%d step %d scored without %d steps of history", k, i, k)
				}
				continue
			}
			want := manualMSE(t, m, seq, states, i, k)
			if !q.Decoded || math.Abs(q.MSE-want) > 1e-6*want {
				t.Fatalf("k=%d step %d: MSE %v, manual rollout %v", k, i, q.MSE, want)
			}
			if math.Abs(q.PSNR+10*math.Log10(q.MSE)) > 1e-9 {
				t.Fatalf("PSNR %v for MSE %v", q.PSNR, q.MSE)
			}
			scored++
		}
		if scored != seq.T-k {
			t.Fatalf("k=%d: %d steps scored, want %d", k, scored, seq.T-k)
		}
	}
}

func TestDecodeEvery(t *testing.T) {
	m, seq := load(t)
	for _, n := range []int{-1, 1, 3} {
		qs, _ := run(t, m, seq, Config{DecodeEvery: n})
		for i, q := range qs {
			step := i + 1
			want := n > 0 && step%n == 0 && step > 1
			if q.Decoded != want {
				t.Fatalf("DecodeEvery %d: step %d decoded=%v", n, step, q.Decoded)
			}
			if q.KL <= 0 && i > 0 {
				t.Fatalf("KL %v not computed every step", q.KL)
			}
		}
	}
}

func TestBand(t *testing.T) {
	tests := []struct {
		name       string
		jumpAt     int // sample index where the signal jumps by 10σ; -1 none
		jumpLen    int
		wantFlagAt int // first sample flagged; -1 never
	}{
		{"steady", -1, 0, -1},
		{"jump after warm-up", 100, 20, 102}, // 3 consecutive: samples 100,101,102
		{"jump during warm-up", 10, 20, -1},  // absorbed before WarmUp ends
		{"two-sample blip", 100, 2, -1},      // shorter than Consecutive
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBand(Config{Alpha: 0.02, Threshold: 4, Consecutive: 3, WarmUp: 50})
			rng := rand.New(rand.NewPCG(1, 2))
			first := -1
			for i := 0; i < 200; i++ {
				x := rng.NormFloat64()
				if tc.jumpAt >= 0 && i >= tc.jumpAt && i < tc.jumpAt+tc.jumpLen {
					x += 10
				}
				b.add(x)
				if b.anomalous() && first < 0 {
					first = i
				}
			}
			if first != tc.wantFlagAt {
				t.Fatalf("first flagged at %d, want %d", first, tc.wantFlagAt)
			}
		})
	}
}

func TestAnomalyOnCorruptedFrames(t *testing.T) {
	m, seq := load(t)
	rn := m.NewRunner()
	mon, err := New(Config{Model: rn, WarmUp: 20, Alpha: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	s := model.NewStateFor(m.Arch)
	out := m.Arch.NewStepOutput()
	noise := make([]uint8, model.ImageValues)
	rng := rand.New(rand.NewPCG(3, 4))
	flagged, flaggedClean := false, false
	// Play the sequence three times (one episode), then feed random frames.
	n := 3 * seq.T
	for i := 0; i < n+10; i++ {
		img := seq.Image(i % seq.T)
		if i >= n {
			for j := range noise {
				noise[j] = uint8(rng.IntN(256))
			}
			img = noise
		}
		if err := rn.PosteriorStep(&s, seq.PreAction(i%seq.T), img, i == 0, out, nil); err != nil {
			t.Fatal(err)
		}
		r := tick.Result{IsFirst: i == 0, Image: img, Action: seq.PreAction(i % seq.T), State: s, Step: out}
		mon.Analyze(&r)
		if r.Quality.Anomaly {
			if i >= n {
				flagged = true
			} else if i >= 20 {
				flaggedClean = true
			}
		}
	}
	if !flagged {
		t.Fatal("random frames were not flagged as anomalous")
	}
	if flaggedClean {
		t.Log("note: a clean replay tick was flagged (sequence wrap-around is a discontinuity)")
	}
}

func TestAnalyzeAllocatesNothing(t *testing.T) {
	m, seq := load(t)
	rn := m.NewRunner()
	mon, err := New(Config{Model: rn, ELBO: true, Horizon: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := model.NewStateFor(m.Arch)
	out := m.Arch.NewStepOutput()
	i := 0
	step := func() {
		_ = rn.PosteriorStep(&s, seq.PreAction(i%seq.T), seq.Image(i%seq.T), i == 0, out, nil)
		r := tick.Result{IsFirst: i == 0, Image: seq.Image(i % seq.T), Action: seq.PreAction(i % seq.T), State: s, Step: out}
		mon.Analyze(&r)
		i++
	}
	step()
	step()
	step()
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Fatalf("%v allocations per Analyze, want 0", a)
	}
}

func TestConfigErrors(t *testing.T) {
	m, _ := load(t)
	rn := m.NewRunner()
	for _, c := range []Config{
		{},
		{Model: rn, Horizon: -1},
		{Model: rn, Horizon: maxHorizon + 1},
		{Model: rn, Alpha: 1.5},
		{Model: rn, Alpha: math.NaN()},
		{Model: rn, Threshold: -1},
		{Model: rn, WarmUp: -1},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v, want ErrConfig", c, err)
		}
	}
}
