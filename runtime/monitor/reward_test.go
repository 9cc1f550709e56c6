package monitor

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/tick"
)

// seqSource hands the tick loop one new frame of seq per Latest call, looping, with
// IsFirst on frame 0 of every pass (like a looping replay).
type seqSource struct {
	seq   *capture.Sequence
	clock *tick.FakeClock
	n     uint64
	f     capture.Frame
}

func (s *seqSource) Latest() (capture.Frame, bool) {
	t := int(s.n % uint64(s.seq.T))
	s.f = capture.Frame{Frame: frame.Frame{Data: s.seq.Image(t), Format: frame.RGB24, Width: 64, Height: 64},
		Seq: s.n, Captured: s.clock.Now(), PreAction: s.seq.PreAction(t), IsFirst: t == 0}
	s.n++
	return s.f, true
}
func (s *seqSource) Stats() capture.Stats { return capture.Stats{Connected: true} }

type rewardSink struct {
	reward, elbo []float64
	first        []bool
}

func (k *rewardSink) OnTick(r *tick.Result) {
	k.reward = append(k.reward, r.Quality.Reward)
	k.elbo = append(k.elbo, r.Quality.ELBO)
	k.first = append(k.first, r.IsFirst)
}

// TestRewardThroughLoop: the reward the monitor gives in a real tick loop — action-free
// (VIPER) and action models, float32 — is 0 at every episode start (the first step, a wrap of
// the looping source, a ~reset request) and symlog(ELBO) of the step otherwise, equal to
// `rssmd filter`'s viper_reward for the same frames with is_first at the same steps. The
// prediction is decoded only every 3rd step: the reward is still there every step.
func TestRewardThroughLoop(t *testing.T) {
	for _, name := range []string{"cnnha-actionfree", "cnnha-actions"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "model", "testdata", "golden", name)
			m, err := model.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			seq, err := capture.LoadSequence(filepath.Join(dir, "seq.npz"))
			if err != nil {
				t.Fatal(err)
			}
			mon, err := New(Config{Model: m.NewRunner(), ELBO: true, DecodeEvery: 3})
			if err != nil {
				t.Fatal(err)
			}
			sink := &rewardSink{}
			clock := &tick.FakeClock{T: time.Unix(1000, 0)}
			loop, err := tick.New(tick.Config{Rate: 100, Model: m.NewRunner(), Source: &seqSource{seq: seq, clock: clock},
				FrameActions: true, Monitor: mon, Sinks: []tick.Sink{sink}, Clock: clock, MaxFrameAge: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			// Two passes and a bit, with a reset request before step T+2.
			T := seq.T
			n, resetAt := 2*T+3, T+2
			for k := 0; k < n; k++ {
				if k == resetAt {
					loop.RequestReset()
				}
				loop.TickOnce()
				clock.Advance(loop.Period())
			}
			// The filter contract on the same n frames, episode starts at 0, T, T+2, 2T.
			ms := &model.Sequence{T: n, ActionDim: seq.A, IsFirst: make([]bool, n)}
			for k := 0; k < n; k++ {
				ms.Images = append(ms.Images, seq.Image(k%T)...)
				ms.PreAction = append(ms.PreAction, seq.PreAction(k%T)...)
				ms.IsFirst[k] = k%T == 0 || k == resetAt
			}
			arrs, err := model.Filter(m.NewRunner(), ms, model.FilterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var want, elbo []float32
			for _, a := range arrs {
				switch a.Name {
				case "viper_reward":
					want = a.Data
				case "elbo":
					elbo = a.Data
				}
			}
			if len(sink.reward) != n {
				t.Fatalf("%d ticks published, want %d", len(sink.reward), n)
			}
			for k := range n {
				if sink.first[k] != ms.IsFirst[k] {
					t.Errorf("step %d: IsFirst %v, want %v", k, sink.first[k], ms.IsFirst[k])
				}
				r := sink.reward[k]
				if ms.IsFirst[k] {
					if r != 0 {
						t.Errorf("step %d (episode start): reward %v, want 0", k, r)
					}
					continue
				}
				if s := model.Symlog(sink.elbo[k]); math.Abs(r-s) > 1e-6*math.Abs(s) {
					t.Errorf("step %d: reward %v, symlog of its ELBO %v is %v", k, r, sink.elbo[k], s)
				}
				if math.Abs(r-float64(want[k])) > 1e-5*math.Abs(float64(want[k])) || math.Abs(sink.elbo[k]-float64(elbo[k])) > 1e-5*math.Abs(float64(elbo[k])) {
					t.Errorf("step %d: reward %v elbo %v, filter says %v, %v", k, r, sink.elbo[k], want[k], elbo[k])
				}
			}
		})
	}
}

// TestRewardOff: without the ELBO there is no reward (NaN), not a made-up 0.
func TestRewardOff(t *testing.T) {
	m, seq := load(t)
	qs, _ := run(t, m, seq, Config{})
	for i, q := range qs {
		if !math.IsNaN(q.Reward) || !math.IsNaN(q.ELBO) {
			t.Fatalf("step %d: reward %v, ELBO %v without ELBO on, want NaN", i, q.Reward, q.ELBO)
		}
	}
}
