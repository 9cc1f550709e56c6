package msg

import (
	"maps"
	"strings"
	"testing"
)

// Published RIHS01 values and where each comes from. Our hashes are computed from Registry;
// a wrong field type, name, order or JSON detail changes every one of them.
var publishedHashes = []struct {
	name, hash, source string
}{
	{"std_msgs/msg/Float32MultiArray", "RIHS01_0599f6f85b4bfca379873a0b4375a0aca022156bd2d7021275d116ed1fa8bfe0",
		"given in /work/shared/ros2-notes.md (the hash a Jazzy node announces)"},
	{"builtin_interfaces/msg/Time", "RIHS01_b106235e25a4c5ed35098aa0a61a3ee9c9b18d197f398b0e4206cea9acf9c197",
		"Jazzy share/builtin_interfaces/msg/Time.json, quoted by several independent ROS 2 client projects' golden tests (code search)"},
	{"std_msgs/msg/Header", "RIHS01_f49fb3ae2cf070f793645ff749683ac6b06203e41c891e17701b1cb597ce6a01",
		"Jazzy share/std_msgs/msg/Header.json, as above"},
	{"sensor_msgs/msg/Image", "RIHS01_d31d41a9a4c4bc8eae9be757b0beed306564f7526c88ea6a4588fb9582527d47",
		"Jazzy share/sensor_msgs/msg/Image.json, quoted by two client projects' interop tests (code search)"},
	{"sensor_msgs/msg/CompressedImage", "RIHS01_15640771531571185e2efc8a100baf923961a4d15d5569652e6cb6691e8e371a",
		"Jazzy share/sensor_msgs/msg/CompressedImage.json, quoted by a client project's interop test"},
	{"std_msgs/msg/MultiArrayLayout", "RIHS01_4c66e6f78e740ac103a94cf63259f968e48c617e7699e829b63c21a5cb50dac6",
		"a client project's table of Jazzy hashes (code search)"},
	{"std_msgs/msg/MultiArrayDimension", "RIHS01_5e773a60a4c7fc8a54985f307c7837aa2994252a126c301957a24e31282c9cbe",
		"a client project's table of Jazzy hashes (code search)"},
	{"rmw_dds_common/msg/ParticipantEntitiesInfo", "RIHS01_91a0593bacdcc50ea9bdcf849a938b128412cc1ea821245c663bcd26f83c295e",
		"ZettaScale's zenoh ROS 2 DDS bridge, ros_discovery.rs ROS_DISCOVERY_INFO_TYPE_HASH (\"Iron and Jazzy\"), also a C rmw's graph writer (code search)"},
	{"std_srvs/srv/Trigger", "RIHS01_eeff2cd6fa5ad9d27cdf4dec64818317839b62f212a91e6b5304b634b2062c5f",
		"several client projects' tables of Jazzy service hashes (code search)"},
	{"std_srvs/srv/Trigger_Request", "RIHS01_d010825374ce8918e72bfd826c82603e60f45419e932ea976f807b74a863a199",
		"two client projects' tests (code search)"},
	{"std_srvs/srv/Trigger_Response", "RIHS01_2d946c21e2fc3f1e9ca6986a8191d85fcc70097a8bb7771a053564bc47009cdf",
		"a client project's test (code search)"},
	{"std_srvs/srv/Trigger_Event", "RIHS01_ec4a1d26b0575e61906890342aba9523a2360e9845857c5590fa6e23bc39e1c2",
		"a client project's test (code search)"},
	// The rest come from ROS 2's own repositories.
	{"type_description_interfaces/msg/FieldType", "RIHS01_a70b6dd919645a03a3586f7f821defbc886ea3e531a1d95cc0f380a3973ccaa6",
		"ros2/rosidl rosidl_runtime_c/src/type_description/field_type__description.c (generated)"},
	{"type_description_interfaces/msg/Field", "RIHS01_c0b01379cd4226281285ccaf6be46653968f855f7c5e41614ff5d7a854efef7c",
		"ros2/rosidl rosidl_runtime_c/src/type_description/field__description.c"},
	{"type_description_interfaces/msg/IndividualTypeDescription", "RIHS01_55c827d86c3c141bdd318fe6c22e11190e4d3b37c8f4f9751a084aa05ce96560",
		"ros2/rosidl rosidl_runtime_c/src/type_description/individual_type_description__description.c"},
	{"type_description_interfaces/msg/TypeDescription", "RIHS01_739f2508c9fa3a6f330913ff5b9d25fb74159a077da71e1087f51a60c12a080b",
		"ros2/rosidl rosidl_runtime_c/src/type_description/type_description__description.c"},
	{"type_description_interfaces/msg/KeyValue", "RIHS01_274fe56bf14f33c7512e34c646a37579ee36779f745f049a9760763e817f0c42",
		"ros2/rosidl rosidl_runtime_c/src/type_description/key_value__description.c"},
	{"type_description_interfaces/msg/TypeSource", "RIHS01_faeaec7596c04ecf5b6e99ad225e4c7cbb997ad5435f793526fb3984d011aae5",
		"ros2/rosidl rosidl_runtime_c/src/type_description/type_source__description.c"},
	{"rcl_interfaces/msg/Log", "RIHS01_e28ce254ca8abc06abf92773b74602cdbf116ed34fbaf294fb9f81da9f318eac",
		"ros2/rosbag2 rosbag2_cpp/test/rosbag2_cpp/bags/topics_and_services.mcap metadata (/rosout)"},
	{"example_interfaces/srv/AddTwoInts_Event", "RIHS01_32c1d140259c71e5c355115942bcb31df98b4330e4d906b1b75ccb1c9b3ce6c8",
		"ros2/rosbag2 rosbag2_tests/resources/mcap/bag_with_topics_and_service_events (service event topic)"},
}

