package core

import (
	"fmt"
	"time"
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
}

// Diagnostics is the content of the node's one DiagnosticStatus: level, message and values.
func Diagnostics(d DiagInput) (level int8, msg string, values []KeyValue) {
	level, msg = DiagOK, "running"
	switch {
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
			KeyValue{"tick latency (s)", fmt.Sprintf("%.6f", s.Total.Seconds())},
			KeyValue{"ticks", fmt.Sprint(s.Stats.Ticks)},
			KeyValue{"steps", fmt.Sprint(s.Stats.Steps)},
			KeyValue{"deadline misses", fmt.Sprint(s.Stats.DeadlineMisses)},
			KeyValue{"stale frames", fmt.Sprint(s.Stats.StaleFrames)},
			KeyValue{"ticks without a frame", fmt.Sprint(s.Stats.NoFrame)},
			KeyValue{"camera connected", fmt.Sprint(s.Stats.Source.Connected)},
			KeyValue{"camera reconnects", fmt.Sprint(s.Stats.Source.Reconnects)},
			KeyValue{"camera frames lost", fmt.Sprint(s.Stats.Source.Dropped)},
			KeyValue{"camera errors", fmt.Sprint(s.Stats.Source.Errors)},
			KeyValue{"camera last error", s.Stats.Source.LastError},
			KeyValue{"camera mode", s.Stats.Source.Mode},
			KeyValue{"anomalies", fmt.Sprint(s.Stats.Anomalies)},
		)
	}
	return level, msg, values
}

// RateMeter measures the step rate between diagnostics.
type RateMeter struct {
	steps uint64
	at    time.Time
}

// Rate is the steps per second since the previous call (0 on the first, or without a tick).
func (m *RateMeter) Rate(s *Snapshot, now time.Time) float64 {
	var r float64
	if s != nil && !m.at.IsZero() {
		r = float64(s.Stats.Steps-m.steps) / now.Sub(m.at).Seconds()
	}
	if s != nil {
		m.steps = s.Stats.Steps
	}
	m.at = now
	return r
}
