package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rssmd/rssmd/model"
)

// loadedModel is a model opened for stepping, float32 or int8.
type loadedModel struct {
	Arch    *model.Arch
	Stepper model.Stepper
	Kind    string       // "float32" or "int8"
	Float   *model.Model // the float32 model when there is one
}

// errNoInt8 is returned until an int8 path is wired for a given model kind.
var errNoInt8 = errors.New("int8 path not available for this model")

// openModel opens PATH (original folder, float32 bundle, or int8 bundle). wantInt8 asks for
// the int8 path; an int8 bundle always gives it.
func openModel(path string, wantInt8 bool) (*loadedModel, error) {
	if lm, ok, err := openInt8(path, wantInt8); ok || err != nil {
		return lm, err
	}
	if wantInt8 {
		return nil, fmt.Errorf("%w: %s (calibrate it first: rssmd calibrate --model %s --data ... --out model.int8.rssm)", errNoInt8, path, path)
	}
	m, err := model.Load(path)
	if err != nil {
		return nil, err
	}
	return &loadedModel{Arch: m.Arch, Stepper: m.NewRunner(), Kind: "float32", Float: m}, nil
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// modelFiles returns config.yaml and the checkpoint of an original folder argument.
func modelFiles(path string) (cfg, pt string, err error) {
	cfg, pt, err = model.FindModelFiles(path)
	if err != nil {
		return "", "", err
	}
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() && filepath.Ext(path) == ".pt" {
		pt = path
	}
	return cfg, pt, nil
}
