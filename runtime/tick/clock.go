package tick

import (
	"context"
	"time"
)

// Clock is the time the loop runs on. The real clock sleeps; tests use FakeClock, which
// jumps, so that deadline and staleness rules are tested without waiting.
type Clock interface {
	Now() time.Time
	// SleepUntil returns when the clock reaches t or ctx ends (then ctx.Err()).
	SleepUntil(ctx context.Context, t time.Time) error
}

// RealClock is the wall clock with its monotonic reading. It reuses one timer, so sleeping
// allocates nothing; it is meant for one goroutine.
type RealClock struct {
	timer *time.Timer
}

// NewRealClock returns a real clock.
func NewRealClock() *RealClock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &RealClock{timer: t}
}

// Now returns time.Now().
func (c *RealClock) Now() time.Time { return time.Now() }

// SleepUntil sleeps until t.
func (c *RealClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	c.timer.Reset(d)
	select {
	case <-c.timer.C:
		return nil
	case <-ctx.Done():
		c.timer.Stop()
		return ctx.Err()
	}
}

// FakeClock is a manual clock for tests: SleepUntil jumps to the target instantly and then
// calls OnSleep, which lets a test publish frames or actions "while the loop sleeps".
// It is not safe for concurrent use.
type FakeClock struct {
	T       time.Time
	OnSleep func(now time.Time)
}

// Now returns the fake time.
func (c *FakeClock) Now() time.Time { return c.T }

// Advance moves the clock forward by d (a slow model step in a test).
func (c *FakeClock) Advance(d time.Duration) { c.T = c.T.Add(d) }

// SleepUntil jumps to t (if it is in the future).
func (c *FakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.After(c.T) {
		c.T = t
	}
	if c.OnSleep != nil {
		c.OnSleep(c.T)
	}
	return ctx.Err() // OnSleep may have ended the run
}
