// Package sim owns rssmd's built-in simulated camera: a two-link planar arm
// in a textured room, driven by a 2-D action, rendered at camera resolution
// (YUYV or RGB24) so the whole preprocessing pipeline runs as with a real
// camera. It also owns the scripted disturbances the demo injects (an
// occluder, a light change, a shove), an exploratory action process for
// recording training data, and a capture.Source that plays the world live.
package sim

import (
	"errors"
	"fmt"
	"math"

	"github.com/rssmd/rssmd/runtime/frame"
)

// ActionDim is the size of the action vector: the two joint torque commands,
// each in [-1, 1].
const ActionDim = 2

// Physical constants of the arm, in image pixels, radians and seconds. The
// arm stands on the floor at the bottom centre of the camera's centre square
// and reaches at most linkLen1+linkLen2 from its base, which keeps it inside
// that square at every joint angle.
const (
	linkLen1 = 0.27 // of the image height
	linkLen2 = 0.21
	// torqueGain is the angular acceleration (rad/s²) of a unit action and
	// damping the velocity decay rate (1/s): top speed gain/damping rad/s.
	torqueGain = 24.0
	damping    = 5.0
	q1Limit    = 1.35 // |shoulder angle| from vertical
	q2Limit    = 2.5  // |elbow angle| relative to the upper arm
	substeps   = 4
	maxSide    = 4096
	maxImpulse = 100.0 // rad/s, bounds Shove so a bad call cannot blow up the state
)

// WorldConfig describes the camera and the simulation rate.
type WorldConfig struct {
	// Width and Height of the rendered frames in pixels; default 320x240.
	// Width must be even (YUYV packs pixel pairs), both within 16..4096.
	Width, Height int
	// Format is frame.YUYV (the default) or frame.RGB24.
	Format frame.PixelFormat
	// DT is the simulated time per frame in seconds; default 1/50 (the demo's
	// tick rate, and the rate the demo model was trained at).
	DT float64
	// Seed picks the initial joint angles (Reset reseeds).
	Seed uint64
}

// Disturbances are the scripted perturbations the demo switches at run time.
// The zero value is "none". A shove is not a state but an event: see Shove.
type Disturbances struct {
	// Occluder draws an opaque patch over part of the view.
	Occluder bool
	// OccluderRect is the patch in pixels; the zero Rect means a default
	// patch over the upper-left part of the arm's workspace.
	OccluderRect frame.Rect
	// Light multiplies the scene's brightness (1 or 0 mean unchanged);
	// values are clamped to [0.1, 3].
	Light float64
}

// World is the arm and its renderer. It is deterministic: the same seed and
// the same action sequence give the same frames, bit for bit. It is not safe
// for concurrent use. Step and Render allocate nothing.
type World struct {
	conf WorldConfig
	// q, qd: joint angles and velocities; action: the last applied action.
	q, qd  [2]float64
	action [ActionDim]float32
	dist   Disturbances
	rng    rng

	bg     []byte // the static room, RGB24
	bgYUYV []byte // the static room, YUYV
	rgb    []byte // frame being composed, RGB24
	// dirty is the box of rgb that differs from bg in the frame being
	// composed; only it needs converting to YUYV.
	dx0, dy0, dx1, dy1 int
	yLUT, cLUT         [256]byte // light gain applied in YUV space
	lutGain            int
	// geometry in pixels
	baseX, baseY, l1, l2, r1, r2 float64
}

// Errors returned by the world; match with errors.Is.
var (
	ErrConfig = errors.New("invalid sim config")
	ErrAction = errors.New("invalid action")
	ErrBuffer = errors.New("buffer too small")
)