// testRegistry is Registry plus the types the published values above need.
func testRegistry() map[string]TypeDescription {
	r := maps.Clone(Registry)
	add := func(ts ...TypeDescription) {
		for _, t := range ts {
			r[t.Name] = t
		}
	}
	const tdi = "type_description_interfaces/msg/"
	add(
		TypeDescription{tdi + "FieldType", []Field{prim("type_id", TypeUint8), prim("capacity", TypeUint64),
			prim("string_capacity", TypeUint64), boundedString("nested_type_name", 255)}},
		TypeDescription{tdi + "Field", []Field{prim("name", TypeString), nested("type", tdi+"FieldType"),
			prim("default_value", TypeString)}},
		TypeDescription{tdi + "IndividualTypeDescription", []Field{boundedString("type_name", 255),
			nestedSeq("fields", tdi+"Field")}},
		TypeDescription{tdi + "TypeDescription", []Field{nested("type_description", tdi+"IndividualTypeDescription"),
			nestedSeq("referenced_type_descriptions", tdi+"IndividualTypeDescription")}},
		TypeDescription{tdi + "KeyValue", []Field{prim("key", TypeString), prim("value", TypeString)}},
		TypeDescription{tdi + "TypeSource", []Field{prim("type_name", TypeString), prim("encoding", TypeString),
			prim("raw_file_contents", TypeString)}},
		TypeDescription{"rcl_interfaces/msg/Log", []Field{nested("stamp", nameTime), prim("level", TypeUint8),
			prim("name", TypeString), prim("msg", TypeString), prim("file", TypeString),
			prim("function", TypeString), prim("line", TypeUint32)}},
	)
	add(ServiceDescriptions("example_interfaces/srv/AddTwoInts",
		[]Field{prim("a", TypeInt64), prim("b", TypeInt64)}, []Field{prim("sum", TypeInt64)})...)
	return r
}

func TestPublishedHashes(t *testing.T) {
	r := testRegistry()
	for _, p := range publishedHashes {
		got, err := TypeHash(p.name, r)
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
			continue
		}
		if got != p.hash {
			t.Errorf("%s:\n got  %s\n want %s (%s)", p.name, got, p.hash, p.source)
		}
	}
}

