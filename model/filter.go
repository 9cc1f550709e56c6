package model

import (
	"errors"
	"fmt"
	"math"
)

// Stepper is the step API shared by the float32 model (model.Runner) and the int8 model
// (quant.Runner), so that tools and the runtime can use either (DESIGN.md, "Contracts").
type Stepper interface {
	Arch() *Arch
	PosteriorStep(s *State, action []float32, image []uint8, isFirst bool, out *StepOutput, noise Noise) error
	PriorStep(s *State, action []float32, out *StepOutput, noise Noise) error
	Decode(img []float32, deter, stoch []float32) error
	Evaluate(deter, stochMean []float32, image []uint8, targets []float32, kl float32, recon []float32, out *Likelihood) error
}

var _ Stepper = (*Runner)(nil)

// Sequence is an input sequence in the `rssmd filter` contract.
type Sequence struct {
	T         int
	Images    []uint8   // T·64·64·3, HWC RGB
	ActionDim int       // columns of PreAction
	PreAction []float32 // T·ActionDim; row t is the action applied before frame t
	IsFirst   []bool    // len T, or nil
	// Targets holds per-step scalar targets of decoder heads by head name (e.g. is_terminal,
	// reward), len T each.
	Targets map[string][]float32
}

// Frame returns image t.
func (s *Sequence) Frame(t int) []uint8 { return s.Images[t*ImageValues : (t+1)*ImageValues] }

// Action returns pre_action row t.
func (s *Sequence) Action(t int) []float32 {
	return s.PreAction[t*s.ActionDim : (t+1)*s.ActionDim]
}

// Validate checks the sequence's internal consistency.
func (s *Sequence) Validate() error {
	if s.T <= 0 {
		return errors.New("sequence is empty")
	}
	if len(s.Images) != s.T*ImageValues {
		return fmt.Errorf("%w: image holds %d bytes, want T·64·64·3 = %d", ErrImageSize, len(s.Images), s.T*ImageValues)
	}
	if len(s.PreAction) != s.T*s.ActionDim {
		return fmt.Errorf("pre_action holds %d values, want %d·%d", len(s.PreAction), s.T, s.ActionDim)
	}
	if s.IsFirst != nil && len(s.IsFirst) != s.T {
		return fmt.Errorf("is_first has %d entries, want %d", len(s.IsFirst), s.T)
	}
	for k, v := range s.Targets {
		if len(v) != s.T {
			return fmt.Errorf("target %q has %d entries, want %d", k, len(v), s.T)
		}
	}
	return nil
}

// NamedArray is one output array of the filter contract.
type NamedArray struct {
	Name  string
	Shape []int
	Data  []float32
}

// FilterOptions selects the rollout part of a filter run.
type FilterOptions struct {
	// RolloutStart N > 0 filters frames 0..N-1 only and then rolls the prior out for
	// RolloutHorizon steps with pre_action rows N..N+K-1.
	RolloutStart, RolloutHorizon int
	// Noise selects sampling; nil is the deterministic (mean) path.
	Noise Noise
	// Warn receives warnings (e.g. a head whose target is missing); may be nil.
	Warn func(msg string)
}

// WithoutActions is s with its action columns set aside (a shallow copy; s is unchanged).
// An action-free model (VIPER's) takes no action, so a recording's actions are not an input
// to refuse but one to ignore.
func (s *Sequence) WithoutActions() *Sequence {
	c := *s
	c.ActionDim, c.PreAction = 0, nil
	return &c
}

