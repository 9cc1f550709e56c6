// Package ros2 is rssmd's ROS 2 node: the same outputs, inputs and services as the ROS 1 node
// (nodes/ros), fed by the same per-tick snapshot (nodes/core), on a pure-Go DDSI-RTPS
// participant (rtps/) with CDR messages (cdr/, msg/) and ROS 2's names and command line
// (names/). No ROS 2 installation is needed on the robot: rssmd is one static binary that
// Fast DDS and Cyclone DDS based ROS 2 systems (Humble, Jazzy) see as a node. README.md says
// how to use it and what is not supported.
package ros2
