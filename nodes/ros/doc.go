// Package ros owns the ROS 1 face of rssmd: the ROS environment and command-line conventions
// (ROS_MASTER_URI, ROS_IP/ROS_HOSTNAME, ROS_NAMESPACE, __name:=, __ns:=, remaps, _param:=),
// name resolution, private parameters, and the node itself — publications of the latent
// state, predictions and diagnostics, the action and image subscriptions, the ~reset and
// ~imagine services, sim time, and re-registration after a master restart. goroslib v2 does
// the wire protocol; everything a roscpp/rospy node does on top of it is done here.
//
// # Private parameters
//
// Read once at start-up (LoadParams): _name:=value arguments are written to the parameter
// server first, as roscpp and rospy do, then ~ is read back, so the command line wins over
// the server and the server over the flags and config file of `rssmd run`. A parameter of the
// wrong type stops start-up with an error; an unknown one is logged. Durations are seconds
// (or a Go duration string such as "150ms"). The parameters are the settings of `rssmd run`,
// one table for flags, config keys and parameters (pipeline.Options; README.md "Settings"):
// `~rate`, `~model`, `~source`, `~device`, `~int8`, `~frame_id`, `~predict`, ... with the
// defaults given there.
//
// use_sim_time is read from /use_sim_time at every (re-)registration: under sim time the
// node and the tick loop follow /clock (Node.Clock), so `rosbag play --clock` drives them.
//
// Node.Stats is exported to Prometheus by NewCollector.
package ros
