package wire

import (
	"encoding/binary"
	"fmt"
)

// Data carries one change of a writer (§8.3.7, 9.4.5: Data). InlineQoS and
// Payload alias the decoded buffer.
type Data struct {
	ReaderID EntityID
	WriterID EntityID
	SN       SequenceNumber
	// InlineQoS is a raw parameter list including its sentinel, nil when
	// absent. Read it with a ParamReader in the submessage's byte order.
	InlineQoS []byte
	// Payload is the serialized data (or key when Key is set), starting with
	// the 4-byte encapsulation header.
	Payload []byte
	Key     bool
	// LittleEndian records the E flag of a decoded submessage (inline QoS
	// uses the submessage's byte order).
	LittleEndian bool
}

// dataFixed is the fixed part of DATA after the submessage header:
// extraFlags, octetsToInlineQos, readerId, writerId, writerSN.
const dataFixed = 2 + 2 + 4 + 4 + 8

// Append appends the DATA submessage.
func (d *Data) Append(b []byte) []byte {
	var flags byte
	if d.InlineQoS != nil {
		flags |= DataFlagQ
	}
	if d.Payload != nil {
		if d.Key {
			flags |= DataFlagK
		} else {
			flags |= DataFlagD
		}
	}
	start := len(b)
	b = appendSubmessageHeader(b, DATA, flags)
	b = append(b, 0, 0, 16, 0) // extraFlags, octetsToInlineQos = 16 (LE)
	b = append(b, d.ReaderID[:]...)
	b = append(b, d.WriterID[:]...)
	b = appendSN(b, d.SN)
	b = append(b, d.InlineQoS...)
	p := len(b)
	b = append(b, d.Payload...)
	b = padTo4(b, start)
	if pad := len(b) - p - len(d.Payload); pad > 0 && len(d.Payload) >= 4 {
		// XTypes 7.6.3.1.2: the encapsulation options' two low bits count
		// the padding bytes appended to the serialized payload.
		b[p+3] = b[p+3]&^3 | byte(pad)
	}
	return finishSubmessage(b, start)
}

// PayloadPadding returns how many trailing bytes of a serialized payload
// are padding, as the encapsulation options' two low bits declare (XTypes
// 7.6.3.1.2); 0 when the declaration does not fit the payload.
func PayloadPadding(payload []byte) int {
	if len(payload) < 4 {
		return 0
	}
	if pad := int(payload[3] & 3); pad <= len(payload)-4 {
		return pad
	}
	return 0
}

