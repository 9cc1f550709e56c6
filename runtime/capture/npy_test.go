package capture

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// npyArr is a test array with an explicit shape, written by writeNPY.
type npyArr struct {
	data  any // []uint8, []float32, []float64, []int32
	shape []int
}

func wrap(data any, shape []int) any { return npyArr{data, shape} }

// writeNPY writes the .npy v1.0 format: magic, header dict padded to 64
// bytes, raw little-endian C-order data.
func writeNPY(a npyArr) []byte {
	var descr string
	switch a.data.(type) {
	case []uint8:
		descr = "|u1"
	case []float32:
		descr = "<f4"
	case []float64:
		descr = "<f8"
	case []int32:
		descr = "<i4"
	case []int64:
		descr = "<i8"
	case []bool:
		descr = "|b1"
	}
	dims := make([]string, len(a.shape))
	for i, d := range a.shape {
		dims[i] = fmt.Sprint(d)
	}
	shape := "(" + strings.Join(dims, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	shape += ")"
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	binary.Write(&buf, binary.LittleEndian, a.data)
	return buf.Bytes()
}

// npzBytes zips arrays (npyArr values) into an in-memory .npz.
func npzBytes(t testing.TB, arrays map[string]any) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, k := range []string{"image", "pre_action", "is_first", StampArray} {
		v, ok := arrays[k]
		if !ok {
			continue
		}
		w, err := zw.Create(k + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(writeNPY(v.(npyArr))); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
