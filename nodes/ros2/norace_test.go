//go:build !race

package ros2

const raceEnabled = false
