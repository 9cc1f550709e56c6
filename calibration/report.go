package calibration

import (
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/rssmd/rssmd/model"
)

// RolloutHorizon is the length of the open-loop rollouts the report decodes.
const RolloutHorizon = 20

// SeqReport is the int8-vs-float32 accuracy on one evaluation sequence (posterior-mean path).
type SeqReport struct {
	Name  string
	Steps int

	DeterCosMin, DeterCosMedian, DeterCosLast float64 // per-step cosine of deter
	StochRMSMedian, StochMaxAbs               float64 // posterior mean error
	KLRelMedian, ELBORelMedian                float64 // |int8 − f32| / |f32| per step
	PSNRMin, PSNRMedian                       float64 // decoded image vs float32 decode, dB (peak 1)
	RolloutPSNRMin, RolloutPSNRMedian         float64 // 20-step open-loop rollouts from each path's own state
	Rollouts                                  int
	// Discrete models: the share of (step, group) decisions where int8's posterior argmax class
	// equals float32's, over the sequence and at the worst step; zero for continuous models.
	ArgmaxAgree, ArgmaxAgreeMin float64
	// DeterCos holds the per-step cosine, for drift plots and checks.
	DeterCos []float64
}

// Report gathers the per-sequence results.
type Report struct {
	Method string
	Seqs   []SeqReport
}

// CompareOptions bound the cost of a comparison: the float32 decoder is the dear part.
type CompareOptions struct {
	// DecodeEvery decodes (image PSNR, reconstruction term of the ELBO) on every n-th step
	// only; 0 or 1: every step.
	DecodeEvery int
	// RolloutEvery starts a RolloutHorizon-step open-loop rollout at every n-th step (from
	// step RolloutHorizon on); 0: every 2·RolloutHorizon steps.
	RolloutEvery int
}

// Compare filters seq with both steppers (deterministic path) in one pass and measures the
// int8 (q) model against the float32 (f) one: every step for states, KL; decoded steps for
// images and the ELBO; open-loop rollouts from each path's own state.
func Compare(name string, f, q model.Stepper, seq *model.Sequence, opt CompareOptions) (*SeqReport, error) {
	a := f.Arch()
	if err := seq.Validate(); err != nil {
		return nil, err
	}
	if a.ActionDim == 0 {
		seq = seq.WithoutActions() // an action-free model ignores a recording's actions
	}
	de := max(opt.DecodeEvery, 1)
	re := opt.RolloutEvery
	if re <= 0 {
		re = 2 * RolloutHorizon
	}
	T, H, S := seq.T, a.Deter, a.Stoch
	r := &SeqReport{Name: name, Steps: T, DeterCos: make([]float64, T)}
	type side struct {
		st       model.Stepper
		s, roll  model.State
		out      *model.StepOutput
		lik      *model.Likelihood
		img, rim []float32
		mean     []float32
	}
	mk := func(st model.Stepper) *side {
		return &side{st: st, s: model.NewStateFor(a), roll: model.NewStateFor(a), out: a.NewStepOutput(),
			lik: a.NewLikelihood(), img: make([]float32, model.ImageValues), rim: make([]float32, model.ImageValues), mean: make([]float32, S)}
	}
	fs, qs := mk(f), mk(q)
	targets := make([]float32, len(a.Heads))
	var stochRMS, klRel, elboRel, psnr, roll []float64
	agreed := 0
	if a.Discrete {
		r.ArgmaxAgreeMin = 1
	}
	for t := 0; t < T; t++ {
		isFirst := t == 0 || (seq.IsFirst != nil && seq.IsFirst[t])
		decode := t%de == 0
		for i, h := range a.Heads {
			targets[i] = float32(math.NaN())
			if v, ok := seq.Targets[h.Name]; ok {
				targets[i] = v[t]
			} else if h.Name == "is_terminal" {
				targets[i] = 0
			}
		}
		for _, sd := range []*side{fs, qs} {
			if err := sd.st.PosteriorStep(&sd.s, seq.Action(t), seq.Frame(t), isFirst, sd.out, nil); err != nil {
				return nil, fmt.Errorf("step %d: %w", t, err)
			}
			if a.Discrete {
				copy(sd.mean, sd.s.Stoch) // the mode, as the deterministic step sets it
			} else {
				copy(sd.mean, sd.out.PosteriorMean)
			}
			if decode {
				var img []float32
				if a.Decoder != "" {
					img = sd.img
				}
				if err := sd.st.Evaluate(sd.s.Deter, sd.mean, seq.Frame(t), targets, sd.out.KL, img, sd.lik); err != nil {
					return nil, fmt.Errorf("step %d: %w", t, err)
				}
			}
		}
		r.DeterCos[t] = cosine(fs.s.Deter, qs.s.Deter)
		var se float64
		for i := range fs.s.Stoch {
			d := float64(fs.s.Stoch[i] - qs.s.Stoch[i])
			se += d * d
			r.StochMaxAbs = math.Max(r.StochMaxAbs, math.Abs(d))
		}
		stochRMS = append(stochRMS, math.Sqrt(se/float64(S)))
		if a.Discrete {
			n := agreeGroups(fs.s.Stoch, qs.s.Stoch, a.Groups, a.Classes)
			agreed += n
			r.ArgmaxAgreeMin = math.Min(r.ArgmaxAgreeMin, float64(n)/float64(a.Groups))
		}
		klRel = append(klRel, relErr(qs.out.KL, fs.out.KL))
		if decode {
			elboRel = append(elboRel, relErr(qs.lik.ELBO, fs.lik.ELBO))
			if a.Decoder != "" {
				psnr = append(psnr, PSNR(fs.img, qs.img))
			}
		}
		// A rollout from the state after frame t, over actions t+1 … t+K.
		if a.Decoder != "" && t+1 >= RolloutHorizon && (t+1)%re == 0 && t+RolloutHorizon < T {
			for _, sd := range []*side{fs, qs} {
				sd.roll.CopyFrom(sd.s)
			}
			for k := 1; k <= RolloutHorizon; k++ {
				for _, sd := range []*side{fs, qs} {
					if err := sd.st.PriorStep(&sd.roll, seq.Action(t+k), sd.out, nil); err != nil {
						return nil, fmt.Errorf("rollout at %d: %w", t, err)
					}
					if err := sd.st.Decode(sd.rim, sd.roll.Deter, sd.roll.Stoch); err != nil {
						return nil, err
					}
				}
				roll = append(roll, PSNR(fs.rim, qs.rim))
			}
			r.Rollouts++
		}
	}
	_ = H
	if a.Discrete {
		r.ArgmaxAgree = float64(agreed) / float64(T*a.Groups)
	}
	r.DeterCosMin, r.DeterCosMedian = minOf(r.DeterCos), median(r.DeterCos)
	r.DeterCosLast = r.DeterCos[T-1]
	r.StochRMSMedian = median(stochRMS)
	r.KLRelMedian, r.ELBORelMedian = median(klRel), median(elboRel)
	if len(psnr) > 0 {
		r.PSNRMin, r.PSNRMedian = minOf(psnr), median(psnr)
	}
	if len(roll) > 0 {
		r.RolloutPSNRMin, r.RolloutPSNRMedian = minOf(roll), median(roll)
	}
	return r, nil
}

