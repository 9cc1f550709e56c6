// Package cdr encodes and decodes plain CDR (OMG CDR as used by XCDR version 1), the payload
// format every ROS 2 RMW puts in a DDS DATA submessage: a 4-byte encapsulation header
// (CDR_LE 0x0001 or CDR_BE 0x0000, two option bytes) followed by the data, each primitive of
// size n aligned to n bytes (at most 8) relative to the first byte after the header. Strings
// are a uint32 length that counts the terminating NUL, the bytes and the NUL; sequences are a
// uint32 count and the elements; arrays are the elements only.
//
// The Encoder appends to a caller-owned slice and allocates nothing once that slice has room;
// it always writes little endian, as ROS 2 RMWs do. The Decoder reads either byte order,
// checks every length against what is left of the buffer before it reads or allocates, and
// keeps the first error (wrapping ErrTruncated, ErrInvalid or ErrEncapsulation, with what was
// being read and where), so message decoders read all their fields and check Err once.
package cdr
