package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
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
	if !fi.IsDir() && !strings.HasSuffix(path, ".pt") && filepath.Base(path) != "config.yaml" {
		return nil, fmt.Errorf("%s is %s: %w", path, describeFile(path, fi), ErrNotModel)
	}
	return LoadFolder(path)
}

// ErrNotModel is returned for a file that is neither a bundle nor a checkpoint.
var ErrNotModel = errors.New("not a model file (want a model folder with config.yaml + model.pt, a .pt checkpoint inside one, or an .rssm bundle)")

// describeFile says what a file that is not a model looks like, so the user can tell which
// file they passed by mistake.
func describeFile(path string, fi os.FileInfo) string {
	if !fi.Mode().IsRegular() {
		return "not a regular file (" + fi.Mode().Type().String() + ")"
	}
	if fi.Size() == 0 {
		return "an empty file"
	}
	f, err := os.Open(path)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if n == len(head) && n > 0 {
		// The 256 bytes may end inside a UTF-8 sequence of a text file.
		for k := 0; k < utf8.UTFMax-1 && !utf8.Valid(head) && len(head) > 0; k++ {
			head = head[:len(head)-1]
		}
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return fmt.Sprintf("a zip archive of %d bytes (an .npz sequence? a checkpoint must end in .pt)", fi.Size())
	case utf8.Valid(head) && !bytes.ContainsRune(head, 0):
		line, _, _ := strings.Cut(string(head), "\n")
		if r := []rune(line); len(r) > 60 {
			line = string(r[:60]) + "…"
		}
		return fmt.Sprintf("a text file of %d bytes starting %q", fi.Size(), line)
	}
	return fmt.Sprintf("a binary file of %d bytes starting % x", fi.Size(), head[:min(8, len(head))])
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
