// Package rssmd_msgs is the ROS 2 interface package of rssmd, for colcon: package.xml,
// CMakeLists.txt (rosidl_generate_interfaces), msg/LatentState.msg, msg/Quality.msg,
// msg/Reward.msg and srv/Imagine.srv. Clients that want typed rssmd messages in C++ or Python
// put this folder in their workspace and build it; rssmd itself needs nothing built, its Go
// types live in nodes/ros2/msg and a test here keeps them equal to these files (field names,
// types, order, and so the type hashes).
//
//nolint:revive // the underscore matches the ROS package name.
package rssmd_msgs

import "embed"

// Definitions holds the .msg and .srv files.
//
//go:embed msg/*.msg srv/*.srv
var Definitions embed.FS
