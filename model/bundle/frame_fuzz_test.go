package bundle

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// frame wraps a payload body and data section in a valid header, so fuzzing reaches the msgp
// decoder and the tensor checks instead of stopping at the checksum.
func frame(body, section []byte) []byte {
	pad := int(alignUp(int64(len(body)))) - len(body)
	out := make([]byte, headerSize, headerSize+len(body)+pad+len(section))
	copy(out, Magic)
	binary.LittleEndian.PutUint32(out[8:], Version)
	binary.LittleEndian.PutUint64(out[16:], uint64(len(body)))
	binary.LittleEndian.PutUint64(out[24:], uint64(len(section)))
	out = append(out, body...)
	out = append(out, make([]byte, pad)...)
	out = append(out, section...)
	binary.LittleEndian.PutUint32(out[32:], crc32.Checksum(out[headerSize:], castagnoli))
	return out
}

func FuzzDecodeBody(f *testing.F) {
	p := &Payload{Kind: KindFloat32, Tensors: []TensorData{{Name: "w", Dtype: "f32", Shape: []int{2}, Size: 8}}}
	body, err := p.MarshalMsg(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body, make([]byte, 64))
	f.Fuzz(func(t *testing.T, body, section []byte) {
		p, err := Decode(frame(body, section))
		if err != nil {
			return
		}
		for _, td := range p.Tensors {
			if err := td.check(); err != nil {
				t.Fatalf("accepted inconsistent tensor: %v", err)
			}
		}
	})
}