// NewWorld validates conf, draws the room and resets the arm.
func NewWorld(conf WorldConfig) (*World, error) {
	if conf.Width == 0 && conf.Height == 0 {
		conf.Width, conf.Height = 320, 240
	}
	if conf.Format == frame.FormatInvalid {
		conf.Format = frame.YUYV
	}
	if conf.DT == 0 {
		conf.DT = 1.0 / 50
	}
	switch {
	case conf.Width < 16 || conf.Height < 16 || conf.Width > maxSide || conf.Height > maxSide:
		return nil, fmt.Errorf("%w: Width x Height = %dx%d, want 16..%d each", ErrConfig, conf.Width, conf.Height, maxSide)
	case conf.Width%2 != 0:
		return nil, fmt.Errorf("%w: Width %d must be even", ErrConfig, conf.Width)
	case conf.Format != frame.YUYV && conf.Format != frame.RGB24:
		return nil, fmt.Errorf("%w: Format %v, want YUYV or RGB24", ErrConfig, conf.Format)
	case !(conf.DT > 0 && conf.DT <= 1):
		return nil, fmt.Errorf("%w: DT %v s, want (0, 1]", ErrConfig, conf.DT)
	}
	w := &World{conf: conf}
	n := conf.Width * conf.Height * 3
	w.bg, w.rgb = make([]byte, n), make([]byte, n)
	h := float64(conf.Height)
	w.baseX, w.baseY = float64(conf.Width)/2, 0.86*h
	w.l1, w.l2 = linkLen1*h, linkLen2*h
	w.r1, w.r2 = 0.045*h, 0.035*h
	w.drawRoom()
	w.bgYUYV = make([]byte, conf.Width*conf.Height*2)
	rgbToYUYV(w.bgYUYV, w.bg, 256)
	w.Reset(conf.Seed)
	return w, nil
}

// Config returns the configuration with defaults filled in.
func (w *World) Config() WorldConfig { return w.conf }

// FrameLen is the number of bytes Render writes.
func (w *World) FrameLen() int { return w.conf.Width * w.conf.Height * w.conf.Format.BytesPerPixel() }

// Reset puts the arm at rest in a random pose drawn from seed and clears the
// action (disturbances are kept: they belong to the script, not the episode).
func (w *World) Reset(seed uint64) {
	w.rng = newRNG(seed)
	w.q[0] = (2*w.rng.float() - 1) * 0.8 * q1Limit
	w.q[1] = (2*w.rng.float() - 1) * 0.8 * q2Limit
	w.qd = [2]float64{}
	w.action = [ActionDim]float32{}
}

// Joints returns the joint angles and velocities (for tests and displays).
func (w *World) Joints() (q, qd [2]float64) { return w.q, w.qd }

// Action returns the action applied by the last Step.
func (w *World) Action() [ActionDim]float32 { return w.action }

// SetDisturbances switches the persistent disturbances.
func (w *World) SetDisturbances(d Disturbances) { w.dist = d }

// Disturbances returns the current persistent disturbances.
func (w *World) Disturbances() Disturbances { return w.dist }

// Shove adds an impulse to the joint velocities (rad/s), as if something hit
// the arm; each component is clamped to ±100 rad/s and NaNs are ignored.
func (w *World) Shove(dq0, dq1 float64) {
	for i, d := range [2]float64{dq0, dq1} {
		if d == d { // not NaN
			w.qd[i] += math.Max(-maxImpulse, math.Min(maxImpulse, d))
		}
	}
}

// Step applies action (len ActionDim; components clipped to [-1, 1], NaN
// rejected) for one frame period. The clipped action is what Action reports,
// as a dataset records the action the robot actually applied.
func (w *World) Step(action []float32) error {
	if len(action) != ActionDim {
		return fmt.Errorf("%w: %d components, want %d", ErrAction, len(action), ActionDim)
	}
	var a [2]float64
	for i, v := range action {
		if v != v {
			return fmt.Errorf("%w: component %d is NaN", ErrAction, i)
		}
		v = max(-1, min(1, v))
		w.action[i] = v
		a[i] = float64(v)
	}
	dt := w.conf.DT / substeps
	limits := [2]float64{q1Limit, q2Limit}
	for range substeps {
		for i := range 2 {
			// Semi-implicit Euler: stable for this damping at any DT ≤ 1 s/4.
			w.qd[i] += (torqueGain*a[i] - damping*w.qd[i]) * dt
			w.q[i] += w.qd[i] * dt
			// Joint limits are inelastic stops.
			if w.q[i] > limits[i] {
				w.q[i], w.qd[i] = limits[i], min(0, w.qd[i])
			} else if w.q[i] < -limits[i] {
				w.q[i], w.qd[i] = -limits[i], max(0, w.qd[i])
			}
		}
	}
	return nil
}

