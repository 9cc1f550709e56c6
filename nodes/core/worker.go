package core

import (
	"context"
	"errors"
	"time"
)

// Worker is the loop of a node's publishing goroutine: it takes the feed's ticks in order,
// runs ~imagine calls (the goroutine owns the Predictor's model and the newest state) and
// fires diagnostics on a timer. A node supplies only its message mapping (Publish, Diagnose).
type Worker struct {
	Feed       *Feed
	Predictor  *Predictor
	DiagPeriod time.Duration
	MaxHorizon int
	// Publish writes every output of s (the newest tick, in order); Diagnose writes
	// /diagnostics for cur (nil before the first tick).
	Publish  func(s *Snapshot)
	Diagnose func(cur *Snapshot)

	calls chan imagineCall
}

type imagineCall struct {
	req ImagineRequest
	res chan imagineResult
}

type imagineResult struct {
	r   *Rollout
	err error
}

// ErrBusy is returned by Imagine when the worker did not take or finish the call in time.
var ErrBusy = errors.New("the node's worker is busy")

func (w *Worker) init() {
	if w.calls == nil {
		w.calls = make(chan imagineCall)
	}
}

// Run serves until ctx ends, then releases the snapshot it holds.
func (w *Worker) Run(ctx context.Context) {
	w.init()
	var cur *Snapshot
	defer func() { w.Feed.Release(cur) }()
	diag := time.NewTicker(w.DiagPeriod)
	defer diag.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.Feed.Wake():
			for s, ok := w.Feed.Acquire(); ok; s, ok = w.Feed.Acquire() {
				w.Feed.Release(cur)
				cur = s
				w.Publish(cur)
			}
		case c := <-w.calls:
			r, err := w.Predictor.Imagine(cur, c.req, w.MaxHorizon)
			c.res <- imagineResult{r, err}
		case <-diag.C:
			w.Diagnose(cur)
		}
	}
}

// Imagine rolls the model out from the newest published state on the worker's goroutine,
// waiting up to timeout for it (from a service callback's goroutine).
func (w *Worker) Imagine(req ImagineRequest, timeout time.Duration) (*Rollout, error) {
	w.init()
	c := imagineCall{req: req, res: make(chan imagineResult, 1)}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case w.calls <- c:
	case <-t.C:
		return nil, ErrBusy
	}
	select {
	case r := <-c.res:
		return r.r, r.err
	case <-t.C:
		return nil, ErrBusy
	}
}
