// Package monitor owns rssmd's prediction-quality monitor: each tick it compares the model's
// prior prediction of the frame (made from the previous state and the action, optionally k
// ticks open-loop) with the frame that arrived — MSE, PSNR, KL, per-step ELBO — keeps
// exponentially weighted baselines of them and raises an anomaly flag when prediction quality
// leaves its normal band. With the ELBO on it also gives every step its VIPER reward
// (spec §3.7). It runs on the control goroutine and allocates nothing per tick.
package monitor

import (
	"errors"
	"fmt"
	"math"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

// Config configures a Monitor. Zero values take the documented defaults.
type Config struct {
	// Model is the stepper the loop uses (required; the monitor runs on the loop goroutine so
	// it may share it).
	Model model.Stepper
	// DecodeEvery decodes the prediction every n-th step: decoding costs about as much as
	// the step itself in float32. 0 means 1 (every step); negative never decodes (KL only).
	DecodeEvery int
	// ELBO computes the per-step ELBO (spec §3.7) and the VIPER reward on every step,
	// whatever DecodeEvery says (a reward per step is the point): one more decode, of the
	// posterior (mean) state, per tick.
	ELBO bool
	// Horizon k ≥ 1 predicts the frame k steps ahead open-loop (k−1 extra prior steps per
	// decode); default 1.
	Horizon int
	// Alpha is the weight of a new sample in the exponentially weighted baselines
	// (default 0.02, about a 50-sample memory).
	Alpha float64
	// Threshold is the z-score above which a sample is out of band (default 4).
	Threshold float64
	// Consecutive out-of-band samples raise the anomaly flag (default 3).
	Consecutive int
	// WarmUp samples feed the baselines before any flag is raised (default 50).
	WarmUp int
}

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("monitor: invalid config")

// maxHorizon bounds the state history the monitor keeps.
const maxHorizon = 1000

// Monitor implements tick.Analyzer.
type Monitor struct {
	conf  Config
	arch  *model.Arch
	steps uint64 // since the last episode start

	// History for the open-loop horizon: posterior state after step i and action of step i,
	// in rings of Horizon entries.
	hist    []model.State
	acts    [][]float32
	roll    model.State
	rollOut *model.StepOutput
	stoch   []float32 // prior mean / mode fed to the decoder
	pred    []float32 // decoded prediction, HWC
	lik     *model.Likelihood
	targets []float32 // head targets for the ELBO: is_terminal 0, others NaN (left out)

	mse, kl band
	last    tick.Quality // most recent decoded quality, reported on non-decode ticks
}

// New validates conf and allocates the monitor's buffers.
func New(conf Config) (*Monitor, error) {
	if conf.Model == nil {
		return nil, fmt.Errorf("%w: Model is nil", ErrConfig)
	}
	if conf.DecodeEvery == 0 {
		conf.DecodeEvery = 1
	}
	if conf.Horizon == 0 {
		conf.Horizon = 1
	}
	if conf.Horizon < 1 || conf.Horizon > maxHorizon {
		return nil, fmt.Errorf("%w: Horizon %d, want 1..%d", ErrConfig, conf.Horizon, maxHorizon)
	}
	if conf.Alpha == 0 {
		conf.Alpha = 0.02
	}
	if !(conf.Alpha > 0 && conf.Alpha <= 1) {
		return nil, fmt.Errorf("%w: Alpha %v, want (0, 1]", ErrConfig, conf.Alpha)
	}
	if conf.Threshold == 0 {
		conf.Threshold = 4
	}
	if !(conf.Threshold > 0) || math.IsInf(conf.Threshold, 0) {
		return nil, fmt.Errorf("%w: Threshold %v, want > 0", ErrConfig, conf.Threshold)
	}
	if conf.Consecutive == 0 {
		conf.Consecutive = 3
	}
	if conf.WarmUp == 0 {
		conf.WarmUp = 50
	}
	if conf.Consecutive < 0 || conf.WarmUp < 0 {
		return nil, fmt.Errorf("%w: Consecutive %d, WarmUp %d must be ≥ 0", ErrConfig, conf.Consecutive, conf.WarmUp)
	}
	a := conf.Model.Arch()
	if a.Decoder == "" && conf.DecodeEvery > 0 {
		// Nothing to decode: fall back to KL only rather than failing every tick.
		conf.DecodeEvery = -1
	}
	m := &Monitor{
		conf:    conf,
		arch:    a,
		roll:    model.NewStateFor(a),
		rollOut: a.NewStepOutput(),
		stoch:   make([]float32, a.Stoch),
		pred:    make([]float32, model.ImageValues),
		lik:     a.NewLikelihood(),
		targets: make([]float32, len(a.Heads)),
		mse:     newBand(conf),
		kl:      newBand(conf),
	}
	for i, h := range a.Heads {
		// A live robot is never in a terminal state, as in the DMC tasks the models were
		// trained on (spec §3.7): `rssmd filter` defaults is_terminal to 0 the same way.
		// Other heads (reward) have no target live.
		if h.Name != "is_terminal" {
			m.targets[i] = float32(math.NaN())
		}
	}
	if conf.Horizon > 1 {
		m.hist = make([]model.State, conf.Horizon)
		m.acts = make([][]float32, conf.Horizon)
		for i := range m.hist {
			m.hist[i] = model.NewStateFor(a)
			m.acts[i] = make([]float32, a.ActionDim)
		}
	}
	return m, nil
}

// Analyze implements tick.Analyzer: it fills r.Quality.
func (m *Monitor) Analyze(r *tick.Result) {
	if r.IsFirst {
		m.steps = 0
	}
	m.steps++
	q := &r.Quality
	q.KL = float64(r.Step.KL)
	q.ZScoreKL = m.kl.add(q.KL)
	k := uint64(m.conf.Horizon)
	decode := m.conf.DecodeEvery > 0 && m.steps%uint64(m.conf.DecodeEvery) == 0 && m.steps > k
	if decode {
		if err := m.predict(r); err == nil {
			q.Decoded = true
			q.MSE = mse(m.pred, r.Image)
			q.PSNR = psnr(q.MSE)
			// Error spans orders of magnitude: its log has a far more normal spread.
			q.ZScore = m.mse.add(math.Log(q.MSE + 1e-12))
			m.last = *q
		}
	} else if m.last.Decoded {
		q.Decoded = false
		q.MSE, q.PSNR, q.ZScore = m.last.MSE, m.last.PSNR, m.last.ZScore
	}
	q.ELBO, q.Reward = math.NaN(), math.NaN()
	if m.conf.ELBO {
		// The tick's state is the posterior mean (mode for discrete models): the loop steps
		// without noise, as likelihood_step does.
		if err := m.conf.Model.Evaluate(r.State.Deter, r.State.Stoch, r.Image, m.targets, r.Step.KL, nil, m.lik); err == nil {
			q.ELBO = float64(m.lik.ELBO)
			q.Reward = float64(model.ViperReward(m.lik.ELBO))
			if r.IsFirst {
				// ViperRewardWrapper's reset: the first frame's ELBO is computed, its
				// reward is 0 (spec §3.7).
				q.Reward = 0
			}
		}
	}
	q.Anomaly = m.mse.anomalous() || m.kl.anomalous()
	m.remember(r)
}

// predict decodes the prior prediction of r's frame into m.pred.
func (m *Monitor) predict(r *tick.Result) error {
	a := m.arch
	if m.conf.Horizon == 1 {
		// The step already ran the transition from the previous state with this action: its
		// deter and prior are exactly the one-step prior prediction.
		m.priorStoch(r.Step)
		return m.conf.Model.Decode(m.pred, r.State.Deter, m.stoch)
	}
	k := m.conf.Horizon
	// State after step t−k, then actions of steps t−k+1 … t (the last is r.Action).
	t := int(m.steps) - 1 // ring index of this step
	m.roll.CopyFrom(m.hist[(t-k)%k])
	for j := t - k + 1; j <= t; j++ {
		act := r.Action
		if j < t {
			act = m.acts[j%k]
		}
		if a.ActionDim == 0 {
			act = nil
		}
		if err := m.conf.Model.PriorStep(&m.roll, act, m.rollOut, nil); err != nil {
			return err
		}
	}
	m.priorStoch(m.rollOut)
	return m.conf.Model.Decode(m.pred, m.roll.Deter, m.stoch)
}

// priorStoch sets m.stoch to the prior mean (continuous) or its one-hot mode (discrete).
func (m *Monitor) priorStoch(o *model.StepOutput) {
	a := m.arch
	if !a.Discrete {
		copy(m.stoch, o.PriorMean)
		return
	}
	clear(m.stoch)
	for g := 0; g < a.Groups; g++ {
		l := o.PriorLogits[g*a.Classes : (g+1)*a.Classes]
		best := 0
		for c, v := range l {
			if v > l[best] {
				best = c
			}
		}
		m.stoch[g*a.Classes+best] = 1
	}
}

func (m *Monitor) remember(r *tick.Result) {
	if m.hist == nil {
		return
	}
	i := int(m.steps-1) % m.conf.Horizon
	m.hist[i].CopyFrom(r.State)
	copy(m.acts[i], r.Action)
}

// mse is the mean squared error between a prediction (clamped to [0,1], the range of a
// pixel) and an 8-bit frame, in [0,1] units.
func mse(pred []float32, img []uint8) float64 {
	var s float64
	for i, b := range img {
		p := min(max(pred[i], 0), 1)
		d := float64(p - float32(b)/255)
		s += d * d
	}
	return s / float64(len(img))
}

// psnr in dB for a peak of 1; capped at 100 dB for a perfect prediction.
func psnr(mse float64) float64 {
	if mse < 1e-10 {
		return 100
	}
	return -10 * math.Log10(mse)
}

// band is an exponentially weighted mean and variance with an out-of-band counter.
type band struct {
	alpha, thr float64
	need, warm int
	n          int
	mean, vari float64
	run        int
}

func newBand(c Config) band {
	return band{alpha: c.Alpha, thr: c.Threshold, need: max(c.Consecutive, 1), warm: c.WarmUp}
}

// add scores x against the baseline (before absorbing it) and updates the baseline. After
// warm-up an out-of-band sample is absorbed clipped to the band's edge (a winsorised update),
// so one wild sample cannot inflate the variance enough to hide the next ones; a sustained
// change still becomes the new normal over a few 1/alpha samples.
func (b *band) add(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	var z float64
	sd := math.Sqrt(b.vari + 1e-12)
	if b.n >= 2 {
		z = (x - b.mean) / sd
	}
	warm := b.n >= b.warm
	b.n++
	if warm && math.Abs(z) > b.thr {
		x = b.mean + math.Copysign(b.thr*sd, z)
	}
	// During warm-up the weight is 1/n: a plain running mean, so early samples count fully.
	a := max(b.alpha, 1/float64(b.n))
	d := x - b.mean
	b.mean += a * d
	b.vari = (1 - a) * (b.vari + a*d*d)
	if warm && z > b.thr {
		b.run++
	} else {
		b.run = 0
	}
	return z
}

func (b *band) anomalous() bool { return b.run >= b.need }

var _ tick.Analyzer = (*Monitor)(nil)
