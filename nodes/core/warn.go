package core

import (
	"sync"
	"time"
)

// WarnLimiter rate-limits per-message warnings by kind (bad inputs can arrive at camera
// rate): OK is true at most once a second per kind. The zero value is ready; one per node.
type WarnLimiter struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// OK reports whether a warning of this kind may be logged now.
func (w *WarnLimiter) OK(kind string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	if now.Sub(w.last[kind]) < time.Second {
		return false
	}
	w.last[kind] = now
	return true
}
