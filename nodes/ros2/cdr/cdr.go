package cdr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Encapsulation identifiers (XTypes 1.3 §7.6.3.1.2, "RepresentationIdentifier"); ROS 2 sends
// CDR_LE and accepts CDR_BE.
const (
	EncapsulationCDRBE uint16 = 0x0000
	EncapsulationCDRLE uint16 = 0x0001
)

// HeaderSize is the size of the encapsulation header that precedes the data.
const HeaderSize = 4

var (
	// ErrTruncated: the buffer ends before the value being read.
	ErrTruncated = errors.New("cdr: truncated")
	// ErrInvalid: a value that CDR does not allow (a string without its NUL, a count that
	// cannot fit in what is left).
	ErrInvalid = errors.New("cdr: invalid value")
	// ErrEncapsulation: the payload is not plain CDR (XCDR2 and parameter lists are not).
	ErrEncapsulation = errors.New("cdr: unsupported encapsulation")
)

// Encoder appends CDR little endian to a byte slice. The zero value is not ready: call Reset,
// which writes the encapsulation header.
type Encoder struct {
	buf    []byte
	origin int // index of the first data byte, the base of alignment
}

// Reset starts a new payload appended to dst (usually dst[:0] of a reused buffer): it writes
// the encapsulation header CDR_LE with zero options.
func (e *Encoder) Reset(dst []byte) {
	e.buf = append(dst, 0x00, 0x01, 0x00, 0x00)
	e.origin = len(e.buf)
}

// Bytes returns the payload written so far, header included, as it stands.
func (e *Encoder) Bytes() []byte { return e.buf }

// Finish ends the payload and returns it: it pads the data with zeros to a multiple of 4
// bytes and records the padding in the low two bits of the options (XTypes 1.3 §7.6.3.1.2),
// as Cyclone DDS does, so a reader that trusts the options sees the exact data length.
// Nothing may be written after Finish until Reset.
func (e *Encoder) Finish() []byte {
	pad := (4 - e.Len()%4) % 4
	e.buf = append(e.buf, make([]byte, pad)...)
	e.buf[e.origin-1] = byte(pad)
	return e.buf
}

// Len is the number of data bytes written after the header.
func (e *Encoder) Len() int { return len(e.buf) - e.origin }

// align pads with zeros so the next value of size n starts at a multiple of n.
func (e *Encoder) align(n int) {
	if pad := (n - (len(e.buf)-e.origin)%n) % n; pad > 0 {
		e.buf = append(e.buf, make([]byte, pad)...) // pad <= 7: make of a constant-bounded size does not escape
	}
}

// Grow makes room for n more bytes, so a caller that knows a message's size can reserve it.
func (e *Encoder) Grow(n int) {
	if cap(e.buf)-len(e.buf) < n {
		nb := make([]byte, len(e.buf), 2*cap(e.buf)+n)
		copy(nb, e.buf)
		e.buf = nb
	}
}

// Uint8 writes an octet or uint8.
func (e *Encoder) Uint8(v uint8) { e.buf = append(e.buf, v) }

// Int8 writes an int8.
func (e *Encoder) Int8(v int8) { e.buf = append(e.buf, byte(v)) }

// Bool writes a boolean as one byte, 0 or 1.
func (e *Encoder) Bool(v bool) {
	b := byte(0)
	if v {
		b = 1
	}
	e.buf = append(e.buf, b)
}

// Uint16 writes a uint16.
func (e *Encoder) Uint16(v uint16) {
	e.align(2)
	e.buf = binary.LittleEndian.AppendUint16(e.buf, v)
}

// Int16 writes an int16.
func (e *Encoder) Int16(v int16) { e.Uint16(uint16(v)) }

// Uint32 writes a uint32.
func (e *Encoder) Uint32(v uint32) {
	e.align(4)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, v)
}

// Int32 writes an int32.
func (e *Encoder) Int32(v int32) { e.Uint32(uint32(v)) }

// Uint64 writes a uint64.
func (e *Encoder) Uint64(v uint64) {
	e.align(8)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, v)
}

// Int64 writes an int64.
func (e *Encoder) Int64(v int64) { e.Uint64(uint64(v)) }

// Float32 writes a float.
func (e *Encoder) Float32(v float32) { e.Uint32(math.Float32bits(v)) }

