package core

import (
	"math"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

// Snapshot is the part of a tick.Result the nodes publish, copied out of the loop's buffers
// into preallocated slices.
type Snapshot struct {
	Tick, Seq    uint64
	Captured     time.Time
	FrameAge     time.Duration
	StaleFrame   bool
	IsFirst      bool
	ActionStatus tick.ActionStatus
	Action       []float32
	State        model.State
	PriorMean    []float32 // logits for discrete models
	PriorStd     []float32 // empty for discrete models
	PostMean     []float32 // logits for discrete models
	PostStd      []float32 // empty for discrete models
	KL           float32
	Quality      tick.Quality
	Stats        tick.Stats
	Total        time.Duration
}

// NewSnapshot allocates a snapshot for models of architecture a.
func NewSnapshot(a *model.Arch) *Snapshot {
	s := &Snapshot{
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

// CopyFrom fills s from r without allocating.
func (s *Snapshot) CopyFrom(r *tick.Result) {
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

// StaleAction reports whether the tick ran without a fresh action (held, missing or stale).
func (s *Snapshot) StaleAction() bool {
	return s.ActionStatus != tick.ActionFresh && s.ActionStatus != tick.ActionNone
}

// ELBO is the step's ELBO as published: NaN when it was not computed.
func (s *Snapshot) ELBO() float32 {
	if s.Quality.Decoded || !math.IsNaN(s.Quality.ELBO) {
		return float32(s.Quality.ELBO)
	}
	return float32(math.NaN())
}

// VectorLen is the length of the latent vector concat(deter, stoch).
func (s *Snapshot) VectorLen() int { return len(s.State.Deter) + len(s.State.Stoch) }

// AppendVector appends the model's feature concat(deter, stoch) — what a policy or value head
// reads — to dst.
func (s *Snapshot) AppendVector(dst []float32) []float32 {
	return append(append(dst, s.State.Deter...), s.State.Stoch...)
}
