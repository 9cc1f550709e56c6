package msg

import (
	"fmt"
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/cdr"
)

// TypeInfo names a ROS 2 type for the graph and the wire.
type TypeInfo struct {
	ROSName string // "std_msgs/msg/Float32MultiArray"
	DDSName string // "std_msgs::msg::dds_::Float32MultiArray_", the DDS type name on the wire
	Hash    string // "RIHS01_<64 hex>", sent as typehash= in endpoint USER_DATA (Iron and later)
}

func newInfo(rosName string) *TypeInfo {
	h, err := TypeHash(rosName, Registry)
	if err != nil {
		h = "" // tests hash every type; an empty hash would fail them, never a node
	}
	return &TypeInfo{ROSName: rosName, DDSName: DDSTypeName(rosName), Hash: h}
}

// Message is a ROS 2 message type with its CDR form.
type Message interface {
	// Marshal appends the message's fields (no encapsulation header) to e.
	Marshal(e *cdr.Encoder)
	// Unmarshal reads the message's fields from d, reusing the receiver's slices and
	// strings where it can, and returns d's first error wrapped with the type's name.
	Unmarshal(d *cdr.Decoder) error
	// Type names the type.
	Type() *TypeInfo
}

// Encode appends m's payload (header included, padded by cdr.Encoder.Finish) to dst and
// returns it. It allocates its
// Encoder (the interface call lets it escape); a publisher keeps a cdr.Encoder and calls
// Reset and Marshal, which allocate nothing when dst has room.
func Encode(dst []byte, m Message) []byte {
	var e cdr.Encoder
	e.Reset(dst)
	m.Marshal(&e)
	return e.Finish()
}

// Decode reads a payload (header included) into m.
func Decode(payload []byte, m Message) error {
	var d cdr.Decoder
	if err := d.Reset(payload); err != nil {
		return fmt.Errorf("%s: %w", m.Type().ROSName, err)
	}
	return m.Unmarshal(&d)
}

func wrap(d *cdr.Decoder, t *TypeInfo) error {
	if err := d.Err(); err != nil {
		return fmt.Errorf("%s: %w", t.ROSName, err)
	}
	return nil
}

// Minimum CDR sizes of sequence elements, so a count is checked against the bytes left
// before anything is allocated.
const (
	minString   = 4 // a length, even for ""
	minDim      = minString + 8
	minKeyValue = 2 * minString
	minStatus   = 1 + 3 + 3*minString + 4
	minImage    = 8 + minString + 8 + minString + 1 + 4 + 4
	minNodeInfo = 2*minString + 8
)

var (
	infoTime        = newInfo(nameTime)
	infoHeader      = newInfo(nameHeader)
	infoDim         = newInfo(nameDim)
	infoLayout      = newInfo(nameLayout)
	infoF32Array    = newInfo(nameF32Array)
	infoImage       = newInfo(nameImage)
	infoCompressed  = newInfo(nameCompressed)
	infoKeyValue    = newInfo(nameKeyValue)
	infoDiagStatus  = newInfo(nameDiagStatus)
	infoDiagArray   = newInfo(nameDiagArray)
	infoTriggerReq  = newInfo(nameTrigger + "_Request")
	infoTriggerResp = newInfo(nameTrigger + "_Response")
	infoGid         = newInfo(nameGid)
	infoNodeInfo    = newInfo(nameNodeInfo)
	infoParticipant = newInfo(nameParticipant)
	infoLatent      = newInfo(nameLatent)
	infoQuality     = newInfo(nameQuality)
	infoReward      = newInfo(nameReward)
	infoImagineReq  = newInfo(nameImagine + "_Request")
	infoImagineResp = newInfo(nameImagine + "_Response")
)

// The service types as a whole (request, response and event message). Their hashes are
// what a type-description service reports; the rq/ and rr/ endpoints announce the request's
// and the response's own hashes (rmw_cyclonedds rmw_node.cpp, create_cdds_client/service),
// which TriggerRequest.Type() and TriggerResponse.Type() give.
var (
	TriggerService = newInfo(nameTrigger) // std_srvs/srv/Trigger
	ImagineService = newInfo(nameImagine) // rssmd_msgs/srv/Imagine
)

// Time is builtin_interfaces/msg/Time.
type Time struct {
	Sec     int32
	Nanosec uint32
}

// TimeOf converts t to a ROS time (seconds since the Unix epoch, floor, and nanoseconds).
func TimeOf(t time.Time) Time {
	if t.IsZero() {
		return Time{}
	}
	return Time{Sec: int32(t.Unix()), Nanosec: uint32(t.Nanosecond())}
}

