package model

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Load reads a float32 model from an original AIME-NoB pretrained-model folder
// (config.yaml + model.pt; a path to a .pt file inside such a folder selects that checkpoint,
// e.g. model-e100.pt) or from a float32 rssmd bundle file.
func Load(path string) (*Model, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if !fi.IsDir() && IsBundleFile(path) {
		return LoadBundleFile(path)
	}
	return LoadFolder(path)
}

// LoadFolder reads an original pretrained-model folder (or a .pt file inside one).
func LoadFolder(path string) (*Model, error) {
	cfgPath, ptPath, err := FindModelFiles(path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() && strings.HasSuffix(path, ".pt") {
		ptPath = path
	}
	cfg, err := LoadConfigFile(cfgPath)
	if err != nil {
		return nil, err
	}
	h, err := HintsFromConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	ts, err := LoadCheckpointFile(ptPath)
	if err != nil {
		return nil, err
	}
	m, err := New(ts, h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Dir(ptPath), err)
	}
	return m, nil
}

// HintsFromConfig extracts the architecture choices the checkpoint cannot tell (spec §1.7).
func HintsFromConfig(c *Config) (Hints, error) {
	wm := &c.WorldModel
	if wm.Name != "" && wm.Name != "rssmo" {
		return Hints{}, fmt.Errorf("%w: world_model.name is %q; only rssmo models are supported", ErrArch, wm.Name)
	}
	if wm.PredictEmb {
		return Hints{}, fmt.Errorf("%w: world_model.predict_emb is true; no published model uses it", ErrArch)
	}
	if wm.Norm != "" && wm.Norm != "ln" {
		return Hints{}, fmt.Errorf("%w: world_model.norm is %q; only ln is supported", ErrArch, wm.Norm)
	}
	h := Hints{
		StateDim:          wm.StateDim,
		StateDistribution: wm.StateDistribution,
		HiddenSize:        wm.HiddenSize,
	}
	switch {
	case wm.MinStdSet && wm.MinStd == nil:
		h.MinStd = nil // null → the global MIN_STD 1e-6
	case wm.MinStd != nil:
		v := *wm.MinStd
		h.MinStd = &v
	default:
		// Absent: every rssmo* config sets 0.1 (spec P8), so that is the safe reading.
		v := 0.1
		h.MinStd = &v
	}
	if v, ok := wm.Encoders["visual"]; ok {
		h.EncoderName, h.EncoderWidth = v.Name, v.Width
	}
	if v, ok := wm.Decoders["visual"]; ok {
		h.DecoderName, h.DecoderWidth, h.DecoderSigmoid = v.Name, v.Width, v.Sigmoid
	}
	if v, ok := wm.Decoders["binary"]; ok {
		h.BinaryActivation = v.HiddenActivation
	}
	if v, ok := wm.Decoders["tabular"]; ok {
		h.TabularActivation = v.HiddenActivation
	}
	af := c.ActionFree
	h.ActionFree = &af
	return h, nil
}
