//go:build race

package ros2

// raceEnabled: the race detector allocates on its own, so allocation counts are not asserted.
const raceEnabled = true
