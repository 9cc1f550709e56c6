package model

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// ErrInvalidCheckpoint is wrapped by every error that comes from the content of a checkpoint
// (as opposed to, say, a file that cannot be opened).
var ErrInvalidCheckpoint = errors.New("invalid checkpoint")

// ErrForbiddenGlobal is wrapped (with ErrInvalidCheckpoint) when data.pkl names a Python global
// that a state_dict does not need, such as os.system. Such a global is never constructed.
var ErrForbiddenGlobal = errors.New("forbidden global")

// LoadCheckpointFile reads a PyTorch state_dict checkpoint from a file; see ReadCheckpoint.
func LoadCheckpointFile(path string) (map[string]*Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	m, err := ReadCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ReadCheckpoint reads the zip checkpoint that torch.save(state_dict) writes (PyTorch ≥ 1.6)
// and returns its tensors by state_dict key, each copied out as a contiguous row-major float32
// tensor. Values that are not tensors (such as a plain dict's "_metadata") are skipped.
// Storages of other dtypes are converted to float32: float64 is rounded, float16 and bfloat16
// are exact, and integer and bool values must be exactly representable (|v| ≤ 2^24).
//
// The input is untrusted: the pickle may name only the globals a state_dict needs, every
// length, shape, offset and stride is checked against the records before anything is
// allocated, and the tensors together may not expand to more than 8× the file size.
func ReadCheckpoint(data []byte) (map[string]*Tensor, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if len(data) >= 2 && data[0] == 0x80 && data[1] <= 5 {
			return nil, fmt.Errorf("%w: a bare pickle, the legacy (pre-1.6) torch.save format, which is not supported; re-save it with a newer PyTorch", ErrInvalidCheckpoint)
		}
		return nil, fmt.Errorf("%w: not a zip archive: %w", ErrInvalidCheckpoint, err)
	}
	a := &archive{
		data:     data,
		files:    make(map[string]*zip.File, len(zr.File)),
		storages: make(map[string]*storage),
		// Compressed records are not written by torch.save; when someone re-zips a checkpoint,
		// bound what inflating may allocate.
		inflateBudget: 4*int64(len(data)) + 1<<20,
	}
	var pkls []string
	for _, f := range zr.File {
		if _, dup := a.files[f.Name]; dup {
			return nil, fmt.Errorf("%w: zip has two records named %q", ErrInvalidCheckpoint, f.Name)
		}
		a.files[f.Name] = f
		if strings.HasSuffix(f.Name, "/data.pkl") {
			pkls = append(pkls, f.Name)
		}
	}
	switch len(pkls) {
	case 0:
		return nil, fmt.Errorf("%w: no <prefix>/data.pkl record; not a torch.save zip checkpoint", ErrInvalidCheckpoint)
	case 1:
		a.prefix = strings.TrimSuffix(pkls[0], "data.pkl")
	default:
		return nil, fmt.Errorf("%w: %d data.pkl records (%s); which one holds the state_dict is ambiguous",
			ErrInvalidCheckpoint, len(pkls), strings.Join(pkls, ", "))
	}
	if err := a.checkHeaderRecords(); err != nil {
		return nil, err
	}

	pkl, err := a.record(a.prefix + "data.pkl")
	if err != nil {
		return nil, err
	}
	scan, err := scanPickle(pkl)
	if err != nil {
		return nil, err
	}
	root, err := a.unpickle(rewriteDictGlobals(pkl, scan.dictModuleAt))
	if err != nil {
		return nil, err
	}
	return materialize(root, 8*int64(len(data))+1<<20)
}

// archive is one checkpoint being read.
type archive struct {
	data          []byte
	files         map[string]*zip.File
	prefix        string // "<stem>/", the folder that holds data.pkl
	storages      map[string]*storage
	inflateBudget int64
}

