package bundle

//go:generate go run github.com/tinylib/msgp@v1.6.5 -file records.go -o records_gen.go -tests=false -io=false

// A corrupt header must not make the decoder allocate for billions of elements (FuzzDecodeBody
// found an array header of 3.7e9 tensors): the largest variant has a few hundred tensors, a
// shape a handful of dimensions, the metadata a few keys.
//msgp:limit arrays:65536 maps:4096

// Payload is the msgp-encoded body of a bundle file (after the fixed header).
type Payload struct {
	Kind       string            `msg:"kind"`      // KindFloat32 or KindInt8
	ArchJSON   []byte            `msg:"arch_json"` // the resolved model.Arch, JSON-encoded
	Provenance Provenance        `msg:"provenance"`
	Tensors    []TensorData      `msg:"tensors"`
	Meta       map[string]string `msg:"meta"` // free-form key/values (e.g. calibration method)
}

// Provenance records where a bundle came from.
type Provenance struct {
	SourcePath   string `msg:"source_path"`
	ModelSHA256  string `msg:"model_sha256"`  // of the original model.pt
	ConfigSHA256 string `msg:"config_sha256"` // of the original config.yaml
	CreatedBy    string `msg:"created_by"`    // tool and version
	CreatedAt    string `msg:"created_at"`    // RFC 3339
	Parent       string `msg:"parent"`        // for derived bundles (int8): sha256 of the float32 source
}

// TensorData is one named tensor: little-endian raw elements of Dtype. The elements are not
// in the msgp payload but in the file's aligned data section, at Offset, so that loading
// aliases them instead of copying.
type TensorData struct {
	Name   string `msg:"name"`
	Dtype  string `msg:"dtype"` // "f32", "i8" or "i32"
	Shape  []int  `msg:"shape"`
	Offset int64  `msg:"offset"` // byte offset in the data section, a multiple of dataAlign
	Size   int64  `msg:"size"`   // bytes
	Data   []byte `msg:"-"`      // the elements (set by the writer's caller and by Decode)
}