func padTo4(b []byte, start int) []byte {
	for (len(b)-start)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// Unmarshal decodes the body of a DATA submessage.
func (d *Data) Unmarshal(h SubmessageHeader, body []byte) error {
	if len(body) < dataFixed {
		return fmt.Errorf("DATA: %d bytes, need %d: %w", len(body), dataFixed, ErrShort)
	}
	bo := h.order()
	d.LittleEndian = h.LittleEndian()
	toQoS := int(bo.Uint16(body[2:]))
	copy(d.ReaderID[:], body[4:8])
	copy(d.WriterID[:], body[8:12])
	d.SN = readSN(body[12:], bo)
	// octetsToInlineQos counts from the end of that field (§9.4.5, Data).
	off := 4 + toQoS
	if toQoS < 16 || off > len(body) {
		return fmt.Errorf("DATA: octetsToInlineQos %d with %d bytes: %w", toQoS, len(body), ErrInvalid)
	}
	rest := body[off:]
	d.InlineQoS, d.Payload, d.Key = nil, nil, false
	if h.Flags&DataFlagQ != 0 {
		n, err := ParamListLen(rest, d.LittleEndian)
		if err != nil {
			return fmt.Errorf("DATA inline QoS: %w", err)
		}
		d.InlineQoS = rest[:n]
		rest = rest[n:]
	}
	if h.Flags&(DataFlagD|DataFlagK) != 0 {
		d.Key = h.Flags&DataFlagD == 0
		d.Payload = rest // with any padding: see PayloadPadding
	}
	return nil
}

// DataFrag carries fragments of one change (§8.3.7, 9.4.5: DataFrag).
type DataFrag struct {
	ReaderID EntityID
	WriterID EntityID
	SN       SequenceNumber
	// FragmentStart is the 1-based number of the first fragment carried.
	FragmentStart uint32
	// FragmentsInSubmessage consecutive fragments follow.
	FragmentsInSubmessage uint16
	FragmentSize          uint16
	SampleSize            uint32
	InlineQoS             []byte
	Payload               []byte
	Key                   bool
	LittleEndian          bool
}

const dataFragFixed = dataFixed + 4 + 2 + 2 + 4

// Append appends the DATA_FRAG submessage.
func (d *DataFrag) Append(b []byte) []byte {
	var flags byte
	if d.InlineQoS != nil {
		flags |= DataFragFlagQ
	}
	if d.Key {
		flags |= DataFragFlagK
	}
	start := len(b)
	b = appendSubmessageHeader(b, DATA_FRAG, flags)
	b = append(b, 0, 0, 28, 0)
	b = append(b, d.ReaderID[:]...)
	b = append(b, d.WriterID[:]...)
	b = appendSN(b, d.SN)
	b = binary.LittleEndian.AppendUint32(b, d.FragmentStart)
	b = binary.LittleEndian.AppendUint16(b, d.FragmentsInSubmessage)
	b = binary.LittleEndian.AppendUint16(b, d.FragmentSize)
	b = binary.LittleEndian.AppendUint32(b, d.SampleSize)
	b = append(b, d.InlineQoS...)
	b = append(b, d.Payload...)
	b = padTo4(b, start)
	return finishSubmessage(b, start)
}

// Unmarshal decodes and validates a DATA_FRAG body: the fragments carried
// must lie within SampleSize and Payload must hold them (the last fragment
// may be short).
func (d *DataFrag) Unmarshal(h SubmessageHeader, body []byte) error {
	if len(body) < dataFragFixed {
		return fmt.Errorf("DATA_FRAG: %d bytes, need %d: %w", len(body), dataFragFixed, ErrShort)
	}
	bo := h.order()
	d.LittleEndian = h.LittleEndian()
	toQoS := int(bo.Uint16(body[2:]))
	copy(d.ReaderID[:], body[4:8])
	copy(d.WriterID[:], body[8:12])
	d.SN = readSN(body[12:], bo)
	d.FragmentStart = bo.Uint32(body[20:])
	d.FragmentsInSubmessage = bo.Uint16(body[24:])
	d.FragmentSize = bo.Uint16(body[26:])
	d.SampleSize = bo.Uint32(body[28:])
	off := 4 + toQoS
	if toQoS < 28 || off > len(body) {
		return fmt.Errorf("DATA_FRAG: octetsToInlineQos %d with %d bytes: %w", toQoS, len(body), ErrInvalid)
	}
	if d.FragmentStart == 0 || d.FragmentSize == 0 || d.FragmentsInSubmessage == 0 {
		return fmt.Errorf("DATA_FRAG: fragment start %d, size %d, count %d: %w", d.FragmentStart, d.FragmentSize, d.FragmentsInSubmessage, ErrInvalid)
	}
	total := (uint64(d.SampleSize) + uint64(d.FragmentSize) - 1) / uint64(d.FragmentSize)
	last := uint64(d.FragmentStart) + uint64(d.FragmentsInSubmessage) - 1
	if last > total {
		return fmt.Errorf("DATA_FRAG: fragments %d..%d of %d (sample %d, fragment size %d): %w", d.FragmentStart, last, total, d.SampleSize, d.FragmentSize, ErrInvalid)
	}
	rest := body[off:]
	d.InlineQoS, d.Key = nil, h.Flags&DataFragFlagK != 0
	if h.Flags&DataFragFlagQ != 0 {
		n, err := ParamListLen(rest, d.LittleEndian)
		if err != nil {
			return fmt.Errorf("DATA_FRAG inline QoS: %w", err)
		}
		d.InlineQoS = rest[:n]
		rest = rest[n:]
	}
	begin := uint64(d.FragmentStart-1) * uint64(d.FragmentSize)
	end := min(last*uint64(d.FragmentSize), uint64(d.SampleSize))
	if uint64(len(rest)) < end-begin {
		return fmt.Errorf("DATA_FRAG: %d payload bytes for %d: %w", len(rest), end-begin, ErrShort)
	}
	d.Payload = rest[:end-begin]
	return nil
}

// Offset returns the byte offset of the first carried fragment in the sample.
func (d *DataFrag) Offset() int { return int(d.FragmentStart-1) * int(d.FragmentSize) }

// Heartbeat announces the sequence numbers a writer has (§8.3.7, 9.4.5: Heartbeat).
type Heartbeat struct {
	ReaderID   EntityID
	WriterID   EntityID
	FirstSN    SequenceNumber
	LastSN     SequenceNumber
	Count      int32
	Final      bool
	Liveliness bool
}

// Append appends the HEARTBEAT submessage.
func (m *Heartbeat) Append(b []byte) []byte {
	var flags byte
	if m.Final {
		flags |= HeartbeatFlagF
	}
	if m.Liveliness {
		flags |= HeartbeatFlagL
	}
	start := len(b)
	b = appendSubmessageHeader(b, HEARTBEAT, flags)
	b = append(b, m.ReaderID[:]...)
	b = append(b, m.WriterID[:]...)
	b = appendSN(b, m.FirstSN)
	b = appendSN(b, m.LastSN)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Count))
	return finishSubmessage(b, start)
}

