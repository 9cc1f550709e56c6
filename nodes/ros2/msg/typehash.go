package msg

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Field type ids of type_description_interfaces/msg/FieldType (REP-2011). A fixed array adds
// ArrayOffset to its element's id, a bounded sequence BoundedSeqOffset, an unbounded
// sequence SeqOffset.
const (
	TypeNested         uint8 = 1
	TypeInt8           uint8 = 2
	TypeUint8          uint8 = 3
	TypeInt16          uint8 = 4
	TypeUint16         uint8 = 5
	TypeInt32          uint8 = 6
	TypeUint32         uint8 = 7
	TypeInt64          uint8 = 8
	TypeUint64         uint8 = 9
	TypeFloat          uint8 = 10
	TypeDouble         uint8 = 11
	TypeChar           uint8 = 13
	TypeBoolean        uint8 = 15
	TypeByte           uint8 = 16
	TypeString         uint8 = 17
	TypeWString        uint8 = 18
	TypeBoundedString  uint8 = 21
	TypeBoundedWString uint8 = 22

	ArrayOffset      uint8 = 48
	BoundedSeqOffset uint8 = 96
	SeqOffset        uint8 = 144
)

// FieldType is type_description_interfaces/msg/FieldType.
type FieldType struct {
	TypeID         uint8
	Capacity       uint64 // array size or sequence bound
	StringCapacity uint64 // bound of a bounded string (or of the strings of an array of them)
	NestedTypeName string // "pkg/msg/Name" for nested types
}

// Field is type_description_interfaces/msg/Field without its default value, which the hash
// leaves out.
type Field struct {
	Name string
	Type FieldType
}

// TypeDescription is type_description_interfaces/msg/IndividualTypeDescription: one type's
// fields, naming nested types by their full name ("std_msgs/msg/Header").
type TypeDescription struct {
	Name   string
	Fields []Field
}

// ErrUnknownType: a type description refers to a type the registry does not hold.
var ErrUnknownType = errors.New("msg: unknown type")

// TypeHash computes the RIHS01 hash (REP-2011) of the type named name: SHA-256 of the JSON
// of its TypeDescription (the type and every type it refers to, directly or not, sorted by
// name, each listed once), written as rosidl_generator_type_description writes it —
// keys in the message's field order, ", " and ": " separators, no default values.
func TypeHash(name string, registry map[string]TypeDescription) (string, error) {
	js, err := TypeDescriptionJSON(name, registry)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(js)
	return "RIHS01_" + hex.EncodeToString(sum[:]), nil
}

// TypeDescriptionJSON is the text TypeHash hashes.
func TypeDescriptionJSON(name string, registry map[string]TypeDescription) ([]byte, error) {
	top, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownType, name)
	}
	refs := map[string]bool{}
	queue := []TypeDescription{top}
	for len(queue) > 0 {
		t := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, f := range t.Fields {
			n := f.Type.NestedTypeName
			if n == "" || refs[n] {
				continue
			}
			r, ok := registry[n]
			if !ok {
				return nil, fmt.Errorf("%w: %q (field %s of %s)", ErrUnknownType, n, f.Name, t.Name)
			}
			refs[n] = true
			queue = append(queue, r)
		}
	}
	names := make([]string, 0, len(refs))
	for n := range refs {
		names = append(names, n)
	}
	slices.Sort(names) // Python's sorted(): code point order, the same as Go's for ASCII and UTF-8

	var b strings.Builder
	b.WriteString(`{"type_description": `)
	writeIndividual(&b, top)
	b.WriteString(`, "referenced_type_descriptions": [`)
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		writeIndividual(&b, registry[n])
	}
	b.WriteString("]}")
	return []byte(b.String()), nil
}

func writeIndividual(b *strings.Builder, t TypeDescription) {
	b.WriteString(`{"type_name": `)
	writeJSONString(b, t.Name)
	b.WriteString(`, "fields": [`)
	for i, f := range t.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`{"name": `)
		writeJSONString(b, f.Name)
		b.WriteString(`, "type": {"type_id": `)
		b.WriteString(strconv.FormatUint(uint64(f.Type.TypeID), 10))
		b.WriteString(`, "capacity": `)
		b.WriteString(strconv.FormatUint(f.Type.Capacity, 10))
		b.WriteString(`, "string_capacity": `)
		b.WriteString(strconv.FormatUint(f.Type.StringCapacity, 10))
		b.WriteString(`, "nested_type_name": `)
		writeJSONString(b, f.Type.NestedTypeName)
		b.WriteString("}}")
	}
	b.WriteString("]}")
}

// writeJSONString writes s as Python's json.dumps(ensure_ascii=True) does.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			if r == 0x7f {
				b.WriteRune(r) // DEL is ASCII: Python leaves it as is
				continue
			}
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// Helpers that keep the description tables short.

func prim(name string, id uint8) Field { return Field{name, FieldType{TypeID: id}} }
func seq(name string, id uint8) Field  { return Field{name, FieldType{TypeID: id + SeqOffset}} }
func array(name string, id uint8, n uint64) Field {
	return Field{name, FieldType{TypeID: id + ArrayOffset, Capacity: n}}
}
func nested(name, typ string) Field {
	return Field{name, FieldType{TypeID: TypeNested, NestedTypeName: typ}}
}
func nestedSeq(name, typ string) Field {
	return Field{name, FieldType{TypeID: TypeNested + SeqOffset, NestedTypeName: typ}}
}
func nestedBoundedSeq(name, typ string, n uint64) Field {
	return Field{name, FieldType{TypeID: TypeNested + BoundedSeqOffset, Capacity: n, NestedTypeName: typ}}
}
func boundedString(name string, n uint64) Field {
	return Field{name, FieldType{TypeID: TypeBoundedString, StringCapacity: n}}
}

// emptyStructField is the member rosidl adds to a message with no fields (IDL structures
// cannot be empty); it is on the wire too, as one uint8.
var emptyStructField = prim("structure_needs_at_least_one_member", TypeUint8)

// ServiceDescriptions returns the descriptions rosidl derives from a service pkg/srv/Name:
// Name_Request, Name_Response (an empty one gets emptyStructField), Name_Event
// (service_msgs/msg/ServiceEventInfo info, request and response as sequences bounded to 1),
// and the service itself with request_message, response_message and event_message.
func ServiceDescriptions(name string, request, response []Field) []TypeDescription {
	if len(request) == 0 {
		request = []Field{emptyStructField}
	}
	if len(response) == 0 {
		response = []Field{emptyStructField}
	}
	req, resp, ev := name+"_Request", name+"_Response", name+"_Event"
	return []TypeDescription{
		{req, request},
		{resp, response},
		{ev, []Field{
			nested("info", "service_msgs/msg/ServiceEventInfo"),
			nestedBoundedSeq("request", req, 1),
			nestedBoundedSeq("response", resp, 1),
		}},
		{name, []Field{
			nested("request_message", req),
			nested("response_message", resp),
			nested("event_message", ev),
		}},
	}
}

// DDSTypeName maps a ROS type name to the DDS type name rosidl gives it:
// "std_msgs/msg/Header" → "std_msgs::msg::dds_::Header_".
func DDSTypeName(rosName string) string {
	i := strings.LastIndexByte(rosName, '/')
	return strings.ReplaceAll(rosName[:i+1], "/", "::") + "dds_::" + rosName[i+1:] + "_"
}