// Float64 writes a double.
func (e *Encoder) Float64(v float64) { e.Uint64(math.Float64bits(v)) }

// String writes a string: uint32 length counting the NUL, the bytes, the NUL.
func (e *Encoder) String(s string) {
	e.Uint32(uint32(len(s) + 1))
	e.buf = append(append(e.buf, s...), 0)
}

// SeqLen writes the element count that starts a sequence.
func (e *Encoder) SeqLen(n int) { e.Uint32(uint32(n)) }

// Octets writes a uint8/octet sequence: count, then the bytes.
func (e *Encoder) Octets(b []byte) {
	e.SeqLen(len(b))
	e.buf = append(e.buf, b...)
}

// OctetArray writes a fixed-size uint8/octet array: the bytes only.
func (e *Encoder) OctetArray(b []byte) { e.buf = append(e.buf, b...) }

// Float32s writes a float sequence: count, then the elements.
func (e *Encoder) Float32s(v []float32) {
	e.SeqLen(len(v))
	e.Grow(4 * len(v))
	n := len(e.buf)
	e.buf = e.buf[:n+4*len(v)]
	b := e.buf[n:]
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
}

// Decoder reads CDR of either byte order. Reads after the first error return zero values;
// Err reports that error.
type Decoder struct {
	buf    []byte
	pos    int
	origin int
	order  binary.ByteOrder
	err    error
}

// NewDecoder returns a decoder positioned after the encapsulation header of payload.
func NewDecoder(payload []byte) *Decoder {
	d := new(Decoder)
	d.Reset(payload)
	return d
}

// Reset starts decoding payload (header included) and returns an error wrapping
// ErrTruncated or ErrEncapsulation when the header is missing or not plain CDR. The same
// error is kept for Err.
func (d *Decoder) Reset(payload []byte) error {
	*d = Decoder{buf: payload, order: binary.LittleEndian}
	if len(payload) < HeaderSize {
		d.err = fmt.Errorf("%w: encapsulation header needs %d bytes, have %d", ErrTruncated, HeaderSize, len(payload))
		return d.err
	}
	switch id := binary.BigEndian.Uint16(payload); id {
	case EncapsulationCDRLE:
	case EncapsulationCDRBE:
		d.order = binary.BigEndian
	default:
		d.err = fmt.Errorf("%w: identifier 0x%04x (want CDR_LE 0x0001 or CDR_BE 0x0000)", ErrEncapsulation, id)
		return d.err
	}
	d.pos, d.origin = HeaderSize, HeaderSize
	return nil
}

// Err is the first error met, nil when every read so far succeeded.
func (d *Decoder) Err() error { return d.err }

// Remaining is the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.buf) - d.pos }

// Offset is the position in the data (after the header), as errors report it.
func (d *Decoder) Offset() int { return d.pos - d.origin }

// Fail records err (the first one wins) so message decoders can report their own checks
// through the same path. It returns the error kept.
func (d *Decoder) Fail(err error) error {
	if d.err == nil {
		d.err = err
	}
	return d.err
}

// take returns the next n bytes after aligning to align, or nil after recording an error.
func (d *Decoder) take(align, n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	p := d.pos
	if align > 1 {
		p += (align - (p-d.origin)%align) % align
	}
	if p > len(d.buf) || len(d.buf)-p < n {
		d.err = fmt.Errorf("%w: %s at offset %d needs %d bytes, %d left", ErrTruncated, what, p-d.origin, n, max(0, len(d.buf)-p))
		return nil
	}
	d.pos = p + n
	return d.buf[p : p+n]
}

// Uint8 reads an octet or uint8.
func (d *Decoder) Uint8() uint8 {
	if b := d.take(1, 1, "uint8"); b != nil {
		return b[0]
	}
	return 0
}

// Int8 reads an int8.
func (d *Decoder) Int8() int8 { return int8(d.Uint8()) }

// Bool reads a boolean; any nonzero byte is true, as DDS implementations read it.
func (d *Decoder) Bool() bool {
	if b := d.take(1, 1, "bool"); b != nil {
		return b[0] != 0
	}
	return false
}

// Uint16 reads a uint16.
func (d *Decoder) Uint16() uint16 {
	if b := d.take(2, 2, "uint16"); b != nil {
		return d.order.Uint16(b)
	}
	return 0
}

// Int16 reads an int16.
func (d *Decoder) Int16() int16 { return int16(d.Uint16()) }

