package wire

import (
	"encoding/binary"
	"fmt"
)

// Builtin endpoint set bits (§8.5.3.2, 9.3.2 BuiltinEndpointSet_t).
const (
	DISC_BUILTIN_ENDPOINT_PARTICIPANT_ANNOUNCER      = 1 << 0
	DISC_BUILTIN_ENDPOINT_PARTICIPANT_DETECTOR       = 1 << 1
	DISC_BUILTIN_ENDPOINT_PUBLICATIONS_ANNOUNCER     = 1 << 2
	DISC_BUILTIN_ENDPOINT_PUBLICATIONS_DETECTOR      = 1 << 3
	DISC_BUILTIN_ENDPOINT_SUBSCRIPTIONS_ANNOUNCER    = 1 << 4
	DISC_BUILTIN_ENDPOINT_SUBSCRIPTIONS_DETECTOR     = 1 << 5
	BUILTIN_ENDPOINT_PARTICIPANT_MESSAGE_DATA_WRITER = 1 << 10
	BUILTIN_ENDPOINT_PARTICIPANT_MESSAGE_DATA_READER = 1 << 11
)

// ReliabilityKind as it travels in PID_RELIABILITY (§9.6.3.x, Table 9.15:
// BEST_EFFORT 1, RELIABLE 2).
type ReliabilityKind uint32

const (
	BestEffortReliability ReliabilityKind = 1
	ReliableReliability   ReliabilityKind = 2
)

// DurabilityKind as it travels in PID_DURABILITY (DDS 2.2.3.4).
type DurabilityKind uint32

const (
	VolatileDurability       DurabilityKind = 0
	TransientLocalDurability DurabilityKind = 1
	TransientDurability      DurabilityKind = 2
	PersistentDurability     DurabilityKind = 3
)

// HistoryKind as it travels in PID_HISTORY.
type HistoryKind uint32

const (
	KeepLastHistory HistoryKind = 0
	KeepAllHistory  HistoryKind = 1
)

// ParticipantData is SPDPdiscoveredParticipantData (§8.5.3.2, 9.6.2.2):
// what a participant announces about itself.
type ParticipantData struct {
	Version          ProtocolVersion
	Vendor           VendorID
	GUID             GUID
	DomainID         uint32
	HasDomainID      bool
	DefaultUnicast   []Locator
	DefaultMulticast []Locator
	MetaUnicast      []Locator
	MetaMulticast    []Locator
	BuiltinEndpoints uint32
	LeaseDuration    Time
	UserData         []byte
	EntityName       string
}

// checkEncapsulation returns the byte order of a PL_CDR payload.
func checkEncapsulation(payload []byte) (bool, error) {
	if len(payload) < 4 {
		return false, fmt.Errorf("encapsulation header: %d bytes: %w", len(payload), ErrShort)
	}
	switch binary.BigEndian.Uint16(payload) {
	case EncapsulationPL_CDR_LE:
		return true, nil
	case EncapsulationPL_CDR_BE:
		return false, nil
	}
	return false, fmt.Errorf("encapsulation 0x%04x is not PL_CDR: %w", binary.BigEndian.Uint16(payload), ErrInvalid)
}

func appendPLHeader(b []byte) []byte { return append(b, 0, EncapsulationPL_CDR_LE, 0, 0) }

// Append appends the serialized payload (PL_CDR_LE with its encapsulation
// header).
func (d *ParticipantData) Append(b []byte) []byte {
	b = appendPLHeader(b)
	b = binary.LittleEndian.AppendUint16(b, uint16(PID_PROTOCOL_VERSION))
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = append(b, d.Version.Major, d.Version.Minor, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(PID_VENDORID))
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = append(b, d.Vendor[0], d.Vendor[1], 0, 0)
	b = AppendGUIDParam(b, PID_PARTICIPANT_GUID, d.GUID)
	if d.HasDomainID {
		b = AppendUint32Param(b, PID_DOMAIN_ID, d.DomainID)
	}
	for _, l := range d.DefaultUnicast {
		b = AppendLocatorParam(b, PID_DEFAULT_UNICAST_LOCATOR, l)
	}
	for _, l := range d.DefaultMulticast {
		b = AppendLocatorParam(b, PID_DEFAULT_MULTICAST_LOCATOR, l)
	}
	for _, l := range d.MetaUnicast {
		b = AppendLocatorParam(b, PID_METATRAFFIC_UNICAST_LOCATOR, l)
	}
	for _, l := range d.MetaMulticast {
		b = AppendLocatorParam(b, PID_METATRAFFIC_MULTICAST_LOCATOR, l)
	}
	b = AppendUint32Param(b, PID_BUILTIN_ENDPOINT_SET, d.BuiltinEndpoints)
	b = binary.LittleEndian.AppendUint16(b, uint16(PID_PARTICIPANT_LEASE_DURATION))
	b = binary.LittleEndian.AppendUint16(b, 8)
	b = appendTime(b, d.LeaseDuration)
	if d.UserData != nil {
		b = AppendOctetsParam(b, PID_USER_DATA, d.UserData)
	}
	if d.EntityName != "" {
		b = AppendStringParam(b, PID_ENTITY_NAME, d.EntityName)
	}
	return AppendSentinel(b)
}

