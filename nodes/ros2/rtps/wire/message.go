package wire

import (
	"encoding/binary"
	"fmt"
)

// HeaderSize is the size of the RTPS message header (§9.4.4).
const HeaderSize = 20

// protocolRTPS is the magic that starts every message (§9.4.4).
var protocolRTPS = [4]byte{'R', 'T', 'P', 'S'}

// Header starts every RTPS message (§8.3.6, 9.4.4).
type Header struct {
	Version ProtocolVersion
	Vendor  VendorID
	Prefix  GUIDPrefix
}

// Append appends the encoded header.
func (h *Header) Append(b []byte) []byte {
	b = append(b, protocolRTPS[:]...)
	b = append(b, h.Version.Major, h.Version.Minor, h.Vendor[0], h.Vendor[1])
	return append(b, h.Prefix[:]...)
}

// Unmarshal decodes the header from the start of a datagram.
func (h *Header) Unmarshal(b []byte) error {
	if len(b) < HeaderSize {
		return fmt.Errorf("rtps header: %d bytes, need %d: %w", len(b), HeaderSize, ErrShort)
	}
	if [4]byte(b[:4]) != protocolRTPS {
		return fmt.Errorf("rtps header: magic %q is not \"RTPS\": %w", b[:4], ErrInvalid)
	}
	h.Version = ProtocolVersion{b[4], b[5]}
	if h.Version.Major != 2 {
		// §8.3.6.3: a header with another major version is invalid.
		return fmt.Errorf("rtps header: protocol version %d.%d: %w", b[4], b[5], ErrInvalid)
	}
	h.Vendor = VendorID{b[6], b[7]}
	copy(h.Prefix[:], b[8:20])
	return nil
}

// SubmessageKind identifies a submessage (§9.4.5.1.1).
type SubmessageKind byte

// Submessage ids (§9.4.5.1.1, Table 9.13).
const (
	PAD            SubmessageKind = 0x01
	ACKNACK        SubmessageKind = 0x06
	HEARTBEAT      SubmessageKind = 0x07
	GAP            SubmessageKind = 0x08
	INFO_TS        SubmessageKind = 0x09
	INFO_SRC       SubmessageKind = 0x0c
	INFO_REPLY_IP4 SubmessageKind = 0x0d
	INFO_DST       SubmessageKind = 0x0e
	INFO_REPLY     SubmessageKind = 0x0f
	NACK_FRAG      SubmessageKind = 0x12
	HEARTBEAT_FRAG SubmessageKind = 0x13
	DATA           SubmessageKind = 0x15
	DATA_FRAG      SubmessageKind = 0x16
)

// Submessage flags (§9.4.5, per submessage). FlagE (endianness) is common
// to all.
const (
	FlagE = 0x01 // little endian
	// DATA
	DataFlagQ = 0x02 // inline QoS present
	DataFlagD = 0x04 // serialized data present
	DataFlagK = 0x08 // serialized key present
	// DATA_FRAG
	DataFragFlagQ = 0x02
	DataFragFlagK = 0x04
	// HEARTBEAT
	HeartbeatFlagF = 0x02 // final: no response required
	HeartbeatFlagL = 0x04 // liveliness
	// ACKNACK
	AckNackFlagF = 0x02
	// INFO_TS
	InfoTSFlagI = 0x02 // invalidate: no timestamp follows
)

// SubmessageHeaderSize is the size of a submessage header (§9.4.5.1).
const SubmessageHeaderSize = 4

// SubmessageHeader precedes every submessage (§9.4.5.1).
type SubmessageHeader struct {
	Kind  SubmessageKind
	Flags byte
	// Length is octetsToNextHeader as found on the wire.
	Length uint16
}

// LittleEndian reports the E flag.
func (s SubmessageHeader) LittleEndian() bool { return s.Flags&FlagE != 0 }

