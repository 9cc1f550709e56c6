//go:build linux

package tick

import "golang.org/x/sys/unix"

// setFIFO raises the calling thread (tid 0 = this thread, not the process) to SCHED_FIFO.
func setFIFO(prio int) error {
	return unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: uint32(prio)}, 0)
}