// checkHeaderRecords checks the optional byteorder and version records.
func (a *archive) checkHeaderRecords() error {
	if _, ok := a.files[a.prefix+"byteorder"]; ok {
		b, err := a.record(a.prefix + "byteorder")
		if err != nil {
			return err
		}
		if order := strings.TrimSpace(string(b)); order != "little" {
			return fmt.Errorf("%w: byteorder record says %.20q; only little-endian checkpoints are supported",
				ErrInvalidCheckpoint, order)
		}
	}
	if _, ok := a.files[a.prefix+"version"]; ok {
		b, err := a.record(a.prefix + "version")
		if err != nil {
			return err
		}
		// The archive version (3 since PyTorch 1.6) concerns TorchScript; the state_dict
		// layout has not changed with it, so any positive number is accepted.
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || v < 1 {
			return fmt.Errorf("%w: version record %.20q is not a positive integer", ErrInvalidCheckpoint, b)
		}
	}
	return nil
}

// record returns the bytes of one zip record. Stored records (all that torch.save writes) are
// slices of the input after a CRC check, so storages are not copied twice.
func (a *archive) record(name string) ([]byte, error) {
	f, ok := a.files[name]
	if !ok {
		return nil, fmt.Errorf("%w: missing record %q", ErrInvalidCheckpoint, name)
	}
	if f.Method == zip.Store && f.Flags&0x1 == 0 {
		if f.CompressedSize64 != f.UncompressedSize64 {
			return nil, fmt.Errorf("%w: stored record %q has compressed size %d but size %d",
				ErrInvalidCheckpoint, name, f.CompressedSize64, f.UncompressedSize64)
		}
		off, err := f.DataOffset()
		if err != nil {
			return nil, fmt.Errorf("%w: record %q: %w", ErrInvalidCheckpoint, name, err)
		}
		if off < 0 || off > int64(len(a.data)) || f.UncompressedSize64 > uint64(int64(len(a.data))-off) {
			return nil, fmt.Errorf("%w: record %q (%d bytes at %d) runs past the end of the file (%d bytes)",
				ErrInvalidCheckpoint, name, f.UncompressedSize64, off, len(a.data))
		}
		b := a.data[off : off+int64(f.UncompressedSize64)]
		if crc32.ChecksumIEEE(b) != f.CRC32 {
			return nil, fmt.Errorf("%w: record %q: %w", ErrInvalidCheckpoint, name, zip.ErrChecksum)
		}
		return b, nil
	}
	if f.UncompressedSize64 > uint64(a.inflateBudget) {
		return nil, fmt.Errorf("%w: compressed record %q claims %d bytes, more than this file may expand to",
			ErrInvalidCheckpoint, name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: record %q: %w", ErrInvalidCheckpoint, name, err)
	}
	defer rc.Close()
	// archive/zip stops at the declared size and checks the CRC at EOF; the +1 catches a
	// reader that would go on.
	b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: record %q: %w", ErrInvalidCheckpoint, name, err)
	}
	if uint64(len(b)) != f.UncompressedSize64 {
		return nil, fmt.Errorf("%w: record %q has %d bytes, its header says %d", ErrInvalidCheckpoint, name, len(b), f.UncompressedSize64)
	}
	a.inflateBudget -= int64(len(b))
	return b, nil
}

// unpickle runs gopickle on an already scanned data.pkl.
func (a *archive) unpickle(pkl []byte) (root any, err error) {
	u := pickle.NewUnpickler(bytes.NewReader(pkl))
	u.FindClass = a.findClass
	u.PersistentLoad = a.persistentLoad
	// The scan rules out every panic we know of in gopickle; this is the last resort for
	// the ones we do not.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("%w: data.pkl: malformed pickle (%.200v)", ErrInvalidCheckpoint, r)
		}
	}()
	root, err = u.Load()
	if err != nil {
		if errors.Is(err, ErrInvalidCheckpoint) {
			return nil, shortError{err}
		}
		return nil, fmt.Errorf("%w: data.pkl: %w", ErrInvalidCheckpoint, shortError{err})
	}
	return root, nil
}

