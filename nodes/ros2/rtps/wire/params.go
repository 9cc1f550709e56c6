package wire

import (
	"encoding/binary"
	"fmt"
)

// ParameterID identifies a parameter in a parameter list (§9.6.2.2.1).
type ParameterID uint16

// Parameter id flags (§9.6.2.2.1): vendor-specific ids are interpreted by
// the sending vendor only; unknown must-understand ids invalidate the list.
const (
	PIDVendorSpecificFlag ParameterID = 0x8000
	PIDMustUnderstandFlag ParameterID = 0x4000
)

// Parameter ids (§9.6.2.2.2 Table 9.12 for discovery data, §9.6.3.1
// Table 9.14 for inline QoS; PID_RELATED_SAMPLE_IDENTITY is DDS-RPC's).
const (
	PID_PAD                                 ParameterID = 0x0000
	PID_SENTINEL                            ParameterID = 0x0001
	PID_PARTICIPANT_LEASE_DURATION          ParameterID = 0x0002
	PID_TIME_BASED_FILTER                   ParameterID = 0x0004
	PID_TOPIC_NAME                          ParameterID = 0x0005
	PID_OWNERSHIP_STRENGTH                  ParameterID = 0x0006
	PID_TYPE_NAME                           ParameterID = 0x0007
	PID_DOMAIN_ID                           ParameterID = 0x000f
	PID_PROTOCOL_VERSION                    ParameterID = 0x0015
	PID_VENDORID                            ParameterID = 0x0016
	PID_RELIABILITY                         ParameterID = 0x001a
	PID_LIVELINESS                          ParameterID = 0x001b
	PID_DURABILITY                          ParameterID = 0x001d
	PID_DURABILITY_SERVICE                  ParameterID = 0x001e
	PID_OWNERSHIP                           ParameterID = 0x001f
	PID_PRESENTATION                        ParameterID = 0x0021
	PID_DEADLINE                            ParameterID = 0x0023
	PID_DESTINATION_ORDER                   ParameterID = 0x0025
	PID_LATENCY_BUDGET                      ParameterID = 0x0027
	PID_PARTITION                           ParameterID = 0x0029
	PID_LIFESPAN                            ParameterID = 0x002b
	PID_USER_DATA                           ParameterID = 0x002c
	PID_GROUP_DATA                          ParameterID = 0x002d
	PID_TOPIC_DATA                          ParameterID = 0x002e
	PID_UNICAST_LOCATOR                     ParameterID = 0x002f
	PID_MULTICAST_LOCATOR                   ParameterID = 0x0030
	PID_DEFAULT_UNICAST_LOCATOR             ParameterID = 0x0031
	PID_METATRAFFIC_UNICAST_LOCATOR         ParameterID = 0x0032
	PID_METATRAFFIC_MULTICAST_LOCATOR       ParameterID = 0x0033
	PID_PARTICIPANT_MANUAL_LIVELINESS_COUNT ParameterID = 0x0034
	PID_HISTORY                             ParameterID = 0x0040
	PID_RESOURCE_LIMITS                     ParameterID = 0x0041
	PID_EXPECTS_INLINE_QOS                  ParameterID = 0x0043
	PID_DEFAULT_MULTICAST_LOCATOR           ParameterID = 0x0048
	PID_TRANSPORT_PRIORITY                  ParameterID = 0x0049
	PID_PARTICIPANT_GUID                    ParameterID = 0x0050
	PID_GROUP_GUID                          ParameterID = 0x0052
	PID_BUILTIN_ENDPOINT_SET                ParameterID = 0x0058
	PID_PROPERTY_LIST                       ParameterID = 0x0059
	PID_ENDPOINT_GUID                       ParameterID = 0x005a
	PID_ENTITY_NAME                         ParameterID = 0x0062
	PID_KEY_HASH                            ParameterID = 0x0070
	PID_STATUS_INFO                         ParameterID = 0x0071
	PID_DATA_REPRESENTATION                 ParameterID = 0x0073
	PID_TYPE_INFORMATION                    ParameterID = 0x0075
	PID_BUILTIN_ENDPOINT_QOS                ParameterID = 0x0077
	PID_RELATED_SAMPLE_IDENTITY             ParameterID = 0x0083
	// PID_FASTDDS_RELATED_SAMPLE_IDENTITY is the vendor-specific id Fast
	// DDS 2.x uses for the sample identity a service reply answers
	// (fastdds/dds/core/policy/ParameterTypes.hpp: 0x800f).
	PID_FASTDDS_RELATED_SAMPLE_IDENTITY ParameterID = 0x800f
)

// Status info flags carried by PID_STATUS_INFO (§9.6.3.9).
const (
	StatusInfoDisposed     = 0x1
	StatusInfoUnregistered = 0x2
	StatusInfoFiltered     = 0x4
)

// Encapsulation identifiers of serialized payloads (§10.2, Table 10.3).
const (
	EncapsulationCDR_BE    = 0x0000
	EncapsulationCDR_LE    = 0x0001
	EncapsulationPL_CDR_BE = 0x0002
	EncapsulationPL_CDR_LE = 0x0003
)