func TestTypeInfos(t *testing.T) {
	all := []Message{
		&Time{}, &Header{}, &MultiArrayDimension{}, &MultiArrayLayout{}, &Float32MultiArray{},
		&Image{}, &CompressedImage{}, &KeyValue{}, &DiagnosticStatus{}, &DiagnosticArray{},
		&TriggerRequest{}, &TriggerResponse{}, &NodeEntitiesInfo{}, &ParticipantEntitiesInfo{},
		&LatentState{}, &Quality{}, &Reward{}, &ImagineRequest{}, &ImagineResponse{},
	}
	for _, m := range all {
		ti := m.Type()
		if len(ti.Hash) != len("RIHS01_")+64 || !strings.HasPrefix(ti.Hash, "RIHS01_") {
			t.Errorf("%s: hash %q", ti.ROSName, ti.Hash)
		}
		if _, ok := Registry[ti.ROSName]; !ok {
			t.Errorf("%s not in Registry", ti.ROSName)
		}
	}
	for _, ti := range []*TypeInfo{TriggerService, ImagineService, infoGid} {
		if len(ti.Hash) != 71 {
			t.Errorf("%s: hash %q", ti.ROSName, ti.Hash)
		}
	}
	names := map[*TypeInfo]string{
		(&Float32MultiArray{}).Type():       "std_msgs::msg::dds_::Float32MultiArray_",
		(&Image{}).Type():                   "sensor_msgs::msg::dds_::Image_",
		(&TriggerRequest{}).Type():          "std_srvs::srv::dds_::Trigger_Request_",
		(&TriggerResponse{}).Type():         "std_srvs::srv::dds_::Trigger_Response_",
		(&ParticipantEntitiesInfo{}).Type(): "rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_",
		(&ImagineResponse{}).Type():         "rssmd_msgs::srv::dds_::Imagine_Response_",
		(&Reward{}).Type():                  "rssmd_msgs::msg::dds_::Reward_",
	}
	for ti, want := range names {
		if ti.DDSName != want {
			t.Errorf("%s: DDS name %q, want %q", ti.ROSName, ti.DDSName, want)
		}
	}
}

func TestTypeDescriptionJSON(t *testing.T) {
	// The exact text for a small type, written from the rules: Time has no references.
	got, err := TypeDescriptionJSON(nameTime, Registry)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type_description": {"type_name": "builtin_interfaces/msg/Time", "fields": [` +
		`{"name": "sec", "type": {"type_id": 6, "capacity": 0, "string_capacity": 0, "nested_type_name": ""}}, ` +
		`{"name": "nanosec", "type": {"type_id": 7, "capacity": 0, "string_capacity": 0, "nested_type_name": ""}}]}, ` +
		`"referenced_type_descriptions": []}`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// References are listed once each, sorted by name, however deep.
	got, err = TypeDescriptionJSON(nameDiagArray, Registry)
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	iH, iKV, iS, iT := strings.Index(s, `"type_name": "std_msgs/msg/Header"`),
		strings.Index(s, `"type_name": "diagnostic_msgs/msg/KeyValue"`),
		strings.Index(s, `"type_name": "diagnostic_msgs/msg/DiagnosticStatus"`),
		strings.Index(s, `"type_name": "builtin_interfaces/msg/Time"`)
	if !(iT < iS && iS < iKV && iKV < iH) || strings.Count(s, `"type_name"`) != 5 {
		t.Fatalf("references not sorted or not unique: %s", s)
	}
}

func TestTypeHashUnknown(t *testing.T) {
	r := map[string]TypeDescription{"a/msg/A": {"a/msg/A", []Field{nested("b", "a/msg/B")}}}
	if _, err := TypeHash("a/msg/A", r); err == nil || !strings.Contains(err.Error(), `"a/msg/B"`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := TypeHash("x/msg/Y", r); err == nil {
		t.Fatal("unknown top type hashed")
	}
}

func TestJSONStringEscapes(t *testing.T) {
	var b strings.Builder
	writeJSONString(&b, "a\"\\\n\x01é\x7f😀")
	if want := `"a\"\\\n\u0001\u00e9` + "\x7f" + `\ud83d\ude00"`; b.String() != want {
		t.Fatalf("got %s want %s", b.String(), want)
	}
}
