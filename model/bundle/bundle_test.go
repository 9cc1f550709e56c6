package bundle_test

import (
	"bytes"
	"testing"

	"github.com/rssmd/rssmd/model/bundle"
)

func sample(t testing.TB) []byte {
	t.Helper()
	p := &bundle.Payload{
		Kind:       bundle.KindInt8,
		ArchJSON:   []byte(`{"Deter":4}`),
		Provenance: bundle.Provenance{SourcePath: "x", ModelSHA256: "ab"},
		Tensors: []bundle.TensorData{
			bundle.FromFloat32("a", []int{2, 2}, []float32{1, -2, 3.5, 4}),
			bundle.FromInt8("b", []int{3}, []int8{-127, 0, 127}),
			bundle.FromInt32("c", []int{1}, []int32{-7}),
		},
		Meta: map[string]string{"method": "mse"},
	}
	var buf bytes.Buffer
	if err := bundle.Encode(&buf, p); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	p, err := bundle.Decode(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != bundle.KindInt8 || p.Meta["method"] != "mse" || p.Provenance.ModelSHA256 != "ab" || len(p.Tensors) != 3 {
		t.Fatalf("decoded %+v", p)
	}
	f, err := p.Tensors[0].Float32()
	if err != nil || len(f) != 4 || f[2] != 3.5 {
		t.Fatalf("f32 %v %v", f, err)
	}
	i8, err := p.Tensors[1].Int8()
	if err != nil || i8[0] != -127 || i8[2] != 127 {
		t.Fatalf("i8 %v %v", i8, err)
	}
	i32, err := p.Tensors[2].Int32()
	if err != nil || i32[0] != -7 {
		t.Fatalf("i32 %v %v", i32, err)
	}
	if _, err := p.Tensors[1].Float32(); err == nil {
		t.Error("i8 tensor read as f32")
	}
}

// TestEveryTruncationFails: cutting the file anywhere is an error.
func TestEveryTruncationFails(t *testing.T) {
	data := sample(t)
	for n := 0; n < len(data); n++ {
		if _, err := bundle.Decode(data[:n]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(data))
		}
	}
}

// FuzzDecode: hostile bundles give errors, never panics; accepted tensors are consistent.
func FuzzDecode(f *testing.F) {
	f.Add(sample(f))
	f.Add([]byte(bundle.Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := bundle.Decode(data)
		if err != nil {
			return
		}
		for _, td := range p.Tensors {
			n := 1
			for _, d := range td.Shape {
				n *= d
			}
			switch td.Dtype {
			case "f32":
				v, err := td.Float32()
				if err != nil || len(v) != n {
					t.Fatalf("tensor %q: %d values for shape %v (%v)", td.Name, len(v), td.Shape, err)
				}
			case "i8":
				if len(td.Data) != n {
					t.Fatalf("tensor %q: %d bytes for shape %v", td.Name, len(td.Data), td.Shape)
				}
			}
		}
	})
}
