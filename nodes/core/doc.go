// Package core is what rssmd's ROS 1 and ROS 2 nodes share, whatever the wire: the snapshot
// of a tick that every output is built from (copied once per tick on the control thread by
// the Hub, handed to each node's publishing goroutine without another copy), the decoded
// prediction and reconstruction images, the ~imagine rollout, and the content of
// /diagnostics. nodes/ros and nodes/ros2 only turn these into their messages.
package core
