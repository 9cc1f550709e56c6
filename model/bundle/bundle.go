// Package bundle is rssmd's native model file: a fixed, checksummed header followed by a
// msgp (tinylib/msgp) payload holding the resolved architecture, provenance and raw tensors.
// It loads far faster than a PyTorch checkpoint and is what `rssmd convert` and
// `rssmd calibrate` write. The package knows nothing of the model: model/ and quant/ give the
// tensors their meaning.
package bundle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"unsafe"
)

// Magic starts every bundle file.
const Magic = "RSSMDBUN"

// Version is the current file-format version. Readers refuse other versions.
const Version = 1

// Kinds of bundles.
const (
	KindFloat32 = "float32"
	KindInt8    = "int8"
)

const headerSize = 8 + 4 + 4 + 8 + 4 + 4 // magic, version, flags, payload length, crc, reserved

// maxPayload bounds what a reader will accept (4 GiB): the published models are at most
// ~620 MB as float32.
const maxPayload = 4 << 30

// Errors readers can match with errors.Is.
var (
	ErrNotBundle = errors.New("not an rssmd bundle")
	ErrVersion   = errors.New("unsupported bundle version")
	ErrCorrupt   = errors.New("corrupt bundle")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// IsBundle reports whether the first bytes of a file are a bundle's magic.
func IsBundle(prefix []byte) bool { return bytes.HasPrefix(prefix, []byte(Magic)) }

// Encode writes p as a bundle file to w.
func Encode(w io.Writer, p *Payload) error {
	body, err := p.MarshalMsg(nil)
	if err != nil {
		return fmt.Errorf("encode bundle payload: %w", err)
	}
	var hdr [headerSize]byte
	copy(hdr[:8], Magic)
	binary.LittleEndian.PutUint32(hdr[8:], Version)
	binary.LittleEndian.PutUint64(hdr[16:], uint64(len(body)))
	binary.LittleEndian.PutUint32(hdr[24:], crc32.Checksum(body, castagnoli))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}

// WriteFile writes p to path atomically (temp file + rename), so a crash never leaves a
// half-written bundle under the final name.
func WriteFile(path string, p *Payload) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := Encode(f, p); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// Decode parses a bundle held in memory, verifying magic, version, length and checksum
// before decoding anything.
func Decode(data []byte) (*Payload, error) {
	if !IsBundle(data) {
		return nil, ErrNotBundle
	}
	if len(data) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(data), headerSize)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != Version {
		return nil, fmt.Errorf("%w: file has version %d, this rssmd reads %d", ErrVersion, v, Version)
	}
	n := binary.LittleEndian.Uint64(data[16:])
	if n > maxPayload || n != uint64(len(data)-headerSize) {
		return nil, fmt.Errorf("%w: header says %d payload bytes, file has %d (truncated or padded)", ErrCorrupt, n, len(data)-headerSize)
	}
	body := data[headerSize:]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(data[24:]); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, header says %08x", ErrCorrupt, got, want)
	}
	var p Payload
	rest, err := p.UnmarshalMsg(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after the payload", ErrCorrupt, len(rest))
	}
	for i := range p.Tensors {
		if err := p.Tensors[i].check(); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// ReadFile reads and verifies a bundle file.
func ReadFile(path string) (*Payload, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func elemSize(dtype string) int {
	switch dtype {
	case "f32", "i32":
		return 4
	case "i8":
		return 1
	}
	return 0
}

func (t *TensorData) check() error {
	es := elemSize(t.Dtype)
	if es == 0 {
		return fmt.Errorf("%w: tensor %q has unknown dtype %q", ErrCorrupt, t.Name, t.Dtype)
	}
	n := 1
	for _, d := range t.Shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return fmt.Errorf("%w: tensor %q has shape %v", ErrCorrupt, t.Name, t.Shape)
		}
		n *= d
	}
	if n*es != len(t.Data) {
		return fmt.Errorf("%w: tensor %q has shape %v (%d bytes of %s) but %d bytes", ErrCorrupt, t.Name, t.Shape, n*es, t.Dtype, len(t.Data))
	}
	return nil
}

// Float32 returns the tensor's values. It copies so callers own aligned memory.
func (t *TensorData) Float32() ([]float32, error) {
	if t.Dtype != "f32" {
		return nil, fmt.Errorf("tensor %q is %s, not f32", t.Name, t.Dtype)
	}
	out := make([]float32, len(t.Data)/4)
	if nativeLittle {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), len(t.Data)), t.Data)
		return out, nil
	}
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// Int8 returns the tensor's values.
func (t *TensorData) Int8() ([]int8, error) {
	if t.Dtype != "i8" {
		return nil, fmt.Errorf("tensor %q is %s, not i8", t.Name, t.Dtype)
	}
	out := make([]int8, len(t.Data))
	for i, b := range t.Data {
		out[i] = int8(b)
	}
	return out, nil
}

// Int32 returns the tensor's values.
func (t *TensorData) Int32() ([]int32, error) {
	if t.Dtype != "i32" {
		return nil, fmt.Errorf("tensor %q is %s, not i32", t.Name, t.Dtype)
	}
	out := make([]int32, len(t.Data)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// FromFloat32 packs float32 values.
func FromFloat32(name string, shape []int, v []float32) TensorData {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return TensorData{Name: name, Dtype: "f32", Shape: shape, Data: b}
}

// FromInt8 packs int8 values.
func FromInt8(name string, shape []int, v []int8) TensorData {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return TensorData{Name: name, Dtype: "i8", Shape: shape, Data: b}
}

// FromInt32 packs int32 values.
func FromInt32(name string, shape []int, v []int32) TensorData {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return TensorData{Name: name, Dtype: "i32", Shape: shape, Data: b}
}

var nativeLittle = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
