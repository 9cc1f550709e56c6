// Package ros owns the ROS 1 face of rssmd: the ROS environment and command-line conventions
// (ROS_MASTER_URI, ROS_IP/ROS_HOSTNAME, ROS_NAMESPACE, __name:=, __ns:=, remaps, _param:=),
// name resolution, and the node itself — publications of the latent state, predictions and
// diagnostics, the action and image subscriptions, the ~reset and ~imagine services, sim time,
// and re-registration after a master restart. goroslib v2 does the wire protocol; everything
// a roscpp/rospy node does on top of it is done here.
package ros