// Unmarshal decodes a HEARTBEAT body.
func (m *Heartbeat) Unmarshal(h SubmessageHeader, body []byte) error {
	if len(body) < 28 {
		return fmt.Errorf("HEARTBEAT: %d bytes, need 28: %w", len(body), ErrShort)
	}
	bo := h.order()
	copy(m.ReaderID[:], body[0:4])
	copy(m.WriterID[:], body[4:8])
	m.FirstSN = readSN(body[8:], bo)
	m.LastSN = readSN(body[16:], bo)
	m.Count = int32(bo.Uint32(body[24:]))
	m.Final = h.Flags&HeartbeatFlagF != 0
	m.Liveliness = h.Flags&HeartbeatFlagL != 0
	// Heartbeat validity (§8.3.7): firstSN >= 1, lastSN >= firstSN - 1.
	if m.FirstSN < 1 || m.LastSN < m.FirstSN-1 {
		return fmt.Errorf("HEARTBEAT: first %d, last %d: %w", m.FirstSN, m.LastSN, ErrInvalid)
	}
	return nil
}

// HeartbeatFrag announces the fragments a writer has of one change
// (§8.3.7, 9.4.5: HeartbeatFrag).
type HeartbeatFrag struct {
	ReaderID        EntityID
	WriterID        EntityID
	SN              SequenceNumber
	LastFragmentNum uint32
	Count           int32
}

// Append appends the HEARTBEAT_FRAG submessage.
func (m *HeartbeatFrag) Append(b []byte) []byte {
	start := len(b)
	b = appendSubmessageHeader(b, HEARTBEAT_FRAG, 0)
	b = append(b, m.ReaderID[:]...)
	b = append(b, m.WriterID[:]...)
	b = appendSN(b, m.SN)
	b = binary.LittleEndian.AppendUint32(b, m.LastFragmentNum)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Count))
	return finishSubmessage(b, start)
}

// Unmarshal decodes a HEARTBEAT_FRAG body.
func (m *HeartbeatFrag) Unmarshal(h SubmessageHeader, body []byte) error {
	if len(body) < 24 {
		return fmt.Errorf("HEARTBEAT_FRAG: %d bytes, need 24: %w", len(body), ErrShort)
	}
	bo := h.order()
	copy(m.ReaderID[:], body[0:4])
	copy(m.WriterID[:], body[4:8])
	m.SN = readSN(body[8:], bo)
	m.LastFragmentNum = bo.Uint32(body[16:])
	m.Count = int32(bo.Uint32(body[20:]))
	if m.SN < 1 || m.LastFragmentNum < 1 {
		return fmt.Errorf("HEARTBEAT_FRAG: sn %d, last fragment %d: %w", m.SN, m.LastFragmentNum, ErrInvalid)
	}
	return nil
}

