package capture

import (
	"context"
	"sync"
)

// mailbox hands the newest frame from one producer goroutine to one consumer
// without copying on the consumer side and without allocating per frame:
// three slots rotate between "being written", "newest" and "held by the
// consumer", so the producer never writes into a frame the consumer holds.
type mailbox struct {
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

func newMailbox() *mailbox {
	return &mailbox{latest: -1, held: -1, notify: make(chan struct{}, 1), done: make(chan struct{})}
}

// buffer returns the producer's write buffer resized to n bytes. It
// allocates only when n exceeds every size seen before in that slot.
func (m *mailbox) buffer(n int) []byte {
	m.mu.Lock()
	s := &m.slots[m.write]
	m.mu.Unlock()
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:n]
	return s.buf
}

// publish makes f the newest frame. f.Data may be the slice from buffer or
// memory that stays immutable for the source's lifetime (replay).
func (m *mailbox) publish(f Frame) {
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

// take returns the newest frame if it is newer than the last one taken, or
// any newest frame if fresh is false.
func (m *mailbox) take(fresh bool) (Frame, bool) {
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

func (m *mailbox) next(ctx context.Context) (Frame, error) {
	for {
		if f, ok := m.take(true); ok {
			return f, nil
		}
		select {
		case <-m.notify:
		case <-m.done:
			if f, ok := m.take(true); ok {
				return f, nil
			}
			return Frame{}, ErrClosed
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		}
	}
}

func (m *mailbox) skippedCount() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.skipped
}

func (m *mailbox) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.done)
	}
}
