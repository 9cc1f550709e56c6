package sim

import (
	"math"

	"github.com/rssmd/rssmd/runtime/frame"
)

// The room is drawn once: a brick wall with a window and a shelf, a
// checkered floor, and the arm's pedestal. Its features are a few pixels
// wide at 64x64 after the preprocessor's 3.75x downscale, so the model sees
// texture, not aliasing.
func (w *World) drawRoom() {
	W, H := w.conf.Width, w.conf.Height
	fh := float64(H)
	horizon := int(0.62 * fh)
	brickH := max(2, H/16)
	brickW := max(4, H/8)
	mortar := max(1, H/120)
	for y := range H {
		row := w.bg[y*W*3 : (y+1)*W*3]
		for x := range W {
			var r, g, b int
			if y < horizon {
				// Wall: bricks in offset rows, a vertical light gradient.
				br := y / brickH
				off := 0
				if br%2 == 1 {
					off = brickW / 2
				}
				bx := (x + off) / brickW
				shade := 20 * ((bx*7 + br*3) % 4) / 3 // per-brick tone
				r, g, b = 178+shade, 120+shade/2, 96
				if y%brickH < mortar || (x+off)%brickW < mortar {
					r, g, b = 205, 200, 188
				}
				k := 230 - 50*y/horizon
				r, g, b = r*k>>8, g*k>>8, b*k>>8
			} else {
				// Floor: a checkerboard that gets darker towards the camera.
				c := ((x/(H/6))+(y-horizon)/(H/12))%2 == 0
				if c {
					r, g, b = 150, 150, 160
				} else {
					r, g, b = 90, 95, 110
				}
				k := 256 - 60*(y-horizon)/(H-horizon)
				r, g, b = r*k>>8, g*k>>8, b*k>>8
			}
			row[3*x], row[3*x+1], row[3*x+2] = clamp8(r), clamp8(g), clamp8(b)
		}
	}
	// A window on the left of the centre square and a shelf on the right.
	cx := float64(W) / 2
	w.fillRect(int(cx-0.45*fh), int(0.08*fh), int(0.22*fh), int(0.2*fh), 60, 60, 70)
	w.fillRect(int(cx-0.44*fh), int(0.09*fh), int(0.2*fh), int(0.18*fh), 120, 180, 235)
	w.fillRect(int(cx-0.44*fh), int(0.175*fh), int(0.2*fh), max(1, H/80), 60, 60, 70)
	w.fillRect(int(cx+0.22*fh), int(0.3*fh), int(0.24*fh), max(2, H/40), 100, 70, 40)
	w.fillRect(int(cx+0.25*fh), int(0.22*fh), int(0.05*fh), int(0.08*fh), 40, 110, 60)
	w.fillRect(int(cx+0.34*fh), int(0.25*fh), int(0.08*fh), int(0.05*fh), 200, 200, 60)
	// Pedestal under the shoulder.
	pw := int(0.12 * fh)
	w.fillRect(int(w.baseX)-pw/2, int(w.baseY), pw, H-int(w.baseY), 50, 50, 55)
	w.fillRect(int(w.baseX)-pw/2-2, int(w.baseY), pw+4, max(2, H/60), 30, 30, 35)
}

// fillRect paints a clipped rectangle into the room.
func (w *World) fillRect(x0, y0, rw, rh int, r, g, b byte) {
	W, H := w.conf.Width, w.conf.Height
	for y := max(0, y0); y < min(H, y0+rh); y++ {
		for x := max(0, x0); x < min(W, x0+rw); x++ {
			i := 3 * (y*W + x)
			w.bg[i], w.bg[i+1], w.bg[i+2] = r, g, b
		}
	}
}

func (w *World) drawArm() {
	sx, sy, ex, ey, hx, hy := w.Points()
	w.capsule(sx, sy, ex, ey, w.r1, 235, 125, 45)
	w.capsule(ex, ey, hx, hy, w.r2, 40, 165, 175)
	w.capsule(sx, sy, sx, sy, w.r1*0.75, 70, 70, 80)
	w.capsule(ex, ey, ex, ey, w.r2*0.8, 70, 70, 80)
	w.capsule(hx, hy, hx, hy, w.r2*1.35, 245, 215, 60)
}

// capsule draws the set of points within radius of segment (ax,ay)-(bx,by),
// shaded like a lit cylinder and anti-aliased over one pixel at the edge.
func (w *World) capsule(ax, ay, bx, by, radius float64, r, g, b int) {
	W, H := w.conf.Width, w.conf.Height
	x0 := max(0, int(math.Floor(min(ax, bx)-radius-1)))
	x1 := min(W-1, int(math.Ceil(max(ax, bx)+radius+1)))
	y0 := max(0, int(math.Floor(min(ay, by)-radius-1)))
	y1 := min(H-1, int(math.Ceil(max(ay, by)+radius+1)))
	w.markDirty(x0, y0, x1+1, y1+1)
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	inv := 0.0
	if l2 > 0 {
		inv = 1 / l2
	}
	for y := y0; y <= y1; y++ {
		py := float64(y) + 0.5 - ay
		row := w.rgb[y*W*3:]
		for x := x0; x <= x1; x++ {
			px := float64(x) + 0.5 - ax
			t := max(0, min(1, (px*dx+py*dy)*inv))
			qx, qy := px-t*dx, py-t*dy
			d := math.Sqrt(qx*qx + qy*qy)
			cover := radius + 0.5 - d
			if cover <= 0 {
				continue
			}
			// Light from the upper left: brighter where the normal points there.
			u := d / radius
			lit := 1 - 0.45*u*u
			if d > 0 {
				lit += 0.25 * (-qx - qy) / (d * math.Sqrt2) * u
			}
			a := int(256 * min(1, cover))
			i := 3 * x
			for c, v := range [3]int{r, g, b} {
				s := int(float64(v) * lit)
				row[i+c] = clamp8((s*a + int(row[i+c])*(256-a) + 128) >> 8)
			}
		}
	}
}

// occluderRect is the patch drawn when Disturbances.OccluderRect is empty:
// over the upper-left part of the arm's reach.
func (w *World) occluderRect() frame.Rect {
	r := w.dist.OccluderRect
	if r.Empty() {
		h := float64(w.conf.Height)
		r = frame.Rect{X: int(w.baseX - 0.36*h), Y: int(0.22 * h), W: int(0.3 * h), H: int(0.3 * h)}
	}
	return r
}

// drawOccluder paints a magenta and black checkered patch, a colour the room
// and the arm never show.
func (w *World) drawOccluder() {
	r := w.occluderRect()
	W, H := w.conf.Width, w.conf.Height
	sq := max(2, H/30)
	w.markDirty(max(0, r.X), max(0, r.Y), min(W, r.X+r.W), min(H, r.Y+r.H))
	for y := max(0, r.Y); y < min(H, r.Y+r.H); y++ {
		for x := max(0, r.X); x < min(W, r.X+r.W); x++ {
			i := 3 * (y*W + x)
			if ((x-r.X)/sq+(y-r.Y)/sq)%2 == 0 {
				w.rgb[i], w.rgb[i+1], w.rgb[i+2] = 220, 30, 200
			} else {
				w.rgb[i], w.rgb[i+1], w.rgb[i+2] = 20, 20, 20
			}
		}
	}
}
