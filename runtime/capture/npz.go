package capture

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"codeberg.org/sbinet/npyio/npz"

	"github.com/rssmd/rssmd/model/seqio"
)

// Sequence is a recorded episode in memory: the `.npz` sequence contract
// (DESIGN.md: `image` uint8 (T,H,W,3), `pre_action` float32 (T,A)), also
// accepting original AIME-NoB dataset episodes (spec §5: image float32
// 0..255, float64 arrays).
type Sequence struct {
	T, H, W int
	// Images holds T frames of H*W*3 RGB bytes, back to back.
	Images []byte
	// A is the action dimension; 0 when the file has no pre_action
	// (action-free models).
	A int
	// PreActions holds T rows of A values; row t was applied before frame t.
	PreActions []float32
}

// Image returns frame t as H*W*3 RGB bytes (a view, not a copy).
func (s *Sequence) Image(t int) []byte {
	n := s.H * s.W * 3
	return s.Images[t*n : (t+1)*n]
}

// PreAction returns row t of pre_action (a view), nil without actions.
func (s *Sequence) PreAction(t int) []float32 {
	if s.A == 0 {
		return nil
	}
	return s.PreActions[t*s.A : (t+1)*s.A]
}

// ErrSequence marks a file that is not a valid sequence.
var ErrSequence = errors.New("invalid sequence file")

// LoadSequence reads a sequence from an .npz file.
func LoadSequence(path string) (*Sequence, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load sequence: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load sequence: %w", err)
	}
	seq, err := ReadSequence(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("load sequence %s: %w", path, err)
	}
	return seq, nil
}

// ReadSequence reads a sequence from an .npz archive of the given size.
// Shapes, dtypes and sizes are checked before anything big is allocated.
func ReadSequence(r io.ReaderAt, size int64) (*Sequence, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: not a zip archive: %w", ErrSequence, err)
	}
	// The shared npz hardening (claimed sizes, .npy headers) runs before npyio sees a byte.
	if err := seqio.CheckNPZ(zr, size); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSequence, err)
	}
	members := map[string]*zip.File{}
	for _, f := range zr.File {
		members[strings.TrimSuffix(f.Name, ".npy")] = f
	}
	nr, err := npz.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSequence, err)
	}
	defer nr.Close()

	img, ok := members["image"]
	if !ok {
		return nil, fmt.Errorf("%w: no \"image\" array", ErrSequence)
	}
	typ, shape, err := header(nr, img)
	if err != nil {
		return nil, err
	}
	if len(shape) != 4 || shape[3] != 3 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1 || shape[1] > 4096 || shape[2] > 4096 {
		return nil, fmt.Errorf("%w: image has shape %v, want (T,H,W,3)", ErrSequence, shape)
	}
	seq := &Sequence{T: shape[0], H: shape[1], W: shape[2]}
	n := seq.T * seq.H * seq.W * 3
	if err := checkSize(img, typ, n); err != nil {
		return nil, err
	}
	switch typ {
	case "|u1", "<u1":
		if err := nr.Read(img.Name, &seq.Images); err != nil {
			return nil, fmt.Errorf("%w: image: %w", ErrSequence, err)
		}
	case "<f4":
		var v []float32
		if err := nr.Read(img.Name, &v); err != nil {
			return nil, fmt.Errorf("%w: image: %w", ErrSequence, err)
		}
		seq.Images = toBytes(v)
	case "<f8":
		var v []float64
		if err := nr.Read(img.Name, &v); err != nil {
			return nil, fmt.Errorf("%w: image: %w", ErrSequence, err)
		}
		seq.Images = toBytes(v)
	default:
		return nil, fmt.Errorf("%w: image has dtype %s, want uint8 or float32/float64 in 0..255", ErrSequence, typ)
	}
	if len(seq.Images) != n {
		return nil, fmt.Errorf("%w: image has %d values, want %d", ErrSequence, len(seq.Images), n)
	}

	act, ok := members["pre_action"]
	if !ok {
		return seq, nil
	}
	typ, shape, err = header(nr, act)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] != seq.T || shape[1] < 1 || shape[1] > 4096 {
		return nil, fmt.Errorf("%w: pre_action has shape %v, want (%d,A)", ErrSequence, shape, seq.T)
	}
	seq.A = shape[1]
	if err := checkSize(act, typ, seq.T*seq.A); err != nil {
		return nil, err
	}
	switch typ {
	case "<f4":
		if err := nr.Read(act.Name, &seq.PreActions); err != nil {
			return nil, fmt.Errorf("%w: pre_action: %w", ErrSequence, err)
		}
	case "<f8":
		var v []float64
		if err := nr.Read(act.Name, &v); err != nil {
			return nil, fmt.Errorf("%w: pre_action: %w", ErrSequence, err)
		}
		seq.PreActions = make([]float32, len(v))
		for i, x := range v {
			seq.PreActions[i] = float32(x)
		}
	default:
		return nil, fmt.Errorf("%w: pre_action has dtype %s, want float32 or float64", ErrSequence, typ)
	}
	if len(seq.PreActions) != seq.T*seq.A {
		return nil, fmt.Errorf("%w: pre_action has %d values, want %d", ErrSequence, len(seq.PreActions), seq.T*seq.A)
	}
	return seq, nil
}

