// Package bundle is rssmd's native model file: a fixed, checksummed header followed by a
// msgp (tinylib/msgp) payload holding the resolved architecture, provenance and raw tensors.
// It loads far faster than a PyTorch checkpoint and is what `rssmd convert` and
// `rssmd calibrate` write. The package knows nothing of the model: model/ and quant/ give the
// tensors their meaning.
package bundle

import (
	"bufio"
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

// KindPhrase names a bundle's kind in a sentence: "an int8 model", "a float32 model", or the
// quoted unknown kind.
func KindPhrase(kind string) string {
	switch kind {
	case KindInt8:
		return "an int8 model"
	case KindFloat32:
		return "a float32 model"
	}
	return fmt.Sprintf("a model of unknown kind %q", kind)
}

// The file is: a 64-byte header (magic, version, payload length, data length, CRC-32C of
// everything after the header), the msgp payload, zero padding to a multiple of dataAlign, and
// the data section holding every tensor's elements at dataAlign-aligned offsets. Loading
// reads the file once into memory and tensors alias it (no per-tensor copy).
const (
	headerSize = 64
	dataAlign  = 64
)

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

// Encode writes p as a bundle file to w. The tensors' Offset and Size are (re)assigned.
func Encode(w io.Writer, p *Payload) error {
	var off int64
	for i := range p.Tensors {
		t := &p.Tensors[i]
		t.Offset, t.Size = off, int64(len(t.Data))
		off = alignUp(off + t.Size)
	}
	body, err := p.MarshalMsg(nil)
	if err != nil {
		return fmt.Errorf("encode bundle payload: %w", err)
	}
	pad := make([]byte, alignUp(int64(len(body)))-int64(len(body)))
	crc := crc32.Update(0, castagnoli, body)
	crc = crc32.Update(crc, castagnoli, pad)
	var zeros [dataAlign]byte
	for _, t := range p.Tensors {
		crc = crc32.Update(crc, castagnoli, t.Data)
		crc = crc32.Update(crc, castagnoli, zeros[:alignUp(t.Size)-t.Size])
	}
	var hdr [headerSize]byte
	copy(hdr[:8], Magic)
	binary.LittleEndian.PutUint32(hdr[8:], Version)
	binary.LittleEndian.PutUint64(hdr[16:], uint64(len(body)))
	binary.LittleEndian.PutUint64(hdr[24:], uint64(off))
	binary.LittleEndian.PutUint32(hdr[32:], crc)
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.Write(hdr[:])
	bw.Write(body)
	bw.Write(pad)
	for _, t := range p.Tensors {
		bw.Write(t.Data)
		bw.Write(zeros[:alignUp(t.Size)-t.Size])
	}
	return bw.Flush()
}

func alignUp(n int64) int64 { return (n + dataAlign - 1) / dataAlign * dataAlign }

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

// Decode parses a bundle held in memory, verifying magic, version, lengths and checksum
// before decoding anything. The returned tensors alias data.
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
	bodyLen := binary.LittleEndian.Uint64(data[16:])
	dataLen := binary.LittleEndian.Uint64(data[24:])
	rest := uint64(len(data) - headerSize)
	if bodyLen > maxPayload || dataLen > maxPayload || uint64(alignUp(int64(bodyLen)))+dataLen != rest {
		return nil, fmt.Errorf("%w: header says %d payload + %d data bytes, file has %d after the header (truncated or padded)", ErrCorrupt, bodyLen, dataLen, rest)
	}
	if got, want := crc32.Checksum(data[headerSize:], castagnoli), binary.LittleEndian.Uint32(data[32:]); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, header says %08x", ErrCorrupt, got, want)
	}
	body := data[headerSize : headerSize+bodyLen]
	section := data[headerSize+alignUp(int64(bodyLen)):]
	var p Payload
	left, err := p.UnmarshalMsg(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(left) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after the payload", ErrCorrupt, len(left))
	}
	for i := range p.Tensors {
		t := &p.Tensors[i]
		if t.Offset < 0 || t.Size < 0 || t.Offset%dataAlign != 0 || t.Offset > int64(len(section)) || t.Size > int64(len(section))-t.Offset {
			return nil, fmt.Errorf("%w: tensor %q claims bytes %d+%d of a %d-byte data section", ErrCorrupt, t.Name, t.Offset, t.Size, len(section))
		}
		t.Data = section[t.Offset : t.Offset+t.Size : t.Offset+t.Size]
		if err := t.check(); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// ReadFile reads and verifies a bundle file.
func ReadFile(path string) (*Payload, error) {
	data, err := readAligned(path)
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

// Float32 returns the tensor's values, aliasing the file's memory when it is suitably aligned
// (the data section is 64-byte aligned when the file was read with ReadFile), else a copy.
func (t *TensorData) Float32() ([]float32, error) {
	if t.Dtype != "f32" {
		return nil, fmt.Errorf("tensor %q is %s, not f32", t.Name, t.Dtype)
	}
	if nativeLittle && len(t.Data) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(t.Data)))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(t.Data))), len(t.Data)/4), nil
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

// readAligned reads a whole file into memory whose start is 64-byte aligned, so the data
// section (at a multiple of 64 from the start) is too.
func readAligned(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	n := fi.Size()
	if n > maxPayload*2 {
		return nil, fmt.Errorf("%w: %d bytes is larger than any model", ErrCorrupt, n)
	}
	words := make([]uint64, (n+dataAlign+7)/8)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), len(words)*8)
	skip := (dataAlign - int(uintptr(unsafe.Pointer(unsafe.SliceData(raw))))%dataAlign) % dataAlign
	buf := raw[skip : skip+int(n)]
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

var nativeLittle = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
