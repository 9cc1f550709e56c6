package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// `calibrate --int4` writes a bundle whose metadata names the 4-bit Linears, `inspect` says
// so, and on a cnn_ha model (where 4-bit weights were measured outside the accuracy targets)
// it warns.
func TestCalibrateInt4(t *testing.T) {
	q := filepath.Join(t.TempDir(), "m.int4.rssm")
	_, errs, code := runCLI(t, "calibrate", "--model", edgeModel, "--data", edgeSeq, "--out", q, "--int4")
	if code != 0 {
		t.Fatalf("calibrate --int4: exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "--int4 on a non-dreamer_resnet model") {
		t.Errorf("no warning for --int4 on a cnn_ha model; stderr:\n%s", errs)
	}
	out, errs, code := runCLI(t, "inspect", q)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "4-bit weights in memory_cell.input_layer, posterior_net.net.0") {
		t.Errorf("inspect does not name the 4-bit layers:\n%s", out)
	}
	plain := filepath.Join(t.TempDir(), "m.int8.rssm")
	if _, errs, code := runCLI(t, "calibrate", "--model", edgeModel, "--data", edgeSeq, "--out", plain); code != 0 {
		t.Fatal(errs)
	}
	if out, _, _ := runCLI(t, "inspect", plain); strings.Contains(out, "4-bit") {
		t.Errorf("inspect of an int8 bundle mentions 4-bit weights:\n%s", out)
	}
}