// findClass is gopickle's FindClass: the globals of allowedGlobals, nothing else.
func (a *archive) findClass(module, name string) (any, error) {
	switch module + "." + name {
	case checkedDictModule + ".OrderedDict":
		return checkedDictClass{}, nil
	case "torch._utils._rebuild_tensor_v2":
		return rebuildTensor{}, nil
	case "torch._utils._rebuild_parameter":
		return rebuildParameter{}, nil
	}
	if dt, ok := storageDTypes[name]; ok && module == "torch" {
		return &storageClass{dt}, nil
	}
	return nil, fmt.Errorf("%w: %w: data.pkl names %q", ErrInvalidCheckpoint, ErrForbiddenGlobal, module+"."+name)
}

// persistentLoad resolves a ('storage', class, key, location, numel) persistent id to the
// record data/<key>.
func (a *archive) persistentLoad(pid any) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() != 5 {
		return nil, fmt.Errorf("%w: persistent id is %T, not a 5-tuple ('storage', class, key, location, numel)", ErrInvalidCheckpoint, pid)
	}
	if tag, _ := t.Get(0).(string); tag != "storage" {
		return nil, fmt.Errorf("%w: persistent id of kind %s, not 'storage'", ErrInvalidCheckpoint, briefPickle(t.Get(0)))
	}
	cls, ok1 := t.Get(1).(*storageClass)
	key, ok2 := t.Get(2).(string)
	_, ok3 := t.Get(3).(string) // location ("cpu", "cuda:0"): irrelevant here
	numel, ok4 := t.Get(4).(int)
	if !ok1 || !ok2 || !ok3 || !ok4 || key == "" || numel < 0 {
		return nil, fmt.Errorf("%w: malformed storage persistent id (%T, %T, %T, %T)", ErrInvalidCheckpoint, t.Get(1), t.Get(2), t.Get(3), t.Get(4))
	}
	if st, ok := a.storages[key]; ok {
		if st.dtype != cls.dtype || st.numel != numel {
			return nil, fmt.Errorf("%w: storage %q referenced as %d %s and as %d %s",
				ErrInvalidCheckpoint, key, st.numel, st.dtype.name, numel, cls.dtype.name)
		}
		return st, nil
	}
	raw, err := a.record(a.prefix + "data/" + key)
	if err != nil {
		return nil, err
	}
	es := cls.dtype.elemSize
	if numel > len(raw)/es || numel*es != len(raw) {
		return nil, fmt.Errorf("%w: storage %q: record has %d bytes, the pickle says %d %s elements (%d bytes each)",
			ErrInvalidCheckpoint, key, len(raw), numel, cls.dtype.name, es)
	}
	st := &storage{key: key, dtype: cls.dtype, raw: raw, numel: numel}
	a.storages[key] = st
	return st, nil
}

// materialize copies the tensors of the top-level dict out of their storages.
func materialize(root any, maxBytes int64) (map[string]*Tensor, error) {
	var keys, vals []any
	switch d := root.(type) {
	case *checkedDict:
		if d.isDup {
			return nil, fmt.Errorf("%w: state_dict has the key %s twice", ErrInvalidCheckpoint, briefPickle(d.dup))
		}
		keys, vals = d.keys, d.vals
	case *types.Dict:
		for _, e := range *d {
			keys, vals = append(keys, e.Key), append(vals, e.Value)
		}
	default:
		return nil, fmt.Errorf("%w: data.pkl holds a %T, not a state_dict", ErrInvalidCheckpoint, root)
	}
	out := make(map[string]*Tensor, len(keys))
	var total int64
	for i, v := range vals {
		ref, ok := v.(*tensorRef)
		if !ok {
			continue // _metadata and other non-tensor values carry no weights
		}
		key, ok := keys[i].(string)
		if !ok {
			return nil, fmt.Errorf("%w: state_dict key %s is not a string", ErrInvalidCheckpoint, briefPickle(keys[i]))
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%w: state_dict has the key %q twice", ErrInvalidCheckpoint, key)
		}
		total += 4 * int64(ref.numel)
		if total > maxBytes {
			return nil, fmt.Errorf("%w: tensors expand to more than %d bytes (at %q); views of shared storages repeated too often",
				ErrInvalidCheckpoint, maxBytes, key)
		}
		t, err := ref.copyOut()
		if err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %w", ErrInvalidCheckpoint, key, err)
		}
		out[key] = t
	}
	return out, nil
}

