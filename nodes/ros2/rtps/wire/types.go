// Package wire encodes and decodes DDSI-RTPS 2.x messages: the message
// header, the submessages a minimal participant needs (DATA, DATA_FRAG,
// HEARTBEAT, HEARTBEAT_FRAG, ACKNACK, NACK_FRAG, GAP, INFO_TS, INFO_DST,
// INFO_SRC) and parameter lists (discovery data and inline QoS).
//
// Decoders check every length against the buffer, never panic and never
// allocate: decoded byte fields alias the input. Encoders append little-endian
// bytes to a caller-owned slice so hot paths can reuse one buffer.
// Section numbers refer to the OMG DDSI-RTPS 2.5 specification.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ErrShort is wrapped by every error caused by a buffer shorter than a length
// field or fixed layout requires.
var ErrShort = errors.New("rtps: buffer too short")

// ErrInvalid is wrapped by errors for values the specification forbids.
var ErrInvalid = errors.New("rtps: invalid value")

// GUIDPrefix identifies a participant (§8.2.4.3, 9.3.1.1).
type GUIDPrefix [12]byte

// EntityID identifies an entity within a participant (§9.3.1.2): a 3-byte
// key followed by the entity kind.
type EntityID [4]byte

// Kind returns the entity kind octet.
func (e EntityID) Kind() byte { return e[3] }

func (e EntityID) String() string { return fmt.Sprintf("%02x%02x%02x%02x", e[0], e[1], e[2], e[3]) }

// GUID identifies an entity globally (§8.2.4.1).
type GUID struct {
	Prefix GUIDPrefix
	Entity EntityID
}

func (g GUID) String() string {
	return fmt.Sprintf("%x.%s", g.Prefix[:], g.Entity)
}

// Bytes returns the 16 octets of the GUID as they travel on the wire.
func (g GUID) Bytes() [16]byte {
	var b [16]byte
	copy(b[:12], g.Prefix[:])
	copy(b[12:], g.Entity[:])
	return b
}

// GUIDFromBytes is the inverse of Bytes.
func GUIDFromBytes(b [16]byte) GUID {
	var g GUID
	copy(g.Prefix[:], b[:12])
	copy(g.Entity[:], b[12:])
	return g
}

// Entity kinds (§9.3.1.2, Table 9.1).
const (
	EntityKindUserUnknown        = 0x00
	EntityKindUserWriterWithKey  = 0x02
	EntityKindUserWriterNoKey    = 0x03
	EntityKindUserReaderNoKey    = 0x04
	EntityKindUserReaderWithKey  = 0x07
	EntityKindBuiltinParticipant = 0xc1
	EntityKindBuiltinWriterKey   = 0xc2
	EntityKindBuiltinWriterNoKey = 0xc3
	EntityKindBuiltinReaderNoKey = 0xc4
	EntityKindBuiltinReaderKey   = 0xc7
)

// Predefined entity ids (§9.3.1.3, Table 9.2).
var (
	EntityIDUnknown                            = EntityID{0, 0, 0, 0}
	EntityIDParticipant                        = EntityID{0, 0, 1, 0xc1}
	EntityIDSEDPBuiltinTopicsAnnouncer         = EntityID{0, 0, 2, 0xc2}
	EntityIDSEDPBuiltinTopicsDetector          = EntityID{0, 0, 2, 0xc7}
	EntityIDSEDPBuiltinPublicationsAnnouncer   = EntityID{0, 0, 3, 0xc2}
	EntityIDSEDPBuiltinPublicationsDetector    = EntityID{0, 0, 3, 0xc7}
	EntityIDSEDPBuiltinSubscriptionsAnnouncer  = EntityID{0, 0, 4, 0xc2}
	EntityIDSEDPBuiltinSubscriptionsDetector   = EntityID{0, 0, 4, 0xc7}
	EntityIDSPDPBuiltinParticipantAnnouncer    = EntityID{0, 1, 0, 0xc2}
	EntityIDSPDPBuiltinParticipantDetector     = EntityID{0, 1, 0, 0xc7}
	EntityIDP2PBuiltinParticipantMessageWriter = EntityID{0, 2, 0, 0xc2}
	EntityIDP2PBuiltinParticipantMessageReader = EntityID{0, 2, 0, 0xc7}
)

// SequenceNumber numbers the changes of a writer (§8.3.5.4, 9.3.2).
// On the wire it is a signed high word and an unsigned low word.
type SequenceNumber int64

// SequenceNumberUnknown is the spec's SEQUENCENUMBER_UNKNOWN {-1, 0}.
const SequenceNumberUnknown SequenceNumber = -1 << 32

func appendSN(b []byte, s SequenceNumber) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(int64(s)>>32))
	return binary.LittleEndian.AppendUint32(b, uint32(s))
}

func readSN(b []byte, bo binary.ByteOrder) SequenceNumber {
	return SequenceNumber(int64(int32(bo.Uint32(b)))<<32 | int64(bo.Uint32(b[4:])))
}

// ProtocolVersion of RTPS (§9.3.2).
type ProtocolVersion struct{ Major, Minor byte }

