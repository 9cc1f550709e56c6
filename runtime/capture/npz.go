package capture

import (
	"fmt"

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

// ErrSequence marks a file that is not a valid sequence. It is seqio.ErrFormat:
// replay refuses exactly what the offline tools refuse.
var ErrSequence = seqio.ErrFormat

// LoadSequence reads a sequence from an .npz file.
func LoadSequence(path string) (*Sequence, error) {
	s, err := seqio.ReadSequenceFile(path)
	if err != nil {
		return nil, fmt.Errorf("load sequence: %w", err)
	}
	return fromModel(s), nil
}

func fromModel(s *model.Sequence) *Sequence {
	return &Sequence{
		T: s.T, H: model.ImageSize, W: model.ImageSize, Images: s.Images,
		A: s.ActionDim, PreActions: s.PreAction,
	}
}

// sequenceBytes is LoadSequence over a []byte, for tests and fuzzing.
func sequenceBytes(b []byte) (*Sequence, error) {
	s, err := seqio.ReadSequence(b)
	if err != nil {
		return nil, err
	}
	return fromModel(s), nil
}
