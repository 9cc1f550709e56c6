package sim

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
)

// CameraConfig configures a Camera.
type CameraConfig struct {
	// World is the simulated scene and camera (see WorldConfig defaults).
	World WorldConfig
	// Rate in frames per second of wall-clock time. 0 (the default) means
	// "as fast as asked": each Next steps the world once, which is what
	// recording and tests want. With Rate > 0 the world runs in real time:
	// frame n is due at start + n/Rate, a slow consumer skips frames (the
	// world still steps through them), and Next waits for the next due frame.
	Rate float64
	// Explore drives the arm with an Explorer seeded from World.Seed instead
	// of the action given to SetAction, so a demo needs no controller.
	Explore bool
	// Script schedules disturbances by frame number. When it is non-empty
	// it owns the occluder and the light (SetDisturbances is overridden at
	// the next frame); Shove still works.
	Script Script
	// Now is the clock for capture times; nil means time.Now. With Rate > 0
	// the real clock also paces Next.
	Now func() time.Time
}

// Camera plays a World as a capture.Source: a camera that needs no device.
// Frames carry the action applied since the previous frame in PreAction.
// Next and Latest follow the Source contract (one consumer); SetAction,
// SetDisturbances, Shove, Reset, Stats and Close may be called from any
// goroutine. After construction Next allocates nothing.
type Camera struct {
	conf  CameraConfig
	start time.Time
	done  chan struct{}
	timer *time.Timer

	mu        sync.Mutex // guards the world, the action and the explorer
	world     *World
	explorer  *Explorer
	action    [ActionDim]float32
	stepped   uint64 // frames the world has been stepped to
	renderBuf []byte

	// consumer-owned
	last    capture.Frame
	have    bool
	nextSeq uint64
	pre     [ActionDim]float32

	frames, skipped atomic.Uint64
	closed          atomic.Bool
	closeOnce       sync.Once
}

// NewCamera builds the world and starts the camera's clock.
func NewCamera(conf CameraConfig) (*Camera, error) {
	if !(conf.Rate >= 0 && conf.Rate <= 1e5) {
		return nil, fmt.Errorf("%w: Rate %v fps, want [0, 1e5]", ErrConfig, conf.Rate)
	}
	if err := conf.Script.Validate(); err != nil {
		return nil, err
	}
	w, err := NewWorld(conf.World)
	if err != nil {
		return nil, err
	}
	conf.World = w.Config()
	if conf.Now == nil {
		conf.Now = time.Now
	}
	c := &Camera{conf: conf, world: w, done: make(chan struct{}), renderBuf: make([]byte, w.FrameLen())}
	c.timer = time.NewTimer(time.Hour)
	c.timer.Stop()
	if conf.Explore {
		c.explorer = NewExplorer(conf.World.Seed)
	}
	c.start = conf.Now()
	return c, nil
}

// Config returns the configuration with defaults filled in.
func (c *Camera) Config() CameraConfig { return c.conf }

// PreprocessConfig is the preprocessing for this camera's frames that the
// demo model was trained with.
func (c *Camera) PreprocessConfig() frame.Config { return PreprocessConfig(c.conf.World) }

// SetAction sets the action applied from the next frame on (ignored with
// Explore). It is validated like World.Step's argument.
func (c *Camera) SetAction(a []float32) error {
	if len(a) != ActionDim {
		return fmt.Errorf("%w: %d components, want %d", ErrAction, len(a), ActionDim)
	}
	for i, v := range a {
		if v != v {
			return fmt.Errorf("%w: component %d is NaN", ErrAction, i)
		}
	}
	c.mu.Lock()
	copy(c.action[:], a)
	c.mu.Unlock()
	return nil
}

// SetDisturbances switches the persistent disturbances (occluder, light).
func (c *Camera) SetDisturbances(d Disturbances) {
	c.mu.Lock()
	c.world.SetDisturbances(d)
	c.mu.Unlock()
}

// Shove hits the arm: adds (dq0, dq1) rad/s to the joint velocities.
func (c *Camera) Shove(dq0, dq1 float64) {
	c.mu.Lock()
	c.world.Shove(dq0, dq1)
	c.mu.Unlock()
}

