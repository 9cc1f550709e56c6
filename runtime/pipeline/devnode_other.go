//go:build !linux

package pipeline

import "os"

// isV4L2Node cannot tell off Linux; opening the device will.
func isV4L2Node(os.FileInfo) (yes, known bool) { return false, false }