// Time converts back to a time.Time.
func (t Time) Time() time.Time { return time.Unix(int64(t.Sec), int64(t.Nanosec)) }

func (t *Time) Type() *TypeInfo { return infoTime }

func (t *Time) Marshal(e *cdr.Encoder) { e.Int32(t.Sec); e.Uint32(t.Nanosec) }

func (t *Time) read(d *cdr.Decoder) { t.Sec = d.Int32(); t.Nanosec = d.Uint32() }

func (t *Time) Unmarshal(d *cdr.Decoder) error { t.read(d); return wrap(d, infoTime) }

// Header is std_msgs/msg/Header (ROS 2: no seq).
type Header struct {
	Stamp   Time
	FrameID string
}

func (h *Header) Type() *TypeInfo { return infoHeader }

func (h *Header) Marshal(e *cdr.Encoder) { h.Stamp.Marshal(e); e.String(h.FrameID) }

func (h *Header) read(d *cdr.Decoder) { h.Stamp.read(d); d.StringInto(&h.FrameID) }

func (h *Header) Unmarshal(d *cdr.Decoder) error { h.read(d); return wrap(d, infoHeader) }

// MultiArrayDimension is std_msgs/msg/MultiArrayDimension.
type MultiArrayDimension struct {
	Label  string
	Size   uint32
	Stride uint32
}

func (m *MultiArrayDimension) Type() *TypeInfo { return infoDim }

func (m *MultiArrayDimension) Marshal(e *cdr.Encoder) {
	e.String(m.Label)
	e.Uint32(m.Size)
	e.Uint32(m.Stride)
}

func (m *MultiArrayDimension) read(d *cdr.Decoder) {
	d.StringInto(&m.Label)
	m.Size = d.Uint32()
	m.Stride = d.Uint32()
}

func (m *MultiArrayDimension) Unmarshal(d *cdr.Decoder) error { m.read(d); return wrap(d, infoDim) }

// MultiArrayLayout is std_msgs/msg/MultiArrayLayout.
type MultiArrayLayout struct {
	Dim        []MultiArrayDimension
	DataOffset uint32
}

func (m *MultiArrayLayout) Type() *TypeInfo { return infoLayout }

func (m *MultiArrayLayout) Marshal(e *cdr.Encoder) {
	e.SeqLen(len(m.Dim))
	for i := range m.Dim {
		m.Dim[i].Marshal(e)
	}
	e.Uint32(m.DataOffset)
}

func (m *MultiArrayLayout) read(d *cdr.Decoder) {
	m.Dim = cdr.Grow(m.Dim, d.SeqLen(minDim))
	for i := range m.Dim {
		m.Dim[i].read(d)
	}
	m.DataOffset = d.Uint32()
}

func (m *MultiArrayLayout) Unmarshal(d *cdr.Decoder) error { m.read(d); return wrap(d, infoLayout) }

// Float32MultiArray is std_msgs/msg/Float32MultiArray.
type Float32MultiArray struct {
	Layout MultiArrayLayout
	Data   []float32
}

func (m *Float32MultiArray) Type() *TypeInfo { return infoF32Array }

func (m *Float32MultiArray) Marshal(e *cdr.Encoder) { m.Layout.Marshal(e); e.Float32s(m.Data) }

func (m *Float32MultiArray) read(d *cdr.Decoder) { m.Layout.read(d); m.Data = d.Float32s(m.Data) }

func (m *Float32MultiArray) Unmarshal(d *cdr.Decoder) error { m.read(d); return wrap(d, infoF32Array) }

// Image is sensor_msgs/msg/Image.
type Image struct {
	Header      Header
	Height      uint32
	Width       uint32
	Encoding    string
	IsBigendian uint8
	Step        uint32
	Data        []byte
}

func (m *Image) Type() *TypeInfo { return infoImage }

func (m *Image) Marshal(e *cdr.Encoder) {
	m.Header.Marshal(e)
	e.Uint32(m.Height)
	e.Uint32(m.Width)
	e.String(m.Encoding)
	e.Uint8(m.IsBigendian)
	e.Uint32(m.Step)
	e.Octets(m.Data)
}

func (m *Image) read(d *cdr.Decoder) {
	m.Header.read(d)
	m.Height = d.Uint32()
	m.Width = d.Uint32()
	d.StringInto(&m.Encoding)
	m.IsBigendian = d.Uint8()
	m.Step = d.Uint32()
	m.Data = d.Octets(m.Data)
}

func (m *Image) Unmarshal(d *cdr.Decoder) error { m.read(d); return wrap(d, infoImage) }