// Parameter is one entry of a parameter list; Value aliases the input.
type Parameter struct {
	ID    ParameterID
	Value []byte
}

// ParamReader walks a parameter list (§9.4.2.11) without allocating.
type ParamReader struct {
	b  []byte
	bo binary.ByteOrder
}

// NewParamReader reads list b in the given byte order.
func NewParamReader(b []byte, littleEndian bool) ParamReader {
	if littleEndian {
		return ParamReader{b: b, bo: binary.LittleEndian}
	}
	return ParamReader{b: b, bo: binary.BigEndian}
}

// Order returns the list's byte order.
func (r *ParamReader) Order() binary.ByteOrder { return r.bo }

// Next returns the next parameter, ok false after PID_SENTINEL. PID_PAD is
// skipped. A list that ends without a sentinel is an error.
func (r *ParamReader) Next() (p Parameter, ok bool, err error) {
	for {
		if len(r.b) < 4 {
			return p, false, fmt.Errorf("parameter list: %d bytes left and no PID_SENTINEL: %w", len(r.b), ErrShort)
		}
		id := ParameterID(r.bo.Uint16(r.b))
		n := int(r.bo.Uint16(r.b[2:]))
		if id == PID_SENTINEL {
			r.b = r.b[4:]
			return p, false, nil
		}
		if n > len(r.b)-4 {
			return p, false, fmt.Errorf("parameter 0x%04x: length %d, %d bytes left: %w", uint16(id), n, len(r.b)-4, ErrShort)
		}
		v := r.b[4 : 4+n]
		r.b = r.b[4+n:]
		if id == PID_PAD {
			continue
		}
		return Parameter{ID: id, Value: v}, true, nil
	}
}

// ParamListLen returns the length of the list at the start of b, sentinel
// included.
func ParamListLen(b []byte, littleEndian bool) (int, error) {
	r := NewParamReader(b, littleEndian)
	for {
		_, ok, err := r.Next()
		if err != nil {
			return 0, err
		}
		if !ok {
			return len(b) - len(r.b), nil
		}
	}
}

// AppendParam appends one parameter with its value padded to 4 bytes.
func AppendParam(b []byte, id ParameterID, v []byte) []byte {
	n := (len(v) + 3) &^ 3
	b = binary.LittleEndian.AppendUint16(b, uint16(id))
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = append(b, v...)
	for i := len(v); i < n; i++ {
		b = append(b, 0)
	}
	return b
}

// AppendSentinel ends a parameter list.
func AppendSentinel(b []byte) []byte { return append(b, 1, 0, 0, 0) }

// paramHeader appends a parameter header and returns the position to patch
// the length at with endParam.
func paramHeader(b []byte, id ParameterID) ([]byte, int) {
	b = binary.LittleEndian.AppendUint16(b, uint16(id))
	b = append(b, 0, 0)
	return b, len(b)
}

func endParam(b []byte, at int) []byte {
	for (len(b)-at)%4 != 0 {
		b = append(b, 0)
	}
	binary.LittleEndian.PutUint16(b[at-2:], uint16(len(b)-at))
	return b
}

// AppendStringParam appends a CDR string parameter (length with NUL).
func AppendStringParam(b []byte, id ParameterID, s string) []byte {
	b, at := paramHeader(b, id)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)+1))
	b = append(b, s...)
	b = append(b, 0)
	return endParam(b, at)
}

// AppendOctetsParam appends a CDR sequence<octet> parameter (USER_DATA).
func AppendOctetsParam(b []byte, id ParameterID, v []byte) []byte {
	b, at := paramHeader(b, id)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	b = append(b, v...)
	return endParam(b, at)
}

// AppendUint32Param appends a 4-byte parameter.
func AppendUint32Param(b []byte, id ParameterID, v uint32) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(id))
	b = binary.LittleEndian.AppendUint16(b, 4)
	return binary.LittleEndian.AppendUint32(b, v)
}

// AppendLocatorParam appends a locator parameter.
func AppendLocatorParam(b []byte, id ParameterID, l Locator) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(id))
	b = binary.LittleEndian.AppendUint16(b, LocatorSize)
	return appendLocator(b, l)
}

// AppendGUIDParam appends a 16-byte GUID parameter.
func AppendGUIDParam(b []byte, id ParameterID, g GUID) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(id))
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, g.Prefix[:]...)
	return append(b, g.Entity[:]...)
}

// SampleIdentity names one sample: its writer and sequence number (DDS-RPC
// 7.6.1; what PID_RELATED_SAMPLE_IDENTITY carries, 24 bytes).
type SampleIdentity struct {
	Writer GUID
	SN     SequenceNumber
}

// AppendSampleIdentityParam appends a sample identity parameter.
func AppendSampleIdentityParam(b []byte, id ParameterID, s SampleIdentity) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(id))
	b = binary.LittleEndian.AppendUint16(b, 24)
	b = append(b, s.Writer.Prefix[:]...)
	b = append(b, s.Writer.Entity[:]...)
	return appendSN(b, s.SN)
}

