package cli

import "errors"

// runCalibrate is not written yet (issue #3).
func runCalibrate(env *Env) error { return errors.New("not implemented yet (issue #3)") }