// ProtocolVersion24 is the version this package announces. DDSI-RTPS 2.4
// is what Cyclone DDS 0.10 and Fast DDS 2.x speak; 2.5 adds nothing we use.
var ProtocolVersion24 = ProtocolVersion{2, 4}

// VendorID identifies the implementation (§9.3.1.5).
type VendorID [2]byte

// Known vendor ids from the OMG's vendor id list.
var (
	VendorUnknown   = VendorID{0, 0}
	VendorEProsima  = VendorID{0x01, 0x0f}
	VendorCycloneDD = VendorID{0x01, 0x10}
	// VendorRSSMD is what this package announces. 0x01f0 is not on the
	// OMG's list of assigned vendor ids (which ends well below it); peers
	// treat unknown vendors generically and ignore our vendor-specific
	// parameters, of which we send only Fast DDS's related sample identity.
	VendorRSSMD = VendorID{0x01, 0xf0}
)

// Time is the RTPS Time_t / Duration_t: seconds and 2^-32 fractions
// (§9.3.2, "Time_t").
type Time struct {
	Seconds  int32
	Fraction uint32
}

// Special times (§9.3.2).
var (
	TimeZero     = Time{0, 0}
	TimeInvalid  = Time{-1, 0xffffffff}
	TimeInfinite = Time{0x7fffffff, 0xffffffff}
)

// TimeFromGo converts a wall-clock time (seconds since the Unix epoch).
func TimeFromGo(t time.Time) Time {
	if t.IsZero() {
		return TimeZero
	}
	ns := t.UnixNano()
	sec := ns / 1e9
	rem := ns % 1e9
	if rem < 0 {
		sec--
		rem += 1e9
	}
	return Time{Seconds: int32(sec), Fraction: uint32((uint64(rem) << 32) / 1e9)}
}

// Go converts back to a time.Time; TimeZero and TimeInvalid become the zero
// time.
func (t Time) Go() time.Time {
	if t == TimeZero || t == TimeInvalid {
		return time.Time{}
	}
	ns := (uint64(t.Fraction)*1e9 + 1<<31) >> 32
	return time.Unix(int64(t.Seconds), int64(ns))
}

// DurationFromGo converts a Go duration; negative ones become zero and too
// large ones infinite.
func DurationFromGo(d time.Duration) Time {
	if d < 0 {
		return TimeZero
	}
	sec := int64(d / time.Second)
	if sec >= 0x7fffffff {
		return TimeInfinite
	}
	rem := uint64(d % time.Second)
	return Time{Seconds: int32(sec), Fraction: uint32((rem << 32) / 1e9)}
}

// Duration converts to a Go duration (infinite becomes the largest one).
func (t Time) Duration() time.Duration {
	if t == TimeInfinite {
		return 1<<63 - 1
	}
	ns := (uint64(t.Fraction)*1e9 + 1<<31) >> 32
	return time.Duration(t.Seconds)*time.Second + time.Duration(ns)
}

func appendTime(b []byte, t Time) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(t.Seconds))
	return binary.LittleEndian.AppendUint32(b, t.Fraction)
}

func readTime(b []byte, bo binary.ByteOrder) Time {
	return Time{Seconds: int32(bo.Uint32(b)), Fraction: bo.Uint32(b[4:])}
}

// Locator kinds (§9.3.2, Locator_t).
const (
	LocatorKindInvalid  = -1
	LocatorKindReserved = 0
	LocatorKindUDPv4    = 1
	LocatorKindUDPv6    = 2
)

// Locator is a transport address (§9.3.2): 24 octets on the wire.
type Locator struct {
	Kind    int32
	Port    uint32
	Address [16]byte
}

// LocatorFromAddrPort makes a UDPv4 or UDPv6 locator.
func LocatorFromAddrPort(ap netip.AddrPort) Locator {
	l := Locator{Kind: LocatorKindUDPv6, Port: uint32(ap.Port())}
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		l.Kind = LocatorKindUDPv4
		a4 := a.Unmap().As4()
		copy(l.Address[12:], a4[:])
		return l
	}
	l.Address = a.As16()
	return l
}

// AddrPort returns the UDP address, ok false for other kinds or bad ports.
func (l Locator) AddrPort() (netip.AddrPort, bool) {
	if l.Port == 0 || l.Port > 0xffff {
		return netip.AddrPort{}, false
	}
	switch l.Kind {
	case LocatorKindUDPv4:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(l.Address[12:])), uint16(l.Port)), true
	case LocatorKindUDPv6:
		return netip.AddrPortFrom(netip.AddrFrom16(l.Address), uint16(l.Port)), true
	}
	return netip.AddrPort{}, false
}

func (l Locator) String() string {
	if ap, ok := l.AddrPort(); ok {
		return ap.String()
	}
	return fmt.Sprintf("locator(kind %d, port %d)", l.Kind, l.Port)
}

// LocatorSize is the encoded size of a Locator.
const LocatorSize = 24

func appendLocator(b []byte, l Locator) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(l.Kind))
	b = binary.LittleEndian.AppendUint32(b, l.Port)
	return append(b, l.Address[:]...)
}

func readLocator(b []byte, bo binary.ByteOrder) Locator {
	l := Locator{Kind: int32(bo.Uint32(b)), Port: bo.Uint32(b[4:])}
	copy(l.Address[:], b[8:24])
	return l
}