// Render draws the current state into dst in the configured format; dst
// must hold FrameLen bytes.
func (w *World) Render(dst []byte) error {
	if len(dst) < w.FrameLen() {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBuffer, len(dst), w.FrameLen())
	}
	copy(w.rgb, w.bg)
	w.dx0, w.dy0, w.dx1, w.dy1 = w.conf.Width, w.conf.Height, 0, 0
	w.drawArm()
	if w.dist.Occluder {
		w.drawOccluder()
	}
	gain := 256
	if l := w.dist.Light; l != 0 && l != 1 {
		gain = int(math.Round(256 * max(0.1, min(3, l))))
	}
	if w.conf.Format == frame.RGB24 {
		if gain == 256 {
			copy(dst, w.rgb)
		} else {
			for i, v := range w.rgb {
				dst[i] = clamp8((int(v)*gain + 128) >> 8)
			}
		}
		return nil
	}
	// YUYV: the cached room, then only the changed box converted.
	copy(dst, w.bgYUYV)
	if w.dx1 > w.dx0 && w.dy1 > w.dy0 {
		W := w.conf.Width
		x0, x1 := w.dx0&^1, min(W, (w.dx1+1)&^1)
		for y := w.dy0; y < w.dy1; y++ {
			rgbToYUYV(dst[2*(y*W+x0):2*(y*W+x1)], w.rgb[3*(y*W+x0):3*(y*W+x1)], 256)
		}
	}
	if gain != 256 {
		w.applyGainYUYV(dst[:w.FrameLen()], gain)
	}
	return nil
}

// applyGainYUYV scales brightness in YUV space (luma above black and chroma
// around grey scale together), which equals scaling RGB except where RGB
// would clip.
func (w *World) applyGainYUYV(b []byte, gain int) {
	if w.lutGain != gain {
		for i := range 256 {
			w.yLUT[i] = clamp8(16 + ((i-16)*gain+128)>>8)
			w.cLUT[i] = clamp8(128 + ((i-128)*gain+128)>>8)
		}
		w.lutGain = gain
	}
	for i := 0; i+1 < len(b); i += 2 {
		b[i], b[i+1] = w.yLUT[b[i]], w.cLUT[b[i+1]]
	}
}

// markDirty grows the changed box by [x0,x1)x[y0,y1) (already clipped).
func (w *World) markDirty(x0, y0, x1, y1 int) {
	w.dx0, w.dy0 = min(w.dx0, x0), min(w.dy0, y0)
	w.dx1, w.dy1 = max(w.dx1, x1), max(w.dy1, y1)
}

// Points returns the image positions of the shoulder, elbow and hand.
func (w *World) Points() (sx, sy, ex, ey, hx, hy float64) {
	a1 := w.q[0]
	a2 := a1 + w.q[1]
	sx, sy = w.baseX, w.baseY
	ex, ey = sx+w.l1*math.Sin(a1), sy-w.l1*math.Cos(a1)
	hx, hy = ex+w.l2*math.Sin(a2), ey-w.l2*math.Cos(a2)
	return
}

func clamp8(v int) byte {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}

// rgbToYUYV converts packed RGB24 to YUYV (BT.601 limited range, the inverse
// of what runtime/frame decodes), scaling RGB by gain/256 first. Chroma is
// the mean of each pixel pair.
func rgbToYUYV(dst, rgb []byte, gain int) {
	n := len(rgb) / 6
	for p := range n {
		s := rgb[p*6 : p*6+6 : p*6+6]
		r0, g0, b0 := int(s[0]), int(s[1]), int(s[2])
		r1, g1, b1 := int(s[3]), int(s[4]), int(s[5])
		if gain != 256 {
			r0, g0, b0 = min(255, (r0*gain+128)>>8), min(255, (g0*gain+128)>>8), min(255, (b0*gain+128)>>8)
			r1, g1, b1 = min(255, (r1*gain+128)>>8), min(255, (g1*gain+128)>>8), min(255, (b1*gain+128)>>8)
		}
		y0 := (66*r0+129*g0+25*b0+128)>>8 + 16
		y1 := (66*r1+129*g1+25*b1+128)>>8 + 16
		r, g, b := r0+r1, g0+g1, b0+b1 // pair sums: chroma of the mean
		u := (-38*r-74*g+112*b+256)>>9 + 128
		v := (112*r-94*g-18*b+256)>>9 + 128
		d := dst[p*4 : p*4+4 : p*4+4]
		d[0], d[1], d[2], d[3] = byte(y0), byte(u), byte(y1), byte(v)
	}
}

// rng is a small deterministic generator (splitmix64), so that episodes do
// not depend on math/rand's algorithm choices across Go versions.
type rng struct{ s uint64 }

func newRNG(seed uint64) rng { return rng{seed ^ 0x9e3779b97f4a7c15} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// norm returns a standard normal value (Box-Muller, one of the pair).
func (r *rng) norm() float64 {
	u := r.float()
	for u == 0 {
		u = r.float()
	}
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}
