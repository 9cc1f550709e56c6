package msg

// Registry holds the type description of every type this package knows, by full ROS name,
// as rosidl derives it from the .msg and .srv files (ros2/rcl_interfaces,
// ros2/common_interfaces, ros2/rmw_dds_common, and rssmd_msgs in nodes/ros2/rssmd_msgs).
// Constants are not part of a description. The rmw_dds_common Gid is the one of Iron and
// later (uint8[16]); Humble's (uint8[24]) predates type hashes.
//
// It is built during variable initialisation (not in an init function) so that the TypeInfo
// variables, which hash from it, see it complete.
var Registry = buildRegistry()

const (
	nameTime        = "builtin_interfaces/msg/Time"
	nameHeader      = "std_msgs/msg/Header"
	nameDim         = "std_msgs/msg/MultiArrayDimension"
	nameLayout      = "std_msgs/msg/MultiArrayLayout"
	nameF32Array    = "std_msgs/msg/Float32MultiArray"
	nameImage       = "sensor_msgs/msg/Image"
	nameCompressed  = "sensor_msgs/msg/CompressedImage"
	nameKeyValue    = "diagnostic_msgs/msg/KeyValue"
	nameDiagStatus  = "diagnostic_msgs/msg/DiagnosticStatus"
	nameDiagArray   = "diagnostic_msgs/msg/DiagnosticArray"
	nameTrigger     = "std_srvs/srv/Trigger"
	nameEventInfo   = "service_msgs/msg/ServiceEventInfo"
	nameGid         = "rmw_dds_common/msg/Gid"
	nameNodeInfo    = "rmw_dds_common/msg/NodeEntitiesInfo"
	nameParticipant = "rmw_dds_common/msg/ParticipantEntitiesInfo"
	nameLatent      = "rssmd_msgs/msg/LatentState"
	nameQuality     = "rssmd_msgs/msg/Quality"
	nameReward      = "rssmd_msgs/msg/Reward"
	nameImagine     = "rssmd_msgs/srv/Imagine"
)

func buildRegistry() map[string]TypeDescription {
	r := map[string]TypeDescription{}
	register := func(ts ...TypeDescription) {
		for _, t := range ts {
			r[t.Name] = t
		}
	}
	register(
		TypeDescription{nameTime, []Field{prim("sec", TypeInt32), prim("nanosec", TypeUint32)}},
		TypeDescription{nameHeader, []Field{nested("stamp", nameTime), prim("frame_id", TypeString)}},
		TypeDescription{nameDim, []Field{prim("label", TypeString), prim("size", TypeUint32), prim("stride", TypeUint32)}},
		TypeDescription{nameLayout, []Field{nestedSeq("dim", nameDim), prim("data_offset", TypeUint32)}},
		TypeDescription{nameF32Array, []Field{nested("layout", nameLayout), seq("data", TypeFloat)}},
		TypeDescription{nameImage, []Field{
			nested("header", nameHeader), prim("height", TypeUint32), prim("width", TypeUint32),
			prim("encoding", TypeString), prim("is_bigendian", TypeUint8), prim("step", TypeUint32),
			seq("data", TypeUint8),
		}},
		TypeDescription{nameCompressed, []Field{nested("header", nameHeader), prim("format", TypeString), seq("data", TypeUint8)}},
		TypeDescription{nameKeyValue, []Field{prim("key", TypeString), prim("value", TypeString)}},
		TypeDescription{nameDiagStatus, []Field{
			prim("level", TypeByte), prim("name", TypeString), prim("message", TypeString),
			prim("hardware_id", TypeString), nestedSeq("values", nameKeyValue),
		}},
		TypeDescription{nameDiagArray, []Field{nested("header", nameHeader), nestedSeq("status", nameDiagStatus)}},
		// .msg "char" is uint8 in ROS 2 (rosidl_adapter maps it so).
		TypeDescription{nameEventInfo, []Field{
			prim("event_type", TypeUint8), nested("stamp", nameTime), array("client_gid", TypeUint8, 16),
			prim("sequence_number", TypeInt64),
		}},
		TypeDescription{nameGid, []Field{array("data", TypeUint8, GidSizeIron)}},
		TypeDescription{nameNodeInfo, []Field{
			boundedString("node_namespace", 256), boundedString("node_name", 256),
			nestedSeq("reader_gid_seq", nameGid), nestedSeq("writer_gid_seq", nameGid),
		}},
		TypeDescription{nameParticipant, []Field{nested("gid", nameGid), nestedSeq("node_entities_info_seq", nameNodeInfo)}},
		TypeDescription{nameLatent, []Field{
			nested("header", nameHeader), prim("tick", TypeUint64), prim("seq", TypeUint64),
			seq("deter", TypeFloat), seq("stoch_mean", TypeFloat), seq("stoch_std", TypeFloat),
			seq("prior_mean", TypeFloat), seq("prior_std", TypeFloat),
			prim("kl", TypeFloat), prim("elbo", TypeFloat),
			prim("is_first", TypeBoolean), prim("stale_frame", TypeBoolean),
			prim("stale_action", TypeBoolean), prim("anomaly", TypeBoolean),
		}},
		TypeDescription{nameQuality, []Field{
			nested("header", nameHeader), prim("tick", TypeUint64), prim("decoded", TypeBoolean),
			prim("mse", TypeFloat), prim("psnr", TypeFloat), prim("kl", TypeFloat), prim("elbo", TypeFloat),
			prim("zscore", TypeFloat), prim("zscore_kl", TypeFloat), prim("anomaly", TypeBoolean),
		}},
		TypeDescription{nameReward, []Field{
			nested("header", nameHeader), prim("tick", TypeUint64), prim("reward", TypeFloat),
			prim("elbo", TypeFloat), prim("is_first", TypeBoolean),
		}},
	)
	register(ServiceDescriptions(nameTrigger, nil, []Field{prim("success", TypeBoolean), prim("message", TypeString)})...)
	register(ServiceDescriptions(nameImagine,
		[]Field{prim("horizon", TypeUint32), seq("actions", TypeFloat), prim("images", TypeBoolean)},
		[]Field{
			nested("header", nameHeader), prim("deter_dim", TypeUint32), prim("stoch_dim", TypeUint32),
			seq("deter", TypeFloat), seq("stoch_mean", TypeFloat), seq("stoch_std", TypeFloat),
			nestedSeq("images", nameImage), prim("success", TypeBoolean), prim("message", TypeString),
		})...)
	return r
}