// AckNack is a reader's positive and negative acknowledgement
// (§8.3.7, 9.4.5: AckNack): everything below State.Base is acknowledged, the
// set bits are requested again.
type AckNack struct {
	ReaderID EntityID
	WriterID EntityID
	State    SequenceNumberSet
	Count    int32
	Final    bool
}

// Append appends the ACKNACK submessage.
func (m *AckNack) Append(b []byte) []byte {
	var flags byte
	if m.Final {
		flags |= AckNackFlagF
	}
	start := len(b)
	b = appendSubmessageHeader(b, ACKNACK, flags)
	b = append(b, m.ReaderID[:]...)
	b = append(b, m.WriterID[:]...)
	b = appendSNSet(b, &m.State)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Count))
	return finishSubmessage(b, start)
}

// Unmarshal decodes an ACKNACK body.
func (m *AckNack) Unmarshal(h SubmessageHeader, body []byte) error {
	if len(body) < 8 {
		return fmt.Errorf("ACKNACK: %d bytes: %w", len(body), ErrShort)
	}
	bo := h.order()
	copy(m.ReaderID[:], body[0:4])
	copy(m.WriterID[:], body[4:8])
	n, err := readSNSet(body[8:], bo, &m.State)
	if err != nil {
		return fmt.Errorf("ACKNACK: %w", err)
	}
	if len(body) < 8+n+4 {
		return fmt.Errorf("ACKNACK: no count after the set: %w", ErrShort)
	}
	m.Count = int32(bo.Uint32(body[8+n:]))
	m.Final = h.Flags&AckNackFlagF != 0
	return nil
}

// NackFrag requests fragments of one change again (§8.3.7, 9.4.5: NackFrag).
type NackFrag struct {
	ReaderID EntityID
	WriterID EntityID
	SN       SequenceNumber
	State    FragmentNumberSet
	Count    int32
}

// Append appends the NACK_FRAG submessage.
func (m *NackFrag) Append(b []byte) []byte {
	start := len(b)
	b = appendSubmessageHeader(b, NACK_FRAG, 0)
	b = append(b, m.ReaderID[:]...)
	b = append(b, m.WriterID[:]...)
	b = appendSN(b, m.SN)
	b = appendFNSet(b, &m.State)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Count))
	return finishSubmessage(b, start)
}

// Unmarshal decodes a NACK_FRAG body.
func (m *NackFrag) Unmarshal(h SubmessageHeader, body []byte) error {
	if len(body) < 16 {
		return fmt.Errorf("NACK_FRAG: %d bytes: %w", len(body), ErrShort)
	}
	bo := h.order()
	copy(m.ReaderID[:], body[0:4])
	copy(m.WriterID[:], body[4:8])
	m.SN = readSN(body[8:], bo)
	n, err := readFNSet(body[16:], bo, &m.State)
	if err != nil {
		return fmt.Errorf("NACK_FRAG: %w", err)
	}
	if len(body) < 16+n+4 {
		return fmt.Errorf("NACK_FRAG: no count after the set: %w", ErrShort)
	}
	m.Count = int32(bo.Uint32(body[16+n:]))
	return nil
}

// Gap tells a reader that sequence numbers are irrelevant: [Start,
// List.Base) plus the set bits of List (§8.3.7, 9.4.5: Gap).
type Gap struct {
	ReaderID EntityID
	WriterID EntityID
	Start    SequenceNumber
	List     SequenceNumberSet
}

