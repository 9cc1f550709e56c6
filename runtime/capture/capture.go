// Package capture owns the frame sources of rssmd: V4L2 cameras (driven with
// our own low-level loop, with reconnect), replay of recorded .npz sequences,
// and the freshest-frame mailbox they share. A source always hands out the
// newest frame and never a queue of stale ones.
package capture

import (
	"context"
	"errors"
	"time"

	"github.com/rssmd/rssmd/runtime/frame"
)

// Frame is one captured image with its capture metadata.
//
// Ownership: Data (and PreAction) belong to the Source. They stay valid and
// unchanged until the consumer's next call to Next or Latest on that Source
// (or Close); copy them to keep them longer. This is what lets a source run
// without allocating per frame: it cycles three buffers (one being written,
// the newest, the one the consumer holds).
type Frame struct {
	frame.Frame
	// Seq is the source's frame sequence number (the V4L2 driver's, widened
	// to 64 bits; the frame index for replay). A gap means frames were lost.
	Seq uint64
	// Captured is the wall-clock capture time (V4L2: the driver's monotonic
	// timestamp mapped to wall time through a measured offset).
	Captured time.Time
	// Mono is the capture time on CLOCK_MONOTONIC, for latency and rate
	// measurements that must not jump with the wall clock.
	Mono time.Duration
	// PreAction is, for replay, row Seq of the sequence's pre_action (the
	// action applied before this frame); nil for cameras.
	PreAction []float32
	// IsFirst marks the first frame of an episode as the source knows it: for
	// replay, the first frame delivered and the first of every loop. Cameras
	// leave it false (the tick loop starts episodes itself).
	IsFirst bool
}

// Source is a stream of frames. Sources are meant for one consumer (the tick
// loop): Next and Latest must not be called concurrently with each other;
// Stats and Close may be called from anywhere.
type Source interface {
	// Next blocks until a frame newer than the last one returned by Next or
	// Latest is available, and returns the newest one (frames that arrived
	// in between are skipped, not queued). It returns ctx.Err() when ctx
	// ends, ErrClosed after Close and io.EOF at the end of a replay.
	Next(ctx context.Context) (Frame, error)
	// Latest returns the newest frame without blocking (it may be the one
	// returned before); ok is false when no frame has arrived yet.
	Latest() (f Frame, ok bool)
	// Stats returns counters since the source was created.
	Stats() Stats
	// Close stops the source and releases its device and buffers.
	Close() error
}

// Stats are a source's counters, for metrics and diagnostics.
type Stats struct {
	// Frames is the number of frames received from the device or file.
	Frames uint64
	// Dropped counts frames the device reports lost (gaps in Seq).
	Dropped uint64
	// Skipped counts frames replaced by a newer one before the consumer
	// read them (the consumer was slower than the camera).
	Skipped uint64
	// Errors counts device errors (each failed open, dequeue, timeout).
	Errors uint64
	// Refused counts frames dropped because preprocessing refused them before
	// the tick saw them (a Prepared stage: corrupt MJPEG, a bad size).
	Refused uint64
	// PrepareTime is how long the last frame's preprocessing took on arrival
	// (a Prepared stage); 0 when the tick preprocesses.
	PrepareTime time.Duration
	// Reconnects counts successful re-opens after the device was lost.
	Reconnects uint64
	// Connected is true while the device is open and streaming.
	Connected bool
	// LastError is the most recent error, "" if none.
	LastError string
	// Mode is what the device last negotiated, as the driver reported it
	// back ("YUYV 640x480 30fps; driver default was YUYV 1280x720"); ""
	// for sources without one.
	Mode string
}

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("capture: source closed")