// Filter runs the filter contract of `rssmd filter` on a sequence and returns the output
// arrays in a fixed order. The first frame is always treated as an episode start.
func Filter(st Stepper, seq *Sequence, opt FilterOptions) ([]NamedArray, error) {
	a := st.Arch()
	if err := seq.Validate(); err != nil {
		return nil, err
	}
	if a.ActionDim == 0 && seq.ActionDim > 0 {
		if opt.Warn != nil {
			opt.Warn(fmt.Sprintf("the model is action-free: ignoring the sequence's %d pre_action columns", seq.ActionDim))
		}
		seq = seq.WithoutActions()
	}
	if seq.ActionDim != a.ActionDim {
		return nil, fmt.Errorf("%w: pre_action has %d columns, model takes %d", ErrActionLength, seq.ActionDim, a.ActionDim)
	}
	T := seq.T
	if opt.RolloutStart < 0 || opt.RolloutHorizon < 0 {
		return nil, errors.New("rollout start and horizon must be non-negative")
	}
	if opt.RolloutHorizon > 0 && opt.RolloutStart == 0 {
		return nil, errors.New("a rollout needs --rollout-start N ≥ 1 (the state after frame N-1)")
	}
	if opt.RolloutStart > 0 {
		if opt.RolloutStart+opt.RolloutHorizon > T {
			return nil, fmt.Errorf("rollout %d+%d exceeds the sequence length %d", opt.RolloutStart, opt.RolloutHorizon, T)
		}
		T = opt.RolloutStart
	}
	H, S := a.Deter, a.Stoch
	alloc := func(name string, shape ...int) NamedArray {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return NamedArray{Name: name, Shape: shape, Data: make([]float32, n)}
	}
	deter, stoch := alloc("deter", T, H), alloc("stoch", T, S)
	var pm, ps, qm, qs NamedArray
	if a.Discrete {
		pm, qm = alloc("prior_logits", T, S), alloc("posterior_logits", T, S)
	} else {
		pm, ps = alloc("prior_mean", T, S), alloc("prior_std", T, S)
		qm, qs = alloc("posterior_mean", T, S), alloc("posterior_std", T, S)
	}
	kl := alloc("kl", T)
	var recon, reconLL NamedArray
	if a.Decoder != "" {
		recon, reconLL = alloc("recon", T, ImageSize, ImageSize, 3), alloc("recon_loglik", T)
	}
	// Heads with targets: is_terminal defaults to zeros; others need the input key.
	targets := make([][]float32, len(a.Heads))
	headLL := make([]NamedArray, len(a.Heads))
	for i, h := range a.Heads {
		if t, ok := seq.Targets[h.Name]; ok {
			targets[i] = t
		} else if h.Name == "is_terminal" {
			targets[i] = make([]float32, seq.T)
		} else if opt.Warn != nil {
			opt.Warn(fmt.Sprintf("decoder head %q has no target %q in the input: left out of the ELBO and viper_reward", h.Name, h.Name))
		}
		if targets[i] != nil {
			name := h.Name + "_loglik"
			if h.Name == "is_terminal" {
				name = "terminal_loglik"
			}
			headLL[i] = alloc(name, T)
		}
	}
	elbo := alloc("elbo", T)
	reward := alloc("viper_reward", T)

	s := NewStateFor(a)
	out := a.NewStepOutput()
	lik := a.NewLikelihood()
	stepTargets := make([]float32, len(a.Heads))
	mean := make([]float32, S)
	for t := 0; t < T; t++ {
		isFirst := t == 0 || (seq.IsFirst != nil && seq.IsFirst[t])
		if err := st.PosteriorStep(&s, seq.Action(t), seq.Frame(t), isFirst, out, opt.Noise); err != nil {
			return nil, fmt.Errorf("step %d: %w", t, err)
		}
		copy(deter.Data[t*H:], s.Deter)
		copy(stoch.Data[t*S:], s.Stoch)
		if a.Discrete {
			copy(pm.Data[t*S:], out.PriorLogits)
			copy(qm.Data[t*S:], out.PosteriorLogits)
			SampleDiscrete(mean, out.PosteriorLogits, a.Groups, a.Classes, nil)
		} else {
			copy(pm.Data[t*S:], out.PriorMean)
			copy(ps.Data[t*S:], out.PriorStd)
			copy(qm.Data[t*S:], out.PosteriorMean)
			copy(qs.Data[t*S:], out.PosteriorStd)
			copy(mean, out.PosteriorMean)
		}
		kl.Data[t] = out.KL
		for i := range stepTargets {
			stepTargets[i] = float32(math.NaN())
			if targets[i] != nil {
				stepTargets[i] = targets[i][t]
			}
		}
		var reconBuf []float32
		if a.Decoder != "" {
			reconBuf = recon.Data[t*ImageValues : (t+1)*ImageValues]
		}
		if err := st.Evaluate(s.Deter, mean, seq.Frame(t), stepTargets, out.KL, reconBuf, lik); err != nil {
			return nil, fmt.Errorf("step %d: %w", t, err)
		}
		if a.Decoder != "" {
			reconLL.Data[t] = lik.Recon
		}
		for i := range headLL {
			if targets[i] != nil {
				headLL[i].Data[t] = lik.Heads[i]
			}
		}
		elbo.Data[t] = lik.ELBO
		// The reward of an episode's first frame is 0 (its ELBO is computed but not
		// rewarded): ViperRewardWrapper's reset, spec §3.7.
		if !isFirst {
			reward.Data[t] = ViperReward(lik.ELBO)
		}
	}
	res := []NamedArray{deter, stoch, pm}
	if !a.Discrete {
		res = append(res, ps)
	}
	res = append(res, qm)
	if !a.Discrete {
		res = append(res, qs)
	}
	res = append(res, kl)
	if a.Decoder != "" {
		res = append(res, recon, reconLL)
	}
	for i := range headLL {
		if targets[i] != nil {
			res = append(res, headLL[i])
		}
	}
	res = append(res, elbo, reward)

	if K := opt.RolloutHorizon; K > 0 {
		rd, rs := alloc("rollout_deter", K, H), alloc("rollout_stoch", K, S)
		var ri NamedArray
		if a.Decoder != "" {
			ri = alloc("rollout_image", K, ImageSize, ImageSize, 3)
		}
		for k := 0; k < K; k++ {
			if err := st.PriorStep(&s, seq.Action(T+k), out, opt.Noise); err != nil {
				return nil, fmt.Errorf("rollout step %d: %w", k, err)
			}
			copy(rd.Data[k*H:], s.Deter)
			copy(rs.Data[k*S:], s.Stoch)
			if a.Decoder != "" {
				if err := st.Decode(ri.Data[k*ImageValues:(k+1)*ImageValues], s.Deter, s.Stoch); err != nil {
					return nil, err
				}
			}
		}
		res = append(res, rd, rs)
		if a.Decoder != "" {
			res = append(res, ri)
		}
	}
	return res, nil
}

// NewStateFor returns a zero state for an architecture.
func NewStateFor(a *Arch) State {
	return State{Deter: make([]float32, a.Deter), Stoch: make([]float32, a.Stoch)}
}
