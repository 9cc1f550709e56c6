package core

import (
	"sync"
	"sync/atomic"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

// Hub is the tick sink that feeds every node: OnTick copies the result once, on the control
// goroutine, into a free snapshot of a fixed pool (no allocation, no blocking), publishes it
// as the newest and wakes each Feed. Feeds hold references, not copies, so one tick costs
// one copy however many nodes publish it; a snapshot returns to the pool when the last
// holder releases it.
type Hub struct {
	mu     sync.Mutex
	pool   []*Snapshot
	refs   []int // per pool entry: holders (the hub's "newest" counts as one)
	newest int   // pool index of the newest snapshot, -1 before the first tick
	feeds  []*Feed
	arch   *model.Arch
	// dropped counts ticks that found no free snapshot (every one held by slow consumers).
	dropped atomic.Uint64
}

// NewHub makes a hub for models of architecture a. Feeds are added before the loop runs.
func NewHub(a *model.Arch) *Hub {
	h := &Hub{arch: a, newest: -1}
	h.grow(2)
	return h
}

func (h *Hub) grow(n int) {
	for range n {
		h.pool = append(h.pool, NewSnapshot(h.arch))
		h.refs = append(h.refs, 0)
	}
}

// Feed is one consumer's view of the hub: Wake fires after each tick; Acquire takes the
// newest snapshot (a reference) and Release gives it back.
type Feed struct {
	hub  *Hub
	wake chan struct{}
	gen  uint64
}

// Subscribe adds a feed. Each feed may hold up to two snapshots at a time (the one it
// publishes and the newest it acquires), so the pool grows by two.
func (h *Hub) Subscribe() *Feed {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.grow(2)
	f := &Feed{hub: h, wake: make(chan struct{}, 1)}
	h.feeds = append(h.feeds, f)
	return f
}

// OnTick implements tick.Sink.
func (h *Hub) OnTick(r *tick.Result) {
	h.mu.Lock()
	i := -1
	for k, n := range h.refs {
		if n == 0 {
			i = k
			break
		}
	}
	if i < 0 {
		h.mu.Unlock()
		h.dropped.Add(1)
		return
	}
	h.refs[i] = 1 // reserved while being written; then held as the newest
	h.mu.Unlock()

	h.pool[i].CopyFrom(r)

	h.mu.Lock()
	if h.newest >= 0 {
		h.refs[h.newest]--
	}
	h.newest = i
	for _, f := range h.feeds {
		f.gen++
	}
	h.mu.Unlock()
	for _, f := range h.feeds {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

var _ tick.Sink = (*Hub)(nil)

// Dropped is the number of ticks no snapshot was free for.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }

// Wake fires (coalesced) after each tick.
func (f *Feed) Wake() <-chan struct{} { return f.wake }

// Acquire returns the newest snapshot if the feed has not taken it yet. The caller owns a
// reference until Release; the snapshot must not be written.
func (f *Feed) Acquire() (*Snapshot, bool) {
	h := f.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.newest < 0 || f.gen == 0 {
		return nil, false
	}
	f.gen = 0
	h.refs[h.newest]++
	return h.pool[h.newest], true
}

// Release gives a snapshot from Acquire back (nil is ignored).
func (f *Feed) Release(s *Snapshot) {
	if s == nil {
		return
	}
	h := f.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, p := range h.pool {
		if p == s {
			h.refs[i]--
			return
		}
	}
}