// CompressedImage is sensor_msgs/msg/CompressedImage.
type CompressedImage struct {
	Header Header
	Format string
	Data   []byte
}

func (m *CompressedImage) Type() *TypeInfo { return infoCompressed }

func (m *CompressedImage) Marshal(e *cdr.Encoder) {
	m.Header.Marshal(e)
	e.String(m.Format)
	e.Octets(m.Data)
}

func (m *CompressedImage) read(d *cdr.Decoder) {
	m.Header.read(d)
	d.StringInto(&m.Format)
	m.Data = d.Octets(m.Data)
}

func (m *CompressedImage) Unmarshal(d *cdr.Decoder) error { m.read(d); return wrap(d, infoCompressed) }

// KeyValue is diagnostic_msgs/msg/KeyValue.
type KeyValue struct {
	Key   string
	Value string
}

func (m *KeyValue) Type() *TypeInfo { return infoKeyValue }

func (m *KeyValue) Marshal(e *cdr.Encoder) { e.String(m.Key); e.String(m.Value) }

func (m *KeyValue) read(d *cdr.Decoder) { d.StringInto(&m.Key); d.StringInto(&m.Value) }

func (m *KeyValue) Unmarshal(d *cdr.Decoder) error { m.read(d); return wrap(d, infoKeyValue) }

// DiagnosticStatus levels (diagnostic_msgs/msg/DiagnosticStatus constants).
const (
	DiagnosticOK    byte = 0
	DiagnosticWarn  byte = 1
	DiagnosticError byte = 2
	DiagnosticStale byte = 3
)

// DiagnosticStatus is diagnostic_msgs/msg/DiagnosticStatus.
type DiagnosticStatus struct {
	Level      byte
	Name       string
	Message    string
	HardwareID string
	Values     []KeyValue
}

func (m *DiagnosticStatus) Type() *TypeInfo { return infoDiagStatus }

func (m *DiagnosticStatus) Marshal(e *cdr.Encoder) {
	e.Uint8(m.Level)
	e.String(m.Name)
	e.String(m.Message)
	e.String(m.HardwareID)
	e.SeqLen(len(m.Values))
	for i := range m.Values {
		m.Values[i].Marshal(e)
	}
}

func (m *DiagnosticStatus) read(d *cdr.Decoder) {
	m.Level = d.Uint8()
	d.StringInto(&m.Name)
	d.StringInto(&m.Message)
	d.StringInto(&m.HardwareID)
	m.Values = cdr.Grow(m.Values, d.SeqLen(minKeyValue))
	for i := range m.Values {
		m.Values[i].read(d)
	}
}

func (m *DiagnosticStatus) Unmarshal(d *cdr.Decoder) error { m.read(d); return wrap(d, infoDiagStatus) }

// DiagnosticArray is diagnostic_msgs/msg/DiagnosticArray.
type DiagnosticArray struct {
	Header Header
	Status []DiagnosticStatus
}

func (m *DiagnosticArray) Type() *TypeInfo { return infoDiagArray }

func (m *DiagnosticArray) Marshal(e *cdr.Encoder) {
	m.Header.Marshal(e)
	e.SeqLen(len(m.Status))
	for i := range m.Status {
		m.Status[i].Marshal(e)
	}
}

func (m *DiagnosticArray) read(d *cdr.Decoder) {
	m.Header.read(d)
	m.Status = cdr.Grow(m.Status, d.SeqLen(minStatus))
	for i := range m.Status {
		m.Status[i].read(d)
	}
}

func (m *DiagnosticArray) Unmarshal(d *cdr.Decoder) error { m.read(d); return wrap(d, infoDiagArray) }

// TriggerRequest is std_srvs/srv/Trigger_Request. It has no fields, so on the wire it is
// rosidl's one placeholder uint8.
type TriggerRequest struct{}

func (m *TriggerRequest) Type() *TypeInfo { return infoTriggerReq }

func (m *TriggerRequest) Marshal(e *cdr.Encoder) { e.Uint8(0) }

func (m *TriggerRequest) Unmarshal(d *cdr.Decoder) error { d.Uint8(); return wrap(d, infoTriggerReq) }

// TriggerResponse is std_srvs/srv/Trigger_Response.
type TriggerResponse struct {
	Success bool
	Message string
}

func (m *TriggerResponse) Type() *TypeInfo { return infoTriggerResp }

func (m *TriggerResponse) Marshal(e *cdr.Encoder) { e.Bool(m.Success); e.String(m.Message) }

func (m *TriggerResponse) Unmarshal(d *cdr.Decoder) error {
	m.Success = d.Bool()
	d.StringInto(&m.Message)
	return wrap(d, infoTriggerResp)
}