// Unmarshal decodes a serialized payload, copying what it keeps. Absent
// fields take the spec's defaults (lease 100 s, §9.6.2.2.2).
func (d *ParticipantData) Unmarshal(payload []byte) error {
	le, err := checkEncapsulation(payload)
	if err != nil {
		return fmt.Errorf("participant data: %w", err)
	}
	*d = ParticipantData{LeaseDuration: Time{Seconds: 100}}
	r := NewParamReader(payload[4:], le)
	bo := r.Order()
	var hasGUID bool
	for {
		p, ok, err := r.Next()
		if err != nil {
			return fmt.Errorf("participant data: %w", err)
		}
		if !ok {
			break
		}
		v := p.Value
		switch p.ID {
		case PID_PROTOCOL_VERSION:
			if len(v) < 2 {
				return fmt.Errorf("participant data: PID_PROTOCOL_VERSION %d bytes: %w", len(v), ErrShort)
			}
			d.Version = ProtocolVersion{v[0], v[1]}
		case PID_VENDORID:
			if len(v) < 2 {
				return fmt.Errorf("participant data: PID_VENDORID %d bytes: %w", len(v), ErrShort)
			}
			d.Vendor = VendorID{v[0], v[1]}
		case PID_PARTICIPANT_GUID:
			if d.GUID, err = ParseGUID(v); err != nil {
				return fmt.Errorf("participant data: PID_PARTICIPANT_GUID: %w", err)
			}
			hasGUID = true
		case PID_DOMAIN_ID:
			if d.DomainID, err = ParseUint32(v, bo); err != nil {
				return fmt.Errorf("participant data: PID_DOMAIN_ID: %w", err)
			}
			d.HasDomainID = true
		case PID_DEFAULT_UNICAST_LOCATOR, PID_DEFAULT_MULTICAST_LOCATOR, PID_METATRAFFIC_UNICAST_LOCATOR, PID_METATRAFFIC_MULTICAST_LOCATOR:
			l, err := ParseLocator(v, bo)
			if err != nil {
				return fmt.Errorf("participant data: locator 0x%04x: %w", uint16(p.ID), err)
			}
			switch p.ID {
			case PID_DEFAULT_UNICAST_LOCATOR:
				d.DefaultUnicast = append(d.DefaultUnicast, l)
			case PID_DEFAULT_MULTICAST_LOCATOR:
				d.DefaultMulticast = append(d.DefaultMulticast, l)
			case PID_METATRAFFIC_UNICAST_LOCATOR:
				d.MetaUnicast = append(d.MetaUnicast, l)
			default:
				d.MetaMulticast = append(d.MetaMulticast, l)
			}
		case PID_BUILTIN_ENDPOINT_SET:
			if d.BuiltinEndpoints, err = ParseUint32(v, bo); err != nil {
				return fmt.Errorf("participant data: PID_BUILTIN_ENDPOINT_SET: %w", err)
			}
		case PID_PARTICIPANT_LEASE_DURATION:
			if d.LeaseDuration, err = ParseTime(v, bo); err != nil {
				return fmt.Errorf("participant data: PID_PARTICIPANT_LEASE_DURATION: %w", err)
			}
		case PID_USER_DATA:
			u, err := ParseOctets(v, bo)
			if err != nil {
				return fmt.Errorf("participant data: PID_USER_DATA: %w", err)
			}
			d.UserData = append([]byte{}, u...)
		case PID_ENTITY_NAME:
			if d.EntityName, err = ParseString(v, bo); err != nil {
				return fmt.Errorf("participant data: PID_ENTITY_NAME: %w", err)
			}
		default:
			if err := checkUnknown(p.ID); err != nil {
				return fmt.Errorf("participant data: %w", err)
			}
		}
	}
	if !hasGUID {
		return fmt.Errorf("participant data: no PID_PARTICIPANT_GUID: %w", ErrInvalid)
	}
	return nil
}

