package calibration

import (
	"testing"

	"github.com/rssmd/rssmd/model"
)

// TestTrainedInt4Accuracy checks issue 12's accuracy targets with 4-bit weights in the widest
// Linears (Options.Int4) on the trained dreamer_resnet model, calibrated and evaluated as in
// TestTrainedVariantsAccuracy. The cnn_ha models are not held to them: int4probe measured
// rssmo-arm's ELBO error at 0.57–0.96% from the 4-bit weights alone and the discrete model's
// argmax agreement at 98.6% (README).
func TestTrainedInt4Accuracy(t *testing.T) {
	v := trainedVariants[2]
	if v.name != "rssmo-m" {
		t.Fatalf("trainedVariants[2] is %s, want rssmo-m", v.name)
	}
	fm, err := model.Load(v.dir)
	if err != nil {
		t.Fatal(err)
	}
	calib := forArch(readSeqs(t, trainedCalibEpisode)[0], fm.Arch)
	eval := forArch(readSeqs(t, trainedEvalEpisode)[0], fm.Arch)
	qm, err := Calibrate(fm, []*model.Sequence{calib}, Options{Method: DefaultMethod, Int4: true})
	if err != nil {
		t.Fatal(err)
	}
	if qm.Meta["int4_layers"] == "" {
		t.Fatal("Options.Int4 left no int4_layers in the bundle metadata")
	}
	r, err := Compare(v.name+" int4", fm.NewRunner(), qm.NewRunner(nil), eval, trainedCompare)
	if err != nil {
		t.Fatal(err)
	}
	logTrained(t, v.name+" int4", fm.Arch, r)
	for _, m := range missedTargets(r, fm.Arch, 0.01) {
		t.Error(m)
	}
}
