package sim

import (
	"fmt"
	"strings"
)

// Kind is a set of disturbance kinds (a bit mask).
type Kind uint8

const (
	// Occlude draws the occluder patch.
	Occlude Kind = 1 << iota
	// Dim halves the light.
	Dim
	// Brighten raises the light by 60%.
	Brighten
	// Shove hits the arm at the event's first frame (and lets it swing out
	// for the event's duration, which counts as disturbed).
	ShoveArm
)

func (k Kind) String() string {
	if k == 0 {
		return "none"
	}
	var parts []string
	for i, n := range []string{"occlude", "dim", "brighten", "shove"} {
		if k&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, "+")
}

// Event is one scripted disturbance: Kind during frames [Start, Start+Frames).
type Event struct {
	Kind   Kind
	Start  uint64
	Frames uint64
}

// Script is a list of disturbance events, applied by a Camera by frame
// number. Events may overlap; their kinds combine.
type Script []Event

// Validate checks that every event has one known kind and a duration.
func (s Script) Validate() error {
	for i, e := range s {
		if e.Kind == 0 || e.Kind&(e.Kind-1) != 0 || e.Kind > ShoveArm {
			return fmt.Errorf("%w: event %d: kind %#x, want exactly one of occlude, dim, brighten, shove", ErrConfig, i, uint8(e.Kind))
		}
		if e.Frames == 0 || e.Frames > 1<<40 || e.Start > 1<<40 {
			return fmt.Errorf("%w: event %d: start %d, %d frames", ErrConfig, i, e.Start, e.Frames)
		}
	}
	return nil
}

// Active returns the kinds disturbing frame n.
func (s Script) Active(n uint64) Kind {
	var k Kind
	for _, e := range s {
		if n >= e.Start && n-e.Start < e.Frames {
			k |= e.Kind
		}
	}
	return k
}

// shoveAt reports whether a shove event starts at frame n.
func (s Script) shoveAt(n uint64) bool {
	for _, e := range s {
		if e.Kind == ShoveArm && e.Start == n {
			return true
		}
	}
	return false
}

// Periodic returns a script of n events cycling through kinds, the first
// starting at frame first, one every period frames, each lasting frames
// frames: the demo's default "a disturbance now and then".
func Periodic(kinds []Kind, first, period, frames uint64, n int) Script {
	s := make(Script, 0, max(0, n))
	for i := range max(0, n) {
		if len(kinds) == 0 {
			break
		}
		s = append(s, Event{Kind: kinds[i%len(kinds)], Start: first + uint64(i)*period, Frames: frames})
	}
	return s
}

// disturbancesFor turns the active kinds into the world's persistent
// disturbances (shoves are events, handled separately).
func disturbancesFor(k Kind) Disturbances {
	d := Disturbances{Occluder: k&Occlude != 0}
	switch {
	case k&Dim != 0:
		d.Light = 0.5
	case k&Brighten != 0:
		d.Light = 1.6
	}
	return d
}
