package cli

import "errors"

// runDevices is not written yet (issue #4).
func runDevices(env *Env) error { return errors.New("not implemented yet (issue #4)") }
