package tick

// NewYUYVSource is newYUYVSource for the external benchmarks (package tick_test), which may
// import the monitor (it imports tick).
func NewYUYVSource() Source { return newYUYVSource() }
