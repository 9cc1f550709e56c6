// Package msg holds the ROS 2 message types rssmd publishes, subscribes and serves — from
// builtin_interfaces, std_msgs, sensor_msgs, diagnostic_msgs, std_srvs, rmw_dds_common and
// rssmd's own rssmd_msgs — with their CDR form (Marshal to a cdr.Encoder, Unmarshal from a
// cdr.Decoder) and their names: the ROS name ("std_msgs/msg/Float32MultiArray"), the DDS type
// name ("std_msgs::msg::dds_::Float32MultiArray_") and the REP-2011 type hash (RIHS01), which
// is computed here from type descriptions (Registry) exactly as rosidl computes it.
//
// Unmarshal reuses the destination's slices and strings, growing them only when a message
// is larger than any before and never beyond what the payload holds, so a subscriber that
// decodes every frame into the same value allocates nothing once warm.
package msg
