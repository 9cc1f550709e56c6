package tick

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// ActionInput delivers the action applied since the last tick. The ROS node implements it
// with a topic subscriber (or feeds an ActionMailbox); replay feeds the recorded pre_action.
type ActionInput interface {
	// Take copies the newest action into dst (len = the model's action dim) and reports when
	// it was applied, whether it is new since the previous Take, and whether there was ever
	// one (ok false: dst untouched).
	Take(dst []float32) (at time.Time, fresh, ok bool)
	// Rejected counts actions refused because of their length or a NaN/Inf value.
	Rejected() uint64
}

// ActionPolicy says what the loop uses when no new action arrived since the last tick.
type ActionPolicy uint8

const (
	// HoldLast repeats the last action until it is older than Config.ActionMaxAge.
	HoldLast ActionPolicy = iota
	// Zeros uses a zero action.
	Zeros
)

// ParseActionPolicy parses "hold" or "zeros".
func ParseActionPolicy(s string) (ActionPolicy, error) {
	switch s {
	case "hold", "hold-last", "":
		return HoldLast, nil
	case "zeros", "zero":
		return Zeros, nil
	}
	return 0, fmt.Errorf("unknown action policy %q (want hold or zeros)", s)
}

func (p ActionPolicy) String() string {
	if p == Zeros {
		return "zeros"
	}
	return "hold"
}

// ActionStatus reports where a tick's action came from.
type ActionStatus uint8

const (
	// ActionNone: the model takes no action (action-free model).
	ActionNone ActionStatus = iota
	// ActionFresh: a new action arrived since the last tick.
	ActionFresh
	// ActionHeld: none arrived; the last one was repeated (HoldLast).
	ActionHeld
	// ActionMissing: none arrived (or none ever); zeros were used.
	ActionMissing
	// ActionStale: the newest action is older than ActionMaxAge; zeros were used.
	ActionStale
)

func (s ActionStatus) String() string {
	return [...]string{"none", "fresh", "held", "missing", "stale"}[s]
}

// ErrAction marks an action refused by ActionMailbox.Put.
var ErrAction = errors.New("invalid action")

// ActionMailbox keeps the newest valid action; Put may be called from any goroutine (a ROS
// subscriber), Take from the loop. Neither allocates.
type ActionMailbox struct {
	mu       sync.Mutex
	buf      []float32
	at       time.Time
	gen      uint64
	taken    uint64
	rejected atomic.Uint64
}

// NewActionMailbox returns a mailbox for actions of dim values.
func NewActionMailbox(dim int) *ActionMailbox {
	return &ActionMailbox{buf: make([]float32, dim)}
}

// Put stores a, applied at time at. A wrong length or a NaN/Inf value is refused (and
// counted); the previous action stays.
func (m *ActionMailbox) Put(a []float32, at time.Time) error {
	if len(a) != len(m.buf) {
		m.rejected.Add(1)
		return fmt.Errorf("%w: %d values, model takes %d", ErrAction, len(a), len(m.buf))
	}
	for i, v := range a {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			m.rejected.Add(1)
			return fmt.Errorf("%w: element %d is %v", ErrAction, i, v)
		}
	}
	m.mu.Lock()
	copy(m.buf, a)
	m.at = at
	m.gen++
	m.mu.Unlock()
	return nil
}

// Take implements ActionInput.
func (m *ActionMailbox) Take(dst []float32) (at time.Time, fresh, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen == 0 {
		return time.Time{}, false, false
	}
	copy(dst, m.buf)
	fresh = m.gen != m.taken
	m.taken = m.gen
	return m.at, fresh, true
}

// Rejected implements ActionInput.
func (m *ActionMailbox) Rejected() uint64 { return m.rejected.Load() }

// CountRejected counts an action message that could not even be decoded.
func (m *ActionMailbox) CountRejected() { m.rejected.Add(1) }

var _ ActionInput = (*ActionMailbox)(nil)