// Append appends the GAP submessage.
func (m *Gap) Append(b []byte) []byte {
	start := len(b)
	b = appendSubmessageHeader(b, GAP, 0)
	b = append(b, m.ReaderID[:]...)
	b = append(b, m.WriterID[:]...)
	b = appendSN(b, m.Start)
	b = appendSNSet(b, &m.List)
	return finishSubmessage(b, start)
}

// Unmarshal decodes a GAP body (trailing GroupInfo of 2.4+ is ignored).
func (m *Gap) Unmarshal(h SubmessageHeader, body []byte) error {
	if len(body) < 16 {
		return fmt.Errorf("GAP: %d bytes: %w", len(body), ErrShort)
	}
	bo := h.order()
	copy(m.ReaderID[:], body[0:4])
	copy(m.WriterID[:], body[4:8])
	m.Start = readSN(body[8:], bo)
	if _, err := readSNSet(body[16:], bo, &m.List); err != nil {
		return fmt.Errorf("GAP: %w", err)
	}
	if m.Start < 1 || m.List.Base < m.Start {
		return fmt.Errorf("GAP: start %d, list base %d: %w", m.Start, m.List.Base, ErrInvalid)
	}
	return nil
}

// InfoTS sets the source timestamp of following submessages (§8.3.7, 9.4.5: InfoTimestamp).
type InfoTS struct {
	Timestamp  Time
	Invalidate bool
}

// Append appends the INFO_TS submessage.
func (m *InfoTS) Append(b []byte) []byte {
	var flags byte
	if m.Invalidate {
		flags |= InfoTSFlagI
	}
	start := len(b)
	b = appendSubmessageHeader(b, INFO_TS, flags)
	if !m.Invalidate {
		b = appendTime(b, m.Timestamp)
	}
	return finishSubmessage(b, start)
}

// Unmarshal decodes an INFO_TS body.
func (m *InfoTS) Unmarshal(h SubmessageHeader, body []byte) error {
	m.Invalidate = h.Flags&InfoTSFlagI != 0
	if m.Invalidate {
		m.Timestamp = TimeInvalid
		return nil
	}
	if len(body) < 8 {
		return fmt.Errorf("INFO_TS: %d bytes: %w", len(body), ErrShort)
	}
	m.Timestamp = readTime(body, h.order())
	return nil
}

// InfoDst names the participant following submessages are for (§8.3.7, 9.4.5: InfoDestination).
type InfoDst struct{ Prefix GUIDPrefix }

// Append appends the INFO_DST submessage.
func (m *InfoDst) Append(b []byte) []byte {
	start := len(b)
	b = appendSubmessageHeader(b, INFO_DST, 0)
	b = append(b, m.Prefix[:]...)
	return finishSubmessage(b, start)
}

// Unmarshal decodes an INFO_DST body.
func (m *InfoDst) Unmarshal(h SubmessageHeader, body []byte) error {
	if len(body) < 12 {
		return fmt.Errorf("INFO_DST: %d bytes: %w", len(body), ErrShort)
	}
	copy(m.Prefix[:], body)
	return nil
}

// InfoSrc changes the source of following submessages (§8.3.7, 9.4.5: InfoSource).
type InfoSrc struct {
	Version ProtocolVersion
	Vendor  VendorID
	Prefix  GUIDPrefix
}

// Append appends the INFO_SRC submessage.
func (m *InfoSrc) Append(b []byte) []byte {
	start := len(b)
	b = appendSubmessageHeader(b, INFO_SRC, 0)
	b = append(b, 0, 0, 0, 0, m.Version.Major, m.Version.Minor, m.Vendor[0], m.Vendor[1])
	b = append(b, m.Prefix[:]...)
	return finishSubmessage(b, start)
}

// Unmarshal decodes an INFO_SRC body.
func (m *InfoSrc) Unmarshal(h SubmessageHeader, body []byte) error {
	if len(body) < 20 {
		return fmt.Errorf("INFO_SRC: %d bytes: %w", len(body), ErrShort)
	}
	m.Version = ProtocolVersion{body[4], body[5]}
	m.Vendor = VendorID{body[6], body[7]}
	copy(m.Prefix[:], body[8:20])
	return nil
}
