// Package seqio reads and writes the `.npz` files of the rssmd filter contract: input
// sequences (image, pre_action, is_first, head targets) and named float32 output arrays.
package seqio

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npz"

	"github.com/rssmd/rssmd/model"
)

// maxElements bounds any one array read from an npz (1<<28 values: about 4,000 64x64 frames),
// so a hostile header cannot make us allocate without limit.
const maxElements = 1 << 28

// ErrFormat is wrapped by errors about arrays with the wrong dtype or shape.
var ErrFormat = errors.New("bad sequence file")

// ReadSequenceFile reads an input sequence from an .npz file.
func ReadSequenceFile(path string) (*model.Sequence, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seq, err := ReadSequence(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return seq, nil
}

// Array is one array read from an npz, converted to float32 (or kept as bytes for uint8).
type Array struct {
	Shape []int
	Dtype string
	F32   []float32 // every dtype but uint8 images
	U8    []uint8   // uint8 arrays
}

// ReadArrays reads every array of an npz held in memory.
func ReadArrays(data []byte) (map[string]*Array, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: not an npz archive: %v", ErrFormat, err)
	}
	if err := CheckNPZ(zr, int64(len(data))); err != nil {
		return nil, err
	}
	r, err := npz.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: not an npz archive: %v", ErrFormat, err)
	}
	defer r.Close()
	out := map[string]*Array{}
	for _, key := range r.Keys() {
		name := key
		if len(name) > 4 && name[len(name)-4:] == ".npy" {
			name = name[:len(name)-4]
		}
		a, err := readOne(r, key, int64(len(data)))
		if err != nil {
			return nil, fmt.Errorf("%w: array %q: %v", ErrFormat, name, err)
		}
		out[name] = a
	}
	return out, nil
}