// checkUnknown applies §9.6.2.2.1 to an id the decoder does not know.
func checkUnknown(id ParameterID) error {
	if id&PIDVendorSpecificFlag == 0 && id&PIDMustUnderstandFlag != 0 {
		return fmt.Errorf("unknown must-understand parameter 0x%04x: %w", uint16(id), ErrInvalid)
	}
	return nil
}

// EndpointData is DiscoveredWriterData or DiscoveredReaderData (§8.5.4.2,
// 9.6.2.2) reduced to what keyless ROS 2 topics need.
type EndpointData struct {
	Version          ProtocolVersion
	Vendor           VendorID
	GUID             GUID
	Participant      GUID
	Topic            string
	Type             string
	Reliability      ReliabilityKind
	MaxBlockingTime  Time
	Durability       DurabilityKind
	History          HistoryKind
	Depth            int32
	UserData         []byte
	Unicast          []Locator
	Multicast        []Locator
	ExpectsInlineQoS bool
	Partitions       int // number of partition names; ROS 2 uses none
}

// Append appends the serialized payload (PL_CDR_LE). Every QoS is written
// explicitly: peers differ in the defaults they assume.
func (d *EndpointData) Append(b []byte) []byte {
	b = appendPLHeader(b)
	b = AppendGUIDParam(b, PID_ENDPOINT_GUID, d.GUID)
	if d.Participant != (GUID{}) {
		b = AppendGUIDParam(b, PID_PARTICIPANT_GUID, d.Participant)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(PID_PROTOCOL_VERSION))
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = append(b, d.Version.Major, d.Version.Minor, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(PID_VENDORID))
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = append(b, d.Vendor[0], d.Vendor[1], 0, 0)
	b = AppendStringParam(b, PID_TOPIC_NAME, d.Topic)
	b = AppendStringParam(b, PID_TYPE_NAME, d.Type)
	b = binary.LittleEndian.AppendUint16(b, uint16(PID_RELIABILITY))
	b = binary.LittleEndian.AppendUint16(b, 12)
	b = binary.LittleEndian.AppendUint32(b, uint32(d.Reliability))
	b = appendTime(b, d.MaxBlockingTime)
	b = AppendUint32Param(b, PID_DURABILITY, uint32(d.Durability))
	b = binary.LittleEndian.AppendUint16(b, uint16(PID_HISTORY))
	b = binary.LittleEndian.AppendUint16(b, 8)
	b = binary.LittleEndian.AppendUint32(b, uint32(d.History))
	b = binary.LittleEndian.AppendUint32(b, uint32(d.Depth))
	if d.UserData != nil {
		b = AppendOctetsParam(b, PID_USER_DATA, d.UserData)
	}
	for _, l := range d.Unicast {
		b = AppendLocatorParam(b, PID_UNICAST_LOCATOR, l)
	}
	for _, l := range d.Multicast {
		b = AppendLocatorParam(b, PID_MULTICAST_LOCATOR, l)
	}
	if d.ExpectsInlineQoS {
		b = AppendUint32Param(b, PID_EXPECTS_INLINE_QOS, 1)
	}
	return AppendSentinel(b)
}

