package model

import (
	"math"
	"sync"
	"sync/atomic"
)

// memoEntries is how many decoded images a DecodeMemo keeps: per tick the monitor decodes the
// prior and the posterior, a node the next tick's forecast; four cover a tick and the next.
const memoEntries = 4

// DecodeMemo lets the steppers of one model on several goroutines share the images they
// decode. The control loop's monitor decodes the prior of frame t+1 (to score it) and the
// posterior of frame t (for the ELBO); a node publishing ~predicted_image decodes the prior
// of frame t+1 a tick earlier (under the action then held) and ~reconstruction the same
// posterior. Wrapped steppers look each decode up by its inputs — the exact bits of deter
// and stoch — so an image is reused only where decoding again would give the same bits, and
// results never depend on which goroutine decoded first. A forecast made under an action that
// was then changed simply misses.
//
// All steppers sharing a memo must be steppers of the same model (same weights, same path).
type DecodeMemo struct {
	mu      sync.Mutex
	entries [memoEntries]memoEntry
	next    int

	decodes, reused atomic.Uint64
}

type memoEntry struct {
	valid             bool
	deter, stoch, img []float32
}

// NewDecodeMemo sizes a memo for models of architecture a.
func NewDecodeMemo(a *Arch) *DecodeMemo {
	m := &DecodeMemo{}
	for i := range m.entries {
		m.entries[i] = memoEntry{deter: make([]float32, a.Deter), stoch: make([]float32, a.Stoch),
			img: make([]float32, ImageValues)}
	}
	return m
}

// Stats are the decodes run through the memo's steppers and those answered from it.
func (m *DecodeMemo) Stats() (decodes, reused uint64) { return m.decodes.Load(), m.reused.Load() }

// Wrap returns s decoding through the memo. Evaluate (the ELBO) decodes through it too when s
// is an Evaluator, as model.Runner and quant.Runner are.
func (m *DecodeMemo) Wrap(s Stepper) Stepper {
	w := &memoStepper{Stepper: s, memo: m}
	if ev, ok := s.(Evaluator); ok {
		w.ev = ev
		w.mean = make([]float32, ImageValues)
	}
	return w
}

// lookup copies the image decoded from (deter, stoch) into img if the memo holds it.
func (m *DecodeMemo) lookup(img, deter, stoch []float32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.entries {
		e := &m.entries[i]
		if e.valid && sameBits(e.deter, deter) && sameBits(e.stoch, stoch) {
			copy(img, e.img)
			return true
		}
	}
	return false
}

func (m *DecodeMemo) store(img, deter, stoch []float32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := &m.entries[m.next]
	m.next = (m.next + 1) % memoEntries
	copy(e.deter, deter)
	copy(e.stoch, stoch)
	copy(e.img, img)
	e.valid = true
}

// sameBits compares bit patterns: a value equal as a float but not in bits (−0, NaNs) is a
// different input as far as reuse is concerned.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i, v := range a {
		if math.Float32bits(v) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

type memoStepper struct {
	Stepper
	memo *DecodeMemo
	ev   Evaluator
	mean []float32
}

func (s *memoStepper) Decode(img []float32, deter, stoch []float32) error {
	a := s.Arch()
	if len(deter) != a.Deter || len(stoch) != a.Stoch || len(img) < ImageValues {
		return s.Stepper.Decode(img, deter, stoch) // its error, not ours
	}
	if s.memo.lookup(img, deter, stoch) {
		s.memo.reused.Add(1)
		return nil
	}
	if err := s.Stepper.Decode(img, deter, stoch); err != nil {
		return err
	}
	s.memo.decodes.Add(1)
	s.memo.store(img, deter, stoch)
	return nil
}

// Head is the wrapped stepper's head output (EvaluateStep calls it; only when ev is set).
func (s *memoStepper) Head(i int, deter, stoch []float32) []float32 {
	return s.ev.Head(i, deter, stoch)
}

func (s *memoStepper) Evaluate(deter, stochMean []float32, image []uint8, targets []float32, kl float32, recon []float32, out *Likelihood) error {
	if s.ev == nil {
		return s.Stepper.Evaluate(deter, stochMean, image, targets, kl, recon, out)
	}
	return EvaluateStep(s, s.mean, deter, stochMean, image, targets, kl, recon, out)
}