// ParseSampleIdentity decodes a sample identity value.
func ParseSampleIdentity(v []byte, bo binary.ByteOrder) (SampleIdentity, error) {
	var s SampleIdentity
	if len(v) < 24 {
		return s, fmt.Errorf("sample identity: %d bytes, need 24: %w", len(v), ErrShort)
	}
	copy(s.Writer.Prefix[:], v)
	copy(s.Writer.Entity[:], v[12:])
	s.SN = readSN(v[16:], bo)
	return s, nil
}

// ParseGUID decodes a 16-byte GUID value.
func ParseGUID(v []byte) (GUID, error) {
	if len(v) < 16 {
		return GUID{}, fmt.Errorf("GUID: %d bytes, need 16: %w", len(v), ErrShort)
	}
	return GUIDFromBytes([16]byte(v[:16])), nil
}

// ParseLocator decodes a locator value.
func ParseLocator(v []byte, bo binary.ByteOrder) (Locator, error) {
	if len(v) < LocatorSize {
		return Locator{}, fmt.Errorf("locator: %d bytes, need %d: %w", len(v), LocatorSize, ErrShort)
	}
	return readLocator(v, bo), nil
}

// ParseString decodes a CDR string value (without its NUL).
func ParseString(v []byte, bo binary.ByteOrder) (string, error) {
	if len(v) < 4 {
		return "", fmt.Errorf("string: %d bytes: %w", len(v), ErrShort)
	}
	n := bo.Uint32(v)
	if n == 0 || uint64(n) > uint64(len(v)-4) {
		return "", fmt.Errorf("string: length %d in %d bytes: %w", n, len(v)-4, ErrInvalid)
	}
	s := v[4 : 4+n]
	if s[n-1] != 0 {
		return "", fmt.Errorf("string: not NUL-terminated: %w", ErrInvalid)
	}
	return string(s[:n-1]), nil
}

// ParseOctets decodes a CDR sequence<octet> value; the result aliases v.
func ParseOctets(v []byte, bo binary.ByteOrder) ([]byte, error) {
	if len(v) < 4 {
		return nil, fmt.Errorf("octet sequence: %d bytes: %w", len(v), ErrShort)
	}
	n := bo.Uint32(v)
	if uint64(n) > uint64(len(v)-4) {
		return nil, fmt.Errorf("octet sequence: length %d in %d bytes: %w", n, len(v)-4, ErrInvalid)
	}
	return v[4 : 4+n], nil
}

// ParseUint32 decodes a 4-byte value.
func ParseUint32(v []byte, bo binary.ByteOrder) (uint32, error) {
	if len(v) < 4 {
		return 0, fmt.Errorf("uint32: %d bytes: %w", len(v), ErrShort)
	}
	return bo.Uint32(v), nil
}

// ParseTime decodes a Time_t / Duration_t value.
func ParseTime(v []byte, bo binary.ByteOrder) (Time, error) {
	if len(v) < 8 {
		return Time{}, fmt.Errorf("time: %d bytes: %w", len(v), ErrShort)
	}
	return readTime(v, bo), nil
}

// InlineInfo is what a reader needs from a DATA's inline QoS.
type InlineInfo struct {
	StatusInfo uint32
	KeyHash    [16]byte
	HasKeyHash bool
	Related    SampleIdentity
	HasRelated bool
}

// ParseInlineQoS extracts key hash, status info and related sample identity
// from inline QoS; other parameters are skipped.
func ParseInlineQoS(b []byte, littleEndian bool, vendor VendorID) (InlineInfo, error) {
	var info InlineInfo
	if b == nil {
		return info, nil
	}
	r := NewParamReader(b, littleEndian)
	for {
		p, ok, err := r.Next()
		if err != nil {
			return info, err
		}
		if !ok {
			return info, nil
		}
		switch p.ID {
		case PID_KEY_HASH:
			if len(p.Value) < 16 {
				return info, fmt.Errorf("PID_KEY_HASH: %d bytes: %w", len(p.Value), ErrShort)
			}
			info.KeyHash, info.HasKeyHash = [16]byte(p.Value[:16]), true
		case PID_STATUS_INFO:
			if len(p.Value) < 4 {
				return info, fmt.Errorf("PID_STATUS_INFO: %d bytes: %w", len(p.Value), ErrShort)
			}
			// §9.6.3.9: the flags are in the last byte, always big endian.
			info.StatusInfo = binary.BigEndian.Uint32(p.Value)
		case PID_RELATED_SAMPLE_IDENTITY, PID_FASTDDS_RELATED_SAMPLE_IDENTITY:
			if p.ID == PID_FASTDDS_RELATED_SAMPLE_IDENTITY && vendor != VendorEProsima && vendor != VendorRSSMD {
				continue // vendor-specific: only eProsima's meaning is known
			}
			s, err := ParseSampleIdentity(p.Value, r.bo)
			if err != nil {
				return info, fmt.Errorf("PID_RELATED_SAMPLE_IDENTITY: %w", err)
			}
			info.Related, info.HasRelated = s, true
		}
	}
}
