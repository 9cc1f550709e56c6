package capture

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npz"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

// Sequence is a recorded episode in memory, as replay plays it: the frames
// and actions of a sequence file read by seqio.ReadSequence, rssmd's one
// sequence reader (its rules: image (T,64,64,3) uint8 or float 0..255,
// pre_action (T,A) float, (T,0) or absent for action-free models).
type Sequence struct {
	T, H, W int
	// Images holds T frames of H*W*3 RGB bytes, back to back.
	Images []byte
	// A is the action dimension; 0 when the file has no pre_action
	// (action-free models).
	A int
	// PreActions holds T rows of A values; row t was applied before frame t.
	PreActions []float32
	// IsFirst marks the episode starts the file records (its is_first array), nil without
	// one; replay hands those frames out as episode starts, as `rssmd filter` treats them.
	IsFirst []bool
	// Stamps are the frames' capture times from the file's `stamp` array (StampArray), nil
	// without one; a lockstep replay stamps its frames with them.
	Stamps []time.Time
}

// StampArray names the optional per-frame capture time array of a sequence file: shape (T,),
// float64 seconds since the Unix epoch (ROS time) or int64 nanoseconds, finite and
// non-decreasing. Other tools read it as just another per-step array and ignore it.
const StampArray = "stamp"

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

// ErrSequence marks a file that is not a valid sequence. It is seqio.ErrFormat:
// replay refuses exactly what the offline tools refuse.
var ErrSequence = seqio.ErrFormat

// LoadSequence reads a sequence from an .npz file.
func LoadSequence(path string) (*Sequence, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load sequence: %w", err)
	}
	s, err := sequenceBytes(data)
	if err != nil {
		return nil, fmt.Errorf("load sequence: %s: %w", path, err)
	}
	return s, nil
}

// sequenceBytes reads a sequence held in memory: seqio's reading, plus the stamps.
func sequenceBytes(b []byte) (*Sequence, error) {
	ms, err := seqio.ReadSequence(b)
	if err != nil {
		return nil, err
	}
	s := &Sequence{
		T: ms.T, H: model.ImageSize, W: model.ImageSize, Images: ms.Images,
		A: ms.ActionDim, PreActions: ms.PreAction, IsFirst: ms.IsFirst,
	}
	if _, ok := ms.Targets[StampArray]; ok {
		// seqio keeps per-step arrays as float32 (128 s resolution for Unix seconds): read
		// the stamps again at their own precision.
		if s.Stamps, err = readStamps(b, ms.T); err != nil {
			return nil, fmt.Errorf("%w: `%s`: %w", ErrSequence, StampArray, err)
		}
	}
	return s, nil
}

// readStamps reads the stamp array of an npz that seqio already accepted (so its headers are
// sane and the array holds T values).
func readStamps(data []byte, T int) (st []time.Time, err error) {
	// npyio trusts the data it decodes; a hostile file must give an error, not a panic.
	defer func() {
		if p := recover(); p != nil {
			st, err = nil, fmt.Errorf("corrupt array: %v", p)
		}
	}()
	r, err := npz.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	key := StampArray + ".npy"
	h := r.Header(key)
	if h == nil {
		return nil, errors.New("no header")
	}
	if len(h.Descr.Shape) != 1 || h.Descr.Shape[0] != T {
		return nil, fmt.Errorf("shape %v, want (%d,)", h.Descr.Shape, T)
	}
	rc, err := r.Open(key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	nr, err := npy.NewReader(rc)
	if err != nil {
		return nil, err
	}
	st = make([]time.Time, T)
	switch dt := strings.Trim(h.Descr.Type, "'"); dt {
	case "<f8":
		var v []float64
		if err := nr.Read(&v); err != nil {
			return nil, err
		}
		if len(v) != T {
			return nil, fmt.Errorf("holds %d values, want %d", len(v), T)
		}
		for i, x := range v {
			// Seconds beyond ±292 years from 1970 do not fit a time.Duration of nanoseconds.
			if math.IsNaN(x) || math.Abs(x) > 9e9 {
				return nil, fmt.Errorf("value %v at %d is not a time in seconds", x, i)
			}
			sec, frac := math.Modf(x)
			st[i] = time.Unix(int64(sec), int64(math.Round(frac*1e9)))
		}
	case "<i8":
		var v []int64
		if err := nr.Read(&v); err != nil {
			return nil, err
		}
		if len(v) != T {
			return nil, fmt.Errorf("holds %d values, want %d", len(v), T)
		}
		for i, x := range v {
			st[i] = time.Unix(0, x)
		}
	default:
		return nil, fmt.Errorf("dtype %s, want float64 seconds or int64 nanoseconds", dt)
	}
	for i := 1; i < T; i++ {
		if st[i].Before(st[i-1]) {
			return nil, fmt.Errorf("goes back in time at %d (%v after %v)", i, st[i], st[i-1])
		}
	}
	return st, nil
}