// Reset starts a new episode from a pose drawn from seed (and reseeds the
// explorer). Frame numbering continues.
func (c *Camera) Reset(seed uint64) {
	c.mu.Lock()
	c.world.Reset(seed)
	if c.explorer != nil {
		c.explorer = NewExplorer(seed)
	}
	c.mu.Unlock()
}

// Next returns the next frame: immediately with Rate 0, else the newest due
// frame newer than the last one returned, waiting for it if needed.
func (c *Camera) Next(ctx context.Context) (capture.Frame, error) {
	if c.closed.Load() {
		return capture.Frame{}, capture.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return capture.Frame{}, err
	}
	n := c.nextSeq
	if c.conf.Rate > 0 {
		due := c.dueFrame()
		if due < n {
			wait := c.frameTime(n).Sub(c.conf.Now())
			if wait > 0 {
				c.timer.Reset(wait)
				select {
				case <-c.timer.C:
				case <-ctx.Done():
					c.timer.Stop()
					return capture.Frame{}, ctx.Err()
				case <-c.done:
					c.timer.Stop()
					return capture.Frame{}, capture.ErrClosed
				}
			}
		} else {
			n = due // frames in between are skipped, not queued
		}
	}
	f := c.produce(n)
	c.skipped.Add(n - c.nextSeq)
	c.nextSeq = n + 1
	c.frames.Store(n + 1)
	c.last, c.have = f, true
	return f, nil
}

// dueFrame is the number of the newest frame whose time has come.
func (c *Camera) dueFrame() uint64 {
	el := c.conf.Now().Sub(c.start)
	if el < 0 {
		return 0
	}
	return uint64(el.Seconds() * c.conf.Rate)
}

// frameTime is the nominal capture time of frame n.
func (c *Camera) frameTime(n uint64) time.Time {
	if c.conf.Rate <= 0 {
		return c.conf.Now()
	}
	return c.start.Add(time.Duration(float64(n) / c.conf.Rate * float64(time.Second)))
}

// produce steps the world to frame n and renders it.
func (c *Camera) produce(n uint64) capture.Frame {
	c.mu.Lock()
	var stepped bool
	for c.stepped < n {
		a := c.action[:]
		if c.explorer != nil {
			a = c.explorer.Next()
		}
		if c.conf.Script.shoveAt(c.stepped + 1) {
			c.world.Shove(shoveImpulse[0], shoveImpulse[1])
		}
		_ = c.world.Step(a) // cannot fail: the action was validated
		c.stepped++
		stepped = true
	}
	if len(c.conf.Script) > 0 {
		c.world.SetDisturbances(disturbancesFor(c.conf.Script.Active(n)))
	}
	if stepped {
		c.pre = c.world.Action()
	} else {
		c.pre = [ActionDim]float32{}
	}
	_ = c.world.Render(c.renderBuf) // cannot fail: the buffer has FrameLen bytes
	c.mu.Unlock()
	t := c.frameTime(n)
	wc := c.conf.World
	return capture.Frame{
		Frame:     frame.Frame{Data: c.renderBuf, Format: wc.Format, Width: wc.Width, Height: wc.Height},
		Seq:       n,
		Captured:  t,
		Mono:      t.Sub(c.start),
		PreAction: c.pre[:],
	}
}

// shoveImpulse is a scripted shove: a hit that swings the arm well beyond
// what its motors can do (their top speed is torqueGain/damping ≈ 5 rad/s).
var shoveImpulse = [2]float64{9, -12}

// Disturbed returns the scripted disturbances active at frame seq (the
// ground truth for counting detections).
func (c *Camera) Disturbed(seq uint64) Kind { return c.conf.Script.Active(seq) }

// Latest returns the frame last returned by Next (the camera renders on
// demand, so there is never a newer finished frame); ok is false before the
// first Next.
func (c *Camera) Latest() (capture.Frame, bool) { return c.last, c.have }

// Stats reports frames produced (counting skipped ones, as a camera counts
// frames it delivered) and frames skipped by a slow consumer.
func (c *Camera) Stats() capture.Stats {
	return capture.Stats{Frames: c.frames.Load(), Skipped: c.skipped.Load(), Connected: !c.closed.Load()}
}

// Close stops the camera; a waiting Next returns capture.ErrClosed.
func (c *Camera) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		close(c.done)
	})
	return nil
}

var _ capture.Source = (*Camera)(nil)
