//go:build !linux

package tick

import "errors"

func setFIFO(prio int) error { return errors.New("SCHED_FIFO is only supported on Linux") }
