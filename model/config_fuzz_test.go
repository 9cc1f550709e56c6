package model

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseConfig(f *testing.F) {
	// The shared real config is the main seed; the fuzz target still runs without it.
	if td, ok := findSharedTestdata(); ok {
		if b, err := os.ReadFile(filepath.Join(td, "models", "walker-wm-synthetic", "config.yaml")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(minimalConfig))
	f.Add([]byte(minimalConfig + "  min_std: null\n  state_distribution: discrete\n"))
	f.Add([]byte("a: &x [1, 2]\nworld_model:\n  name: rssmo\n  state_dim: *x\nenv:\n  sensors:\n    image: {modility: visual, order: first, type: external}\n"))
	f.Add([]byte("world_model:\n  name: rssmo\n  state_dim: [512, 30]\n  decoders:\n    visual: {name: cnn_ha, width: 32, sigmoid: false}\n"))
	f.Add([]byte("world_model:\n  name: 0\n  state_dim:")) // once accepted as an empty state_dim
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error does not wrap ErrInvalidConfig: %v", err)
			}
			return
		}
		wm := c.WorldModel
		if wm.Name == "" {
			t.Fatal("accepted a config without world_model.name")
		}
		switch {
		case wm.StateDistribution == "continuous" && len(wm.StateDim) == 2:
		case wm.StateDistribution == "discrete" && len(wm.StateDim) == 3:
		default:
			t.Fatalf("accepted state_dim %v with distribution %q", wm.StateDim, wm.StateDistribution)
		}
		for _, d := range append(append([]int{}, wm.StateDim...), c.Env.Size...) {
			if d < 0 || d > maxConfigDim {
				t.Fatalf("accepted dimension %d", d)
			}
		}
		if wm.MinStd != nil && (!wm.MinStdSet || *wm.MinStd < 0) {
			t.Fatalf("min_std %v set %v", *wm.MinStd, wm.MinStdSet)
		}
	})
}