// copyOut decodes the view into a new contiguous float32 tensor.
func (r *tensorRef) copyOut() (*Tensor, error) {
	t := &Tensor{Shape: append([]int{}, r.shape...), Data: make([]float32, r.numel)}
	es := r.st.dtype.elemSize
	if isContiguous(r.shape, r.stride) {
		return t, decodeElems(r.st.dtype, r.st.raw[r.offset*es:(r.offset+r.numel)*es], t.Data)
	}
	idx := make([]int, len(r.shape))
	pos := r.offset
	for n := range t.Data {
		if err := decodeElems(r.st.dtype, r.st.raw[pos*es:(pos+1)*es], t.Data[n:n+1]); err != nil {
			return nil, err
		}
		for d := len(idx) - 1; d >= 0; d-- { // odometer over the shape, last dim fastest
			idx[d]++
			pos += r.stride[d]
			if idx[d] < r.shape[d] {
				break
			}
			pos -= r.stride[d] * r.shape[d]
			idx[d] = 0
		}
	}
	return t, nil
}

// isContiguous reports whether stride is the row-major stride of shape; dimensions of size 1
// may have any stride.
func isContiguous(shape, stride []int) bool {
	want := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && stride[i] != want {
			return false
		}
		want *= shape[i]
	}
	return true
}

// maxExactInt is the largest integer magnitude float32 represents exactly.
const maxExactInt = 1 << 24

// decodeElems converts little-endian elements of dt to float32.
func decodeElems(dt *storageDType, src []byte, dst []float32) error {
	le := binary.LittleEndian
	exact := func(v int64) (float32, error) {
		if v < -maxExactInt || v > maxExactInt {
			return 0, fmt.Errorf("%s value %d is not exactly representable as float32", dt.name, v)
		}
		return float32(v), nil
	}
	var err error
	switch dt.name {
	case "float32":
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	case "float64":
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(src[8*i:])))
		}
	case "float16":
		for i := range dst {
			dst[i] = halfToFloat32(le.Uint16(src[2*i:]))
		}
	case "bfloat16":
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(le.Uint16(src[2*i:])) << 16)
		}
	case "int64":
		for i := range dst {
			if dst[i], err = exact(int64(le.Uint64(src[8*i:]))); err != nil {
				return err
			}
		}
	case "int32":
		for i := range dst {
			if dst[i], err = exact(int64(int32(le.Uint32(src[4*i:])))); err != nil {
				return err
			}
		}
	case "int16":
		for i := range dst {
			dst[i] = float32(int16(le.Uint16(src[2*i:])))
		}
	case "int8":
		for i := range dst {
			dst[i] = float32(int8(src[i]))
		}
	case "uint8":
		for i := range dst {
			dst[i] = float32(src[i])
		}
	case "bool":
		for i := range dst {
			dst[i] = 0
			if src[i] != 0 {
				dst[i] = 1
			}
		}
	default:
		return fmt.Errorf("no float32 conversion for %s", dt.name)
	}
	return nil
}

// halfToFloat32 converts IEEE 754 binary16 bits to float32 (exactly: every half is a float).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0: // zero or subnormal: mant × 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(f) | sign)
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	default:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	}
}

// shortError bounds the message of a gopickle error, which may print whole pickled values.
type shortError struct{ err error }

func (e shortError) Error() string {
	s := e.err.Error()
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func (e shortError) Unwrap() error { return e.err }
