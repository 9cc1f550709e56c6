package ros

import "time"

var processStart = time.Now()

// nanotime is a monotonic reading for capture.Frame.Mono.
func nanotime() int64 { return int64(time.Since(processStart)) }