// readOne reads one array. fileSize bounds what the header may claim: deflate cannot expand
// more than ~1032:1, so a header promising more data than that is refused before any
// allocation.
func readOne(r *npz.Reader, key string, fileSize int64) (a *Array, err error) {
	// npyio trusts the header and the data; turn any panic on a hostile file into an error
	// (CheckNPZ refuses the malformed headers we know of before this point).
	defer func() {
		if p := recover(); p != nil {
			a, err = nil, fmt.Errorf("corrupt array: %v", p)
		}
	}()
	h := r.Header(key)
	if h == nil {
		return nil, errors.New("no header")
	}
	if h.Descr.Fortran {
		return nil, errors.New("Fortran-ordered arrays are not supported")
	}
	n := 1
	for _, d := range h.Descr.Shape {
		if d < 0 || (d > 0 && n > maxElements/d) {
			return nil, fmt.Errorf("shape %v is too large", h.Descr.Shape)
		}
		n *= d
	}
	if int64(n)*8 > 1040*fileSize+(1<<20) {
		return nil, fmt.Errorf("shape %v claims more data than a %d-byte file can hold", h.Descr.Shape, fileSize)
	}
	a = &Array{Shape: slices.Clone(h.Descr.Shape), Dtype: strings.Trim(h.Descr.Type, "'")}
	rc, err := r.Open(key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	nr, err := npy.NewReader(rc)
	if err != nil {
		return nil, err
	}
	switch strings.Trim(h.Descr.Type, "'") {
	case "|u1", "<u1":
		if err := nr.Read(&a.U8); err != nil {
			return nil, err
		}
		if len(a.U8) != n {
			return nil, fmt.Errorf("holds %d values, shape %v says %d", len(a.U8), a.Shape, n)
		}
		return a, nil
	case "<f4":
		err = nr.Read(&a.F32)
	case "<f8":
		var v []float64
		err = nr.Read(&v)
		a.F32 = make([]float32, len(v))
		for i, x := range v {
			a.F32[i] = float32(x)
		}
	case "|b1":
		var v []bool
		err = nr.Read(&v)
		a.F32 = make([]float32, len(v))
		for i, x := range v {
			if x {
				a.F32[i] = 1
			}
		}
	case "<i8", "<i4", "<i2", "|i1":
		var v []int64
		err = nr.Read(&v)
		a.F32 = make([]float32, len(v))
		for i, x := range v {
			a.F32[i] = float32(x)
		}
	default:
		return nil, fmt.Errorf("dtype %s is not supported", h.Descr.Type)
	}
	if err != nil {
		return nil, err
	}
	if len(a.F32) != n {
		return nil, fmt.Errorf("holds %d values, shape %v says %d", len(a.F32), a.Shape, n)
	}
	return a, nil
}

// ReadSequence parses an input sequence. It is rssmd's one sequence reader (filter, replay
// in run, calibrate, report, tests), so every command accepts and refuses the same
// files with the same message:
//
//   - `image` (T,64,64,3) RGB, the model's input size: uint8, or float32/float64 with values
//     in 0..255 (the original datasets), rounded by model.PixelByte. A float image whose
//     maximum is ≤ 1.0 is refused: it is almost surely in 0..1 units, and read as 0..255 it
//     would filter a black video (mean ELBO −315 instead of −19) without a word.
//   - `pre_action` (T,A) float32/float64, row t applied before frame t; absent or (T,0) for
//     action-free models.
//   - optional `is_first` (T,) or (T,1), nonzero = episode start; any other (T,) or (T,1)
//     array is a per-step head target under its name (e.g. is_terminal, reward).
//
// Checks against a model's action size are the caller's (model.Filter, the pipeline).
func ReadSequence(data []byte) (*model.Sequence, error) {
	arrs, err := ReadArrays(data)
	if err != nil {
		return nil, err
	}
	img, ok := arrs["image"]
	if !ok {
		return nil, fmt.Errorf("%w: no `image` array", ErrFormat)
	}
	if len(img.Shape) != 4 || img.Shape[1] != model.ImageSize || img.Shape[2] != model.ImageSize || img.Shape[3] != 3 {
		return nil, fmt.Errorf("%w: `image` has shape %v, want (T, %d, %d, 3): RGB at the model's input size", ErrFormat, img.Shape, model.ImageSize, model.ImageSize)
	}
	seq := &model.Sequence{T: img.Shape[0], Targets: map[string][]float32{}}
	switch img.Dtype {
	case "|u1", "<u1":
		seq.Images = img.U8
	case "<f4", "<f8":
		if seq.Images, err = imageBytes(img.F32); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: `image` has dtype %s, want uint8, or float32/float64 in 0..255", ErrFormat, img.Dtype)
	}
	if pa, ok := arrs["pre_action"]; ok {
		if pa.Dtype != "<f4" && pa.Dtype != "<f8" {
			return nil, fmt.Errorf("%w: `pre_action` has dtype %s, want float32 or float64", ErrFormat, pa.Dtype)
		}
		if len(pa.Shape) != 2 || pa.Shape[0] != seq.T {
			return nil, fmt.Errorf("%w: `pre_action` has shape %v, want (%d, A), A ≥ 0", ErrFormat, pa.Shape, seq.T)
		}
		seq.ActionDim = pa.Shape[1]
		seq.PreAction = pa.F32
		if seq.PreAction == nil {
			seq.PreAction = []float32{}
		}
	}
	for name, a := range arrs {
		if name == "image" || name == "pre_action" {
			continue
		}
		if !(len(a.Shape) == 1 && a.Shape[0] == seq.T) && !(len(a.Shape) == 2 && a.Shape[0] == seq.T && a.Shape[1] == 1) {
			continue // not a per-step scalar: not ours to interpret
		}
		v := a.F32
		if a.U8 != nil {
			v = make([]float32, len(a.U8))
			for i, b := range a.U8 {
				v[i] = float32(b)
			}
		}
		if name == "is_first" {
			seq.IsFirst = make([]bool, seq.T)
			for i, x := range v {
				seq.IsFirst[i] = x != 0
			}
			continue
		}
		seq.Targets[name] = v
	}
	if err := seq.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return seq, nil
}

// imageBytes converts a float image in 0..255 units to bytes, refusing values outside
// 0..255 (NaN included) and images that look like 0..1 units.
func imageBytes(v []float32) ([]uint8, error) {
	out := make([]uint8, len(v))
	mx := float32(math.Inf(-1))
	for i, x := range v {
		if !(x >= 0 && x <= 255) {
			return nil, fmt.Errorf("%w: `image` value %v at %d is outside 0..255", ErrFormat, x, i)
		}
		mx = max(mx, x)
		out[i] = model.PixelByte(float64(x))
	}
	if mx <= 1 {
		return nil, fmt.Errorf("%w: `image` is float with maximum %v: the expected range is 0..255 (multiply 0..1 images by 255, or store uint8)", ErrFormat, mx)
	}
	return out, nil
}

// WriteArrays writes named float32 arrays to an .npz file (uncompressed, as np.savez).
func WriteArrays(path string, arrays []model.NamedArray) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := EncodeArrays(f, arrays); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// EncodeArrays writes named float32 arrays as an npz archive to w.
func EncodeArrays(w io.Writer, arrays []model.NamedArray) error {
	zw := npz.NewWriter(w)
	for _, a := range arrays {
		if err := zw.Write(a.Name+".npy", nested(a.Data, a.Shape)); err != nil {
			zw.Close()
			return err
		}
	}
	return zw.Close()
}

// nested builds slice-of-slice views over flat data so npyio writes the right shape; no
// values are copied.
func nested(data []float32, shape []int) any {
	switch len(shape) {
	case 0, 1:
		return data
	case 2:
		out := make([][]float32, shape[0])
		for i := range out {
			out[i] = data[i*shape[1] : (i+1)*shape[1]]
		}
		return out
	case 3:
		out := make([][][]float32, shape[0])
		n := shape[1] * shape[2]
		for i := range out {
			out[i] = nested(data[i*n:(i+1)*n], shape[1:]).([][]float32)
		}
		return out
	default:
		out := make([][][][]float32, shape[0])
		n := len(data) / max(shape[0], 1)
		for i := range out {
			out[i] = nested(data[i*n:(i+1)*n], shape[1:]).([][][]float32)
		}
		return out
	}
}
