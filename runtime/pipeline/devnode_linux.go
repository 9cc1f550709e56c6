package pipeline

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// v4l2Major is the character-device major number of video4linux devices on Linux
// (Documentation/admin-guide/devices.txt): /dev/null (1) or a tty is refused before the model
// loads, with no need to open it.
const v4l2Major = 81

func isV4L2Node(fi os.FileInfo) (yes, known bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false, false
	}
	return unix.Major(uint64(st.Rdev)) == v4l2Major, true
}