// header reads an array's dtype and shape without reading its data.
func header(nr *npz.Reader, f *zip.File) (typ string, shape []int, err error) {
	// Last line of defence: npyio's header parser is not hardened against
	// every malformed dict; a panic there is a bad file, not a crash.
	defer func() {
		if p := recover(); p != nil {
			typ, shape, err = "", nil, fmt.Errorf("%w: %q: malformed .npy header (%v)", ErrSequence, f.Name, p)
		}
	}()
	h := nr.Header(f.Name)
	if h == nil {
		return "", nil, fmt.Errorf("%w: %q is not a readable .npy array", ErrSequence, f.Name)
	}
	if h.Descr.Fortran {
		return "", nil, fmt.Errorf("%w: %q is in Fortran order", ErrSequence, f.Name)
	}
	for _, d := range h.Descr.Shape {
		if d < 0 || d > math.MaxInt32 {
			return "", nil, fmt.Errorf("%w: %q has shape %v", ErrSequence, f.Name, h.Descr.Shape)
		}
	}
	return strings.Trim(h.Descr.Type, `'"`), append([]int(nil), h.Descr.Shape...), nil
}

// checkSize rejects arrays whose declared element count does not fit in the
// member's (bounded) uncompressed size, before the reader allocates for it.
func checkSize(f *zip.File, typ string, elems int) error {
	esize := 0
	switch typ {
	case "|u1", "<u1":
		esize = 1
	case "<f4":
		esize = 4
	case "<f8":
		esize = 8
	default:
		return fmt.Errorf("%w: %q has unsupported dtype %s", ErrSequence, f.Name, typ)
	}
	if elems <= 0 || uint64(elems) > f.UncompressedSize64/uint64(esize) {
		return fmt.Errorf("%w: %q declares %d elements but holds %d bytes", ErrSequence, f.Name, elems, f.UncompressedSize64)
	}
	return nil
}

// toBytes rounds 0..255 floats (spec §5: dataset images are float32) to
// bytes, clamping anything outside.
func toBytes[F float32 | float64](v []F) []byte {
	out := make([]byte, len(v))
	for i, x := range v {
		f := math.Round(float64(x))
		switch {
		case !(f >= 0): // also NaN
			out[i] = 0
		case f > 255:
			out[i] = 255
		default:
			out[i] = uint8(f)
		}
	}
	return out
}

// sequenceBytes is used by tests and fuzzing: ReadSequence over a []byte.
func sequenceBytes(b []byte) (*Sequence, error) {
	return ReadSequence(bytes.NewReader(b), int64(len(b)))
}
