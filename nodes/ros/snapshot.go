package ros

import (
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

// snapshot is the part of a tick.Result the node publishes, copied out of the loop's buffers
// on the control goroutine (OnTick) into preallocated slices.
type snapshot struct {
	Tick, Seq    uint64
	Captured     time.Time
	FrameAge     time.Duration
	StaleFrame   bool
	IsFirst      bool
	ActionStatus tick.ActionStatus
	Action       []float32
	State        model.State
	PriorMean    []float32 // logits for discrete models
	PriorStd     []float32
	PostMean     []float32
	PostStd      []float32
	KL           float32
	Quality      tick.Quality
	Stats        tick.Stats
	Total        time.Duration
}

func newSnapshot(a *model.Arch) snapshot {
	s := snapshot{
		Action:    make([]float32, a.ActionDim),
		State:     model.State{Deter: make([]float32, a.Deter), Stoch: make([]float32, a.Stoch)},
		PriorMean: make([]float32, a.Stoch),
		PostMean:  make([]float32, a.Stoch),
	}
	if !a.Discrete {
		s.PriorStd = make([]float32, a.Stoch)
		s.PostStd = make([]float32, a.Stoch)
	}
	return s
}

// copyFrom fills s from r without allocating.
func (s *snapshot) copyFrom(r *tick.Result) {
	s.Tick, s.Seq, s.Captured, s.FrameAge = r.Tick, r.Seq, r.Captured, r.FrameAge
	s.StaleFrame, s.IsFirst, s.ActionStatus = r.StaleFrame, r.IsFirst, r.ActionStatus
	copy(s.Action, r.Action)
	s.State.CopyFrom(r.State)
	if st := r.Step; st != nil {
		if st.PriorLogits != nil {
			copy(s.PriorMean, st.PriorLogits)
			copy(s.PostMean, st.PosteriorLogits)
		} else {
			copy(s.PriorMean, st.PriorMean)
			copy(s.PriorStd, st.PriorStd)
			copy(s.PostMean, st.PosteriorMean)
			copy(s.PostStd, st.PosteriorStd)
		}
		s.KL = st.KL
	}
	s.Quality, s.Stats, s.Total = r.Quality, r.Stats, r.Stages[tick.StageTotal]
}

// staleAction reports whether the tick ran without a fresh action (held, missing or stale).
func (s *snapshot) staleAction() bool {
	return s.ActionStatus != tick.ActionFresh && s.ActionStatus != tick.ActionNone
}
