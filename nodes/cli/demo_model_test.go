package cli

import (
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model/bundle"
	"github.com/rssmd/rssmd/model/goldentest"
)

// TestShippedDemoBundleMatchesModel: the shipped int8 bundle was calibrated from the shipped
// float model (a retrained model.pt without a regenerated bundle fails here).
func TestShippedDemoBundleMatchesModel(t *testing.T) {
	dir := filepath.Join(goldentest.RepoRoot(t), "models", "demo", "rssmo-arm")
	p, err := bundle.ReadFile(filepath.Join(dir, "rssmo-arm.int8.rssm"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sha256File(filepath.Join(dir, "model.pt"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != bundle.KindInt8 || p.Provenance.ModelSHA256 != sum {
		t.Fatalf("int8 bundle (kind %s) was made from model.pt %s, the folder holds %s: regenerate it (models/demo/README.md)", p.Kind, p.Provenance.ModelSHA256, sum)
	}
}