// agreeGroups counts the groups whose argmax class (first maximal index, as the mode's
// one-hot is built) is the same in a and b, two group-major [groups·classes] vectors.
func agreeGroups(a, b []float32, groups, classes int) int {
	n := 0
	for g := 0; g < groups; g++ {
		if argmax(a[g*classes:(g+1)*classes]) == argmax(b[g*classes:(g+1)*classes]) {
			n++
		}
	}
	return n
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// PSNR is 10·log10(1/MSE) of two images in [0,1] units (capped at 100 dB when identical).
func PSNR(a, b []float32) float64 {
	var se float64
	for i := range a {
		d := float64(a[i] - b[i])
		se += d * d
	}
	mse := se / float64(len(a))
	if mse <= 1e-10 {
		return 100
	}
	return 10 * math.Log10(1/mse)
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		if aa == bb {
			return 1
		}
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

func relErr(got, want float32) float64 {
	d := math.Abs(float64(got - want))
	w := math.Abs(float64(want))
	if w < 1e-6 {
		return d
	}
	return d / w
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minOf(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}

// Write prints the report as a table.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "int8 vs float32 accuracy (range method %s; deterministic path)\n", r.Method)
	fmt.Fprintf(w, "%-22s %5s %9s %9s %9s %9s %9s %9s %8s %8s %8s %8s\n",
		"sequence", "steps", "cos.min", "cos.med", "cos.last", "stoch.rms", "kl.rel", "elbo.rel", "psnr.min", "psnr.med", "roll.min", "roll.med")
	for _, s := range r.Seqs {
		fmt.Fprintf(w, "%-22s %5d %9.6f %9.6f %9.6f %9.2e %9.2e %9.2e %8.2f %8.2f %8.2f %8.2f\n",
			trimName(s.Name, 22), s.Steps, s.DeterCosMin, s.DeterCosMedian, s.DeterCosLast, s.StochRMSMedian,
			s.KLRelMedian, s.ELBORelMedian, s.PSNRMin, s.PSNRMedian, s.RolloutPSNRMin, s.RolloutPSNRMedian)
		if s.ArgmaxAgree > 0 {
			fmt.Fprintf(w, "%-22s posterior argmax agreement %.2f%% of group decisions, worst step %.2f%%\n",
				"", 100*s.ArgmaxAgree, 100*s.ArgmaxAgreeMin)
		}
	}
	fmt.Fprintln(w, "cos: per-step cosine of deter; stoch.rms: median per-step RMS error of the posterior mean;")
	fmt.Fprintln(w, "kl.rel/elbo.rel: median per-step relative error; psnr: decoded image vs float32 decode (dB);")
	fmt.Fprintf(w, "roll: PSNR over %d-step open-loop rollouts from each path's own filtered state.\n", RolloutHorizon)
}

func trimName(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}
