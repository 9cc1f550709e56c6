package core

import (
	"sync"
	"sync/atomic"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

// FeedDepth is how many ticks a feed may fall behind before its oldest is dropped: a node's
// worker publishes every tick in order (a reliable topic carries them all) unless it stalls
// for this many periods, and then a controller gets the newest rather than a backlog.
const FeedDepth = 4

// Hub is the tick sink that feeds every node: OnTick copies the result once, on the control
// goroutine, into a free snapshot of a fixed pool (no allocation, no blocking) and queues a
// reference to it on each Feed. Feeds hold references, not copies, so one tick costs one copy
// however many nodes publish it; a snapshot returns to the pool when its last holder
// releases it.
type Hub struct {
	mu    sync.Mutex
	pool  []*Snapshot
	refs  []int // per pool entry: holders (queued in a feed, held by a consumer, being written)
	feeds []*Feed
	arch  *model.Arch
	// dropped counts ticks that found no free snapshot (cannot happen unless a consumer
	// never releases what it acquired).
	dropped atomic.Uint64
}

// NewHub makes a hub for models of architecture a. Feeds are added before the loop runs.
func NewHub(a *model.Arch) *Hub {
	h := &Hub{arch: a}
	h.grow(1) // the one being written
	return h
}

func (h *Hub) grow(n int) {
	for range n {
		h.pool = append(h.pool, NewSnapshot(h.arch))
		h.refs = append(h.refs, 0)
	}
}

// Feed is one consumer's queue of ticks: Wake fires after each tick; Acquire takes the oldest
// queued snapshot (a reference) and Release gives it back.
type Feed struct {
	hub     *Hub
	wake    chan struct{}
	q       [FeedDepth]int
	head, n int
	dropped atomic.Uint64
}

// Subscribe adds a feed. A feed holds up to FeedDepth queued snapshots plus the one its
// consumer publishes and the one it is acquiring, so the pool grows by FeedDepth+2.
func (h *Hub) Subscribe() *Feed {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.grow(FeedDepth + 2)
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
	h.refs[i] = 1 // reserved while being written
	h.mu.Unlock()

	h.pool[i].CopyFrom(r)

	h.mu.Lock()
	h.refs[i] = 0
	for _, f := range h.feeds {
		if f.n == FeedDepth {
			// The consumer stalled: drop its oldest tick.
			h.refs[f.q[f.head]]--
			f.head = (f.head + 1) % FeedDepth
			f.n--
			f.dropped.Add(1)
		}
		f.q[(f.head+f.n)%FeedDepth] = i
		f.n++
		h.refs[i]++
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

// Wake fires (coalesced) after each tick: drain with Acquire until it reports none.
func (f *Feed) Wake() <-chan struct{} { return f.wake }

// Dropped is the number of ticks this feed's consumer fell too far behind to get.
func (f *Feed) Dropped() uint64 { return f.dropped.Load() }

// Acquire returns the oldest queued snapshot. The caller owns a reference until Release; the
// snapshot must not be written.
func (f *Feed) Acquire() (*Snapshot, bool) {
	h := f.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if f.n == 0 {
		return nil, false
	}
	i := f.q[f.head]
	f.head = (f.head + 1) % FeedDepth
	f.n--
	return h.pool[i], true
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
