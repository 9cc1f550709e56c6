package capture

import (
	"context"
	"sync"
)

// Mailbox is rssmd's one freshest-frame mailbox: it hands the newest frame
// from its producer to one consumer without copying on the consumer side and
// without allocating per frame, and counts the frames nobody took. Three
// slots rotate between "being written", "newest" and "held by the consumer",
// so the producer never writes into a frame the consumer holds. Every live
// source uses it: the camera and paced replay here, the ROS image
// subscriptions in nodes/ros. Publish may be called from several goroutines
// (it is serialised); Buffer belongs to a single producer.
type Mailbox struct {
	mu      sync.Mutex
	slots   [3]mslot
	write   int // slot the producer fills next
	latest  int // newest published slot, -1 before the first
	held    int // slot last returned to the consumer, -1 if none
	gen     uint64
	read    uint64 // gen of the frame last returned to the consumer
	skipped uint64
	closed  bool
	notify  chan struct{} // capacity 1: "something was published"
	done    chan struct{} // closed by close()
}

type mslot struct {
	f   Frame
	gen uint64
	buf []byte
}

// NewMailbox returns an empty mailbox.
func NewMailbox() *Mailbox {
	return &Mailbox{latest: -1, held: -1, notify: make(chan struct{}, 1), done: make(chan struct{})}
}

// Buffer returns the producer's write buffer resized to n bytes, to fill and
// then Publish. It allocates only when n exceeds every size seen before in
// that slot.
func (m *Mailbox) Buffer(n int) []byte {
	m.mu.Lock()
	s := &m.slots[m.write]
	m.mu.Unlock()
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:n]
	return s.buf
}

// Publish makes f the newest frame. f.Data may be the slice from Buffer or
// memory nobody writes to afterwards (a replayed sequence, a received
// message).
func (m *Mailbox) Publish(f Frame) {
	m.mu.Lock()
	if m.latest >= 0 && m.slots[m.latest].gen > m.read {
		m.skipped++
	}
	m.gen++
	s := &m.slots[m.write]
	s.f, s.gen = f, m.gen
	m.latest = m.write
	for i := range m.slots { // the slot that is neither newest nor held
		if i != m.latest && i != m.held {
			m.write = i
			break
		}
	}
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// Take returns the newest frame if it is newer than the last one taken, or
// the newest frame whatever was taken before if fresh is false; ok is false
// when there is no such frame. It never blocks.
func (m *Mailbox) Take(fresh bool) (Frame, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.latest < 0 || (fresh && m.slots[m.latest].gen <= m.read) {
		return Frame{}, false
	}
	s := &m.slots[m.latest]
	m.held, m.read = m.latest, s.gen
	// The write slot is never the newest, so the consumer never holds it.
	return s.f, true
}

// Next waits for a frame newer than the last one taken; ErrClosed once the
// mailbox is closed and drained.
func (m *Mailbox) Next(ctx context.Context) (Frame, error) {
	for {
		if f, ok := m.Take(true); ok {
			return f, nil
		}
		select {
		case <-m.notify:
		case <-m.done:
			if f, ok := m.Take(true); ok {
				return f, nil
			}
			return Frame{}, ErrClosed
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		}
	}
}

// Skipped counts published frames that were replaced before anyone took them.
func (m *Mailbox) Skipped() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.skipped
}

// Close wakes waiting consumers; Next then returns what is left, then ErrClosed.
func (m *Mailbox) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.done)
	}
}
