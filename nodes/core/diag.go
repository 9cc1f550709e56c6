package core

import (
	"fmt"
	"time"

	"github.com/rssmd/rssmd/runtime/tick"
)

// Diagnostic levels (diagnostic_msgs/DiagnosticStatus, the same in ROS 1 and ROS 2).
const (
	DiagOK    = 0
	DiagWarn  = 1
	DiagError = 2
)

// KeyValue is one diagnostics value.
type KeyValue struct{ Key, Value string }

// DiagInput is what /diagnostics reports.
type DiagInput struct {
	Snap *Snapshot // newest tick; nil before the first
	Rate float64   // measured steps per second over the last period
	Want float64   // configured tick rate
	// Link describes the node's connection, in order (ROS 1: master, connected, reconnects;
	// ROS 2: domain, matched peers).
	Link                     []KeyValue
	ActionsRej, ImagesRej    uint64
	KernelPath, Source       string
	HubDropped, NotPublished uint64
	// Live are the loop's counters now, when the node can read them: they keep moving while
	// no frame arrives (a camera that vanished), when the newest snapshot does not.
	Live *tick.Stats
}

// Diagnostics is the content of the node's one DiagnosticStatus: level, message and values.
func Diagnostics(d DiagInput) (level int8, msg string, values []KeyValue) {
	level, msg = DiagOK, "running"
	var st *tick.Stats
	if d.Snap != nil {
		st = &d.Snap.Stats
	}
	if d.Live != nil {
		st = d.Live
	}
	switch {
	case st != nil && st.Ticks > 0 && !st.Source.Connected:
		level, msg = DiagWarn, "camera disconnected"
	case d.Snap == nil:
		level, msg = DiagWarn, "no frame yet"
	case d.Rate < 0.5*d.Want:
		level, msg = DiagWarn, fmt.Sprintf("step rate %.1f Hz below the configured %.1f Hz", d.Rate, d.Want)
	case d.Snap.StaleFrame:
		level, msg = DiagWarn, "frames are stale"
	case d.Snap.Quality.Anomaly:
		level, msg = DiagWarn, "prediction anomaly"
	}
	values = []KeyValue{
		{"step rate (Hz)", fmt.Sprintf("%.2f", d.Rate)},
		{"configured rate (Hz)", fmt.Sprintf("%.2f", d.Want)},
		{"source", d.Source},
	}
	values = append(values, d.Link...)
	values = append(values,
		KeyValue{"actions rejected", fmt.Sprint(d.ActionsRej)},
		KeyValue{"images rejected", fmt.Sprint(d.ImagesRej)},
		KeyValue{"kernel path", d.KernelPath},
	)
	if s := d.Snap; s != nil {
		values = append(values,
			KeyValue{"frame age (s)", fmt.Sprintf("%.4f", s.FrameAge.Seconds())},
			KeyValue{"tick latency (s)", fmt.Sprintf("%.6f", s.Total.Seconds())})
	}
	if s := st; s != nil {
		values = append(values,
			KeyValue{"ticks", fmt.Sprint(s.Ticks)},
			KeyValue{"steps", fmt.Sprint(s.Steps)},
			KeyValue{"deadline misses", fmt.Sprint(s.DeadlineMisses)},
			KeyValue{"stale frames", fmt.Sprint(s.StaleFrames)},
			KeyValue{"ticks without a frame", fmt.Sprint(s.NoFrame)},
			KeyValue{"camera connected", fmt.Sprint(s.Source.Connected)},
			KeyValue{"camera reconnects", fmt.Sprint(s.Source.Reconnects)},
			KeyValue{"camera frames lost", fmt.Sprint(s.Source.Dropped)},
			KeyValue{"camera errors", fmt.Sprint(s.Source.Errors)},
			KeyValue{"camera last error", s.Source.LastError},
			KeyValue{"camera mode", s.Source.Mode},
			KeyValue{"frame errors", fmt.Sprint(s.FrameErrors)},
			KeyValue{"decode on arrival (s)", fmt.Sprintf("%.6f", s.Source.PrepareTime.Seconds())},
			KeyValue{"anomalies", fmt.Sprint(s.Anomalies)},
		)
	}
	return level, msg, values
}

// RateMeter measures the step rate between diagnostics.
type RateMeter struct {
	steps uint64
	at    time.Time
}

// Rate is the steps per second since the previous call (0 on the first, or without a tick),
// from the live counters when there are some, else from the newest snapshot.
func (m *RateMeter) Rate(s *Snapshot, live *tick.Stats, now time.Time) float64 {
	var steps uint64
	switch {
	case live != nil:
		steps = live.Steps
	case s != nil:
		steps = s.Stats.Steps
	}
	var r float64
	if !m.at.IsZero() {
		r = float64(steps-m.steps) / now.Sub(m.at).Seconds()
	}
	m.steps, m.at = steps, now
	return r
}

// LiveStats calls f (a node's LoopStats) when it is set and the loop exists.
func LiveStats(f func() (tick.Stats, bool)) *tick.Stats {
	if f == nil {
		return nil
	}
	if st, ok := f(); ok {
		return &st
	}
	return nil
}