// Unmarshal decodes a serialized payload, copying what it keeps. writer
// selects the DDS defaults for absent QoS: RELIABLE for writers,
// BEST_EFFORT for readers; VOLATILE; KEEP_LAST 1.
func (d *EndpointData) Unmarshal(payload []byte, writer bool) error {
	le, err := checkEncapsulation(payload)
	if err != nil {
		return fmt.Errorf("endpoint data: %w", err)
	}
	*d = EndpointData{Reliability: BestEffortReliability, History: KeepLastHistory, Depth: 1}
	if writer {
		d.Reliability = ReliableReliability
		d.MaxBlockingTime = Time{Fraction: 429496730} // 100 ms
	}
	r := NewParamReader(payload[4:], le)
	bo := r.Order()
	var hasGUID, hasTopic, hasType bool
	for {
		p, ok, err := r.Next()
		if err != nil {
			return fmt.Errorf("endpoint data: %w", err)
		}
		if !ok {
			break
		}
		v := p.Value
		switch p.ID {
		case PID_PROTOCOL_VERSION:
			if len(v) < 2 {
				return fmt.Errorf("endpoint data: PID_PROTOCOL_VERSION %d bytes: %w", len(v), ErrShort)
			}
			d.Version = ProtocolVersion{v[0], v[1]}
		case PID_VENDORID:
			if len(v) < 2 {
				return fmt.Errorf("endpoint data: PID_VENDORID %d bytes: %w", len(v), ErrShort)
			}
			d.Vendor = VendorID{v[0], v[1]}
		case PID_ENDPOINT_GUID:
			if d.GUID, err = ParseGUID(v); err != nil {
				return fmt.Errorf("endpoint data: PID_ENDPOINT_GUID: %w", err)
			}
			hasGUID = true
		case PID_PARTICIPANT_GUID:
			if d.Participant, err = ParseGUID(v); err != nil {
				return fmt.Errorf("endpoint data: PID_PARTICIPANT_GUID: %w", err)
			}
		case PID_TOPIC_NAME:
			if d.Topic, err = ParseString(v, bo); err != nil {
				return fmt.Errorf("endpoint data: PID_TOPIC_NAME: %w", err)
			}
			hasTopic = true
		case PID_TYPE_NAME:
			if d.Type, err = ParseString(v, bo); err != nil {
				return fmt.Errorf("endpoint data: PID_TYPE_NAME: %w", err)
			}
			hasType = true
		case PID_RELIABILITY:
			if len(v) < 4 {
				return fmt.Errorf("endpoint data: PID_RELIABILITY %d bytes: %w", len(v), ErrShort)
			}
			d.Reliability = ReliabilityKind(bo.Uint32(v))
			if len(v) >= 12 {
				d.MaxBlockingTime = readTime(v[4:], bo)
			}
		case PID_DURABILITY:
			u, err := ParseUint32(v, bo)
			if err != nil {
				return fmt.Errorf("endpoint data: PID_DURABILITY: %w", err)
			}
			d.Durability = DurabilityKind(u)
		case PID_HISTORY:
			if len(v) < 8 {
				return fmt.Errorf("endpoint data: PID_HISTORY %d bytes: %w", len(v), ErrShort)
			}
			d.History, d.Depth = HistoryKind(bo.Uint32(v)), int32(bo.Uint32(v[4:]))
		case PID_USER_DATA:
			u, err := ParseOctets(v, bo)
			if err != nil {
				return fmt.Errorf("endpoint data: PID_USER_DATA: %w", err)
			}
			d.UserData = append([]byte{}, u...)
		case PID_UNICAST_LOCATOR, PID_MULTICAST_LOCATOR:
			l, err := ParseLocator(v, bo)
			if err != nil {
				return fmt.Errorf("endpoint data: locator: %w", err)
			}
			if p.ID == PID_UNICAST_LOCATOR {
				d.Unicast = append(d.Unicast, l)
			} else {
				d.Multicast = append(d.Multicast, l)
			}
		case PID_EXPECTS_INLINE_QOS:
			d.ExpectsInlineQoS = len(v) > 0 && v[0] != 0
		case PID_PARTITION:
			n, err := ParseUint32(v, bo)
			if err != nil {
				return fmt.Errorf("endpoint data: PID_PARTITION: %w", err)
			}
			d.Partitions = int(min(n, 1<<16))
		default:
			if err := checkUnknown(p.ID); err != nil {
				return fmt.Errorf("endpoint data: %w", err)
			}
		}
	}
	if !hasGUID {
		return fmt.Errorf("endpoint data: no PID_ENDPOINT_GUID: %w", ErrInvalid)
	}
	if !hasTopic || !hasType {
		return fmt.Errorf("endpoint data %s: topic or type name missing: %w", d.GUID, ErrInvalid)
	}
	if d.Participant == (GUID{}) {
		d.Participant = GUID{Prefix: d.GUID.Prefix, Entity: EntityIDParticipant}
	}
	return nil
}
