package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"

	"github.com/rssmd/rssmd/model"
)

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
