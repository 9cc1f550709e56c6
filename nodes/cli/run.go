package cli

import "errors"

// runRun is not written yet (issue #4).
func runRun(env *Env) error { return errors.New("not implemented yet (issue #4)") }
