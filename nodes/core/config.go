package core

import (
	"fmt"
	"time"

	"github.com/rssmd/rssmd/model"
)

// CheckOutputs validates the settings both nodes share; the nodes wrap the error in their
// own ErrConfig.
func CheckOutputs(arch *model.Arch, m model.Stepper, period time.Duration, maxHorizon int, predict, recon bool) error {
	switch {
	case arch == nil:
		return fmt.Errorf("Arch is nil")
	case period <= 0:
		return fmt.Errorf("Period %v", period)
	case maxHorizon < 0 || maxHorizon > 10000:
		return fmt.Errorf("MaxHorizon %d, want 0..10000", maxHorizon)
	case (predict || recon) && (m == nil || arch.Decoder == ""):
		return fmt.Errorf("Predict/Reconstruction need a Model with an image decoder")
	}
	return nil
}

// OutputDefaults fills the shared settings' zero values: frame_id "camera", ~imagine
// horizon 50, /diagnostics every second.
func OutputDefaults(frameID *string, maxHorizon *int, diagPeriod *time.Duration) {
	if *frameID == "" {
		*frameID = "camera"
	}
	if *maxHorizon == 0 {
		*maxHorizon = 50
	}
	if *diagPeriod <= 0 {
		*diagPeriod = time.Second
	}
}