func (s SubmessageHeader) order() binary.ByteOrder {
	if s.Flags&FlagE != 0 {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

func appendSubmessageHeader(b []byte, kind SubmessageKind, flags byte) []byte {
	return append(b, byte(kind), flags|FlagE, 0, 0)
}

// finishSubmessage patches octetsToNextHeader of the submessage that starts
// at b[start:].
func finishSubmessage(b []byte, start int) []byte {
	binary.LittleEndian.PutUint16(b[start+2:], uint16(len(b)-start-SubmessageHeaderSize))
	return b
}

// Reader walks the submessages of one datagram without allocating.
type Reader struct {
	Header Header
	rest   []byte
	done   bool
}

// Reset starts reading a datagram; it fails if the header is invalid.
func (r *Reader) Reset(datagram []byte) error {
	r.done = false
	r.rest = nil
	if err := r.Header.Unmarshal(datagram); err != nil {
		return err
	}
	r.rest = datagram[HeaderSize:]
	return nil
}

// Next returns the next submessage header and body. ok is false at the end
// of the message; err reports a truncated submessage (the rest of the
// message is then unusable, §8.3.4.1).
func (r *Reader) Next() (h SubmessageHeader, body []byte, ok bool, err error) {
	if r.done || len(r.rest) == 0 {
		return h, nil, false, nil
	}
	if len(r.rest) < SubmessageHeaderSize {
		r.done = true
		return h, nil, false, fmt.Errorf("submessage header: %d bytes left: %w", len(r.rest), ErrShort)
	}
	h = SubmessageHeader{Kind: SubmessageKind(r.rest[0]), Flags: r.rest[1]}
	h.Length = h.order().Uint16(r.rest[2:])
	b := r.rest[SubmessageHeaderSize:]
	n := int(h.Length)
	if n == 0 && h.Kind != PAD && h.Kind != INFO_TS {
		// §9.4.5.1.3: the last submessage extends to the end of the message.
		n = len(b)
	}
	if n > len(b) {
		r.done = true
		return h, nil, false, fmt.Errorf("submessage 0x%02x: length %d, %d bytes left: %w", byte(h.Kind), n, len(b), ErrShort)
	}
	r.rest = b[n:]
	return h, b[:n], true, nil
}

// SequenceNumberSet is a bitmap of sequence numbers (§9.4.2.6). The bitmap
// holds at most 256 bits.
type SequenceNumberSet struct {
	Base    SequenceNumber
	NumBits uint32
	Bitmap  [8]uint32
}

// Set marks s, which must lie in [Base, Base+256).
func (s *SequenceNumberSet) Set(sn SequenceNumber) {
	d := uint32(sn - s.Base)
	s.Bitmap[d/32] |= 1 << (31 - d%32)
	if d+1 > s.NumBits {
		s.NumBits = d + 1
	}
}

// Has reports whether sn is in the set.
func (s *SequenceNumberSet) Has(sn SequenceNumber) bool {
	if sn < s.Base || sn-s.Base >= SequenceNumber(s.NumBits) {
		return false
	}
	d := uint32(sn - s.Base)
	return s.Bitmap[d/32]&(1<<(31-d%32)) != 0
}

func appendSNSet(b []byte, s *SequenceNumberSet) []byte {
	b = appendSN(b, s.Base)
	b = binary.LittleEndian.AppendUint32(b, s.NumBits)
	for i := uint32(0); i < (s.NumBits+31)/32; i++ {
		b = binary.LittleEndian.AppendUint32(b, s.Bitmap[i])
	}
	return b
}

// readSNSet decodes a set and returns the number of bytes used.
func readSNSet(b []byte, bo binary.ByteOrder, s *SequenceNumberSet) (int, error) {
	if len(b) < 12 {
		return 0, fmt.Errorf("sequence number set: %d bytes: %w", len(b), ErrShort)
	}
	s.Base = readSN(b, bo)
	s.NumBits = bo.Uint32(b[8:])
	if s.NumBits > 256 {
		return 0, fmt.Errorf("sequence number set: numBits %d > 256: %w", s.NumBits, ErrInvalid)
	}
	if s.Base < 1 && !(s.Base == 0 && s.NumBits == 0) {
		// §8.3.5.5: bitmapBase >= 1; an empty set based at 0 is what some
		// readers send as a pre-emptive ACKNACK, so it is let through.
		return 0, fmt.Errorf("sequence number set: base %d < 1: %w", s.Base, ErrInvalid)
	}
	words := int((s.NumBits + 31) / 32)
	if len(b) < 12+4*words {
		return 0, fmt.Errorf("sequence number set: %d bitmap words, %d bytes: %w", words, len(b)-12, ErrShort)
	}
	s.Bitmap = [8]uint32{}
	for i := 0; i < words; i++ {
		s.Bitmap[i] = bo.Uint32(b[12+4*i:])
	}
	if r := s.NumBits % 32; r != 0 {
		s.Bitmap[words-1] &= ^uint32(0) << (32 - r) // ignore bits beyond numBits
	}
	return 12 + 4*words, nil
}

// FragmentNumberSet is a bitmap of fragment numbers, 1-based (§9.4.2.8).
type FragmentNumberSet struct {
	Base    uint32
	NumBits uint32
	Bitmap  [8]uint32
}

// Set marks f, which must lie in [Base, Base+256).
func (s *FragmentNumberSet) Set(f uint32) {
	d := f - s.Base
	s.Bitmap[d/32] |= 1 << (31 - d%32)
	if d+1 > s.NumBits {
		s.NumBits = d + 1
	}
}

// Has reports whether f is in the set.
func (s *FragmentNumberSet) Has(f uint32) bool {
	if f < s.Base || f-s.Base >= s.NumBits {
		return false
	}
	d := f - s.Base
	return s.Bitmap[d/32]&(1<<(31-d%32)) != 0
}

func appendFNSet(b []byte, s *FragmentNumberSet) []byte {
	b = binary.LittleEndian.AppendUint32(b, s.Base)
	b = binary.LittleEndian.AppendUint32(b, s.NumBits)
	for i := uint32(0); i < (s.NumBits+31)/32; i++ {
		b = binary.LittleEndian.AppendUint32(b, s.Bitmap[i])
	}
	return b
}

func readFNSet(b []byte, bo binary.ByteOrder, s *FragmentNumberSet) (int, error) {
	if len(b) < 8 {
		return 0, fmt.Errorf("fragment number set: %d bytes: %w", len(b), ErrShort)
	}
	s.Base = bo.Uint32(b)
	s.NumBits = bo.Uint32(b[4:])
	if s.NumBits > 256 {
		return 0, fmt.Errorf("fragment number set: numBits %d > 256: %w", s.NumBits, ErrInvalid)
	}
	if s.Base < 1 {
		return 0, fmt.Errorf("fragment number set: base 0: %w", ErrInvalid)
	}
	words := int((s.NumBits + 31) / 32)
	if len(b) < 8+4*words {
		return 0, fmt.Errorf("fragment number set: %d bitmap words, %d bytes: %w", words, len(b)-8, ErrShort)
	}
	s.Bitmap = [8]uint32{}
	for i := 0; i < words; i++ {
		s.Bitmap[i] = bo.Uint32(b[8+4*i:])
	}
	if r := s.NumBits % 32; r != 0 {
		s.Bitmap[words-1] &= ^uint32(0) << (32 - r)
	}
	return 8 + 4*words, nil
}
