package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/pipeline"
)

// loadedModel is a model opened for stepping, float32 or int8.
type loadedModel struct {
	Arch    *model.Arch
	Stepper model.Stepper
	Kind    string       // "float32" or "int8"
	Float   *model.Model // the float32 model when there is one
}

// openModel opens PATH (original folder, float32 bundle, or int8 bundle). wantInt8 asks for
// the int8 path; an int8 bundle always gives it.
func openModel(path string, wantInt8 bool) (*loadedModel, error) {
	om, err := pipeline.OpenModel(path, wantInt8)
	if err != nil {
		return nil, err
	}
	kind := om.Kind
	if om.Kernel != "" {
		kind += " (" + om.Kernel + ")"
	}
	return &loadedModel{Arch: om.Arch, Stepper: om.Stepper, Kind: kind, Float: om.Float}, nil
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
