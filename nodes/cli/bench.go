package cli

import "errors"

// runBench is not written yet (issue #3).
func runBench(env *Env) error { return errors.New("not implemented yet (issue #3)") }