func (d *Decoder) uint32(what string) uint32 {
	if b := d.take(4, 4, what); b != nil {
		return d.order.Uint32(b)
	}
	return 0
}

// Uint32 reads a uint32.
func (d *Decoder) Uint32() uint32 { return d.uint32("uint32") }

// Int32 reads an int32.
func (d *Decoder) Int32() int32 { return int32(d.uint32("int32")) }

// Uint64 reads a uint64.
func (d *Decoder) Uint64() uint64 {
	if b := d.take(8, 8, "uint64"); b != nil {
		return d.order.Uint64(b)
	}
	return 0
}

// Int64 reads an int64.
func (d *Decoder) Int64() int64 { return int64(d.Uint64()) }

// Float32 reads a float.
func (d *Decoder) Float32() float32 { return math.Float32frombits(d.uint32("float32")) }

// Float64 reads a double.
func (d *Decoder) Float64() float64 {
	if b := d.take(8, 8, "float64"); b != nil {
		return math.Float64frombits(d.order.Uint64(b))
	}
	return 0
}

// stringBytes reads a string's bytes without the NUL; the slice aliases the buffer.
func (d *Decoder) stringBytes() []byte {
	n := d.uint32("string length")
	if d.err != nil {
		return nil
	}
	if n == 0 {
		// Not valid CDR, but some writers send it for "": read it as empty.
		return []byte{}
	}
	if uint64(n) > uint64(d.Remaining()) {
		d.err = fmt.Errorf("%w: string of %d bytes at offset %d, %d left", ErrTruncated, n, d.Offset(), d.Remaining())
		return nil
	}
	b := d.take(1, int(n), "string")
	if b[n-1] != 0 {
		d.err = fmt.Errorf("%w: string of %d bytes at offset %d does not end in NUL", ErrInvalid, n, d.Offset()-int(n))
		return nil
	}
	return b[:n-1]
}

// String reads a string into a new Go string.
func (d *Decoder) String() string { return string(d.stringBytes()) }

// StringInto reads a string into *dst, keeping *dst (and allocating nothing) when it already
// holds the same text: frame ids and encodings repeat in every message of a topic.
func (d *Decoder) StringInto(dst *string) {
	b := d.stringBytes()
	if d.err != nil {
		*dst = ""
		return
	}
	if string(b) != *dst { // the conversion in a comparison does not allocate
		*dst = string(b)
	}
}

// SeqLen reads a sequence count and checks that count elements of at least minSize bytes
// each fit in what is left, so a caller may allocate count elements safely. minSize < 1
// counts as 1.
func (d *Decoder) SeqLen(minSize int) int {
	n := d.uint32("sequence length")
	if d.err != nil {
		return 0
	}
	minSize = max(minSize, 1)
	if uint64(n)*uint64(minSize) > uint64(d.Remaining()) {
		d.err = fmt.Errorf("%w: sequence of %d elements of at least %d bytes at offset %d, %d bytes left", ErrTruncated, n, minSize, d.Offset(), d.Remaining())
		return 0
	}
	return int(n)
}

// Octets reads a uint8/octet sequence into dst's storage (grown only when too small) and
// returns it.
func (d *Decoder) Octets(dst []byte) []byte {
	n := d.SeqLen(1)
	if d.err != nil {
		return dst[:0]
	}
	b := d.take(1, n, "octet sequence")
	return append(dst[:0], b...)
}

// OctetArray fills dst, a fixed-size uint8/octet array.
func (d *Decoder) OctetArray(dst []byte) {
	if b := d.take(1, len(dst), "octet array"); b != nil {
		copy(dst, b)
	} else {
		clear(dst)
	}
}

// Float32s reads a float sequence into dst's storage (grown only when too small).
func (d *Decoder) Float32s(dst []float32) []float32 {
	n := d.SeqLen(4)
	if d.err != nil || n == 0 {
		return dst[:0]
	}
	b := d.take(4, 4*n, "float32 sequence")
	if b == nil {
		return dst[:0]
	}
	dst = Grow(dst, n)
	for i := range dst {
		dst[i] = math.Float32frombits(d.order.Uint32(b[4*i:]))
	}
	return dst
}

// Grow returns s resliced to n elements, reusing its storage when the capacity suffices.
// Elements past the old length keep stale values; decoders overwrite them.
func Grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
