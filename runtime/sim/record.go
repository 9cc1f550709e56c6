package sim

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/rssmd/rssmd/runtime/frame"
)

// PreprocessConfig is the preprocessing the demo model was trained with: the
// centre square of the camera frame, bilinearly resampled to 64x64. Recording
// and the live demo both use it, so the model sees the same pixels.
func PreprocessConfig(wc WorldConfig) frame.Config {
	return frame.Config{
		Format: wc.Format, Width: wc.Width, Height: wc.Height,
		Crop: frame.CenterSquare(wc.Width, wc.Height), Filter: frame.Bilinear,
	}
}

// Episode is one recorded sequence in the .npz sequence contract.
type Episode struct {
	T int
	// Image holds T frames of 64x64x3 RGB, preprocessed exactly as at run time.
	Image []byte
	// PreAction holds T rows of ActionDim: row t is the action applied
	// before frame t; row 0 is zeros.
	PreAction []float32
	// Disturbed holds the scripted disturbance kinds of each frame (a Kind
	// mask), nil when the episode was recorded without a script. It is
	// written as the uint8 array `disturbed`, the ground truth for anomaly
	// detection tests.
	Disturbed []uint8
}

// maxEpisodeLen bounds T so that a typo cannot ask for gigabytes.
const maxEpisodeLen = 100000

// RecordEpisode resets w with seed and records T frames driven by an
// Explorer with the same seed. Frames are rendered at camera resolution and
// preprocessed by pre (see PreprocessConfig). A non-empty script disturbs
// the episode as it would a Camera (frame numbers count from 0).
func RecordEpisode(w *World, pre *frame.Preprocessor, seed uint64, T int, script Script) (*Episode, error) {
	if err := script.Validate(); err != nil {
		return nil, err
	}
	if T < 1 || T > maxEpisodeLen {
		return nil, fmt.Errorf("%w: episode length %d, want 1..%d", ErrConfig, T, maxEpisodeLen)
	}
	wc := w.Config()
	if c := pre.Config(); c.Format != wc.Format || c.Width != wc.Width || c.Height != wc.Height {
		return nil, fmt.Errorf("%w: preprocessor takes %v %dx%d, world renders %v %dx%d", ErrConfig,
			c.Format, c.Width, c.Height, wc.Format, wc.Width, wc.Height)
	}
	n := pre.OutLen()
	ep := &Episode{T: T, Image: make([]byte, T*n), PreAction: make([]float32, T*ActionDim)}
	raw := make([]byte, w.FrameLen())
	w.Reset(seed)
	w.SetDisturbances(Disturbances{})
	if len(script) > 0 {
		ep.Disturbed = make([]uint8, T)
	}
	ex := NewExplorer(seed)
	for t := range T {
		if len(script) > 0 {
			k := script.Active(uint64(t))
			ep.Disturbed[t] = uint8(k)
			w.SetDisturbances(disturbancesFor(k))
			if t > 0 && script.shoveAt(uint64(t)) {
				w.Shove(shoveImpulse[0], shoveImpulse[1])
			}
		}
		if t > 0 {
			if err := w.Step(ex.Next()); err != nil {
				return nil, err
			}
			a := w.Action()
			copy(ep.PreAction[t*ActionDim:], a[:])
		}
		if err := w.Render(raw); err != nil {
			return nil, err
		}
		f := frame.Frame{Data: raw, Format: wc.Format, Width: wc.Width, Height: wc.Height}
		if err := pre.Process(ep.Image[t*n:(t+1)*n], f); err != nil {
			return nil, fmt.Errorf("preprocess frame %d: %w", t, err)
		}
	}
	return ep, nil
}

// WriteNPZ writes the episode as an .npz (deflate-compressed, as
// np.savez_compressed): image uint8 (T,64,64,3), pre_action float32 (T,A),
// is_first bool (T,) with row 0 set, is_terminal bool (T,) all false.
func (ep *Episode) WriteNPZ(path string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write episode: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write episode %s: %w", path, cerr)
		}
	}()
	bw := bufio.NewWriter(f)
	if err := ep.EncodeNPZ(bw); err != nil {
		return fmt.Errorf("write episode %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write episode %s: %w", path, err)
	}
	return nil
}

// EncodeNPZ writes the episode's .npz to w (see WriteNPZ).
func (ep *Episode) EncodeNPZ(w io.Writer) error {
	side := int(math.Sqrt(float64(len(ep.Image) / max(1, ep.T) / 3)))
	if ep.T < 1 || len(ep.Image) != ep.T*side*side*3 || len(ep.PreAction)%ep.T != 0 {
		return fmt.Errorf("%w: inconsistent episode: T=%d, %d image bytes, %d actions", ErrConfig, ep.T, len(ep.Image), len(ep.PreAction))
	}
	A := len(ep.PreAction) / ep.T
	first := make([]byte, ep.T)
	first[0] = 1
	act := make([]byte, 4*len(ep.PreAction))
	for i, v := range ep.PreAction {
		binary.LittleEndian.PutUint32(act[4*i:], math.Float32bits(v))
	}
	zw := zip.NewWriter(w)
	arrays := []struct {
		name, descr string
		shape       []int
		data        []byte
	}{
		{"image", "|u1", []int{ep.T, side, side, 3}, ep.Image},
		{"pre_action", "<f4", []int{ep.T, A}, act},
		{"is_first", "|b1", []int{ep.T}, first},
		{"is_terminal", "|b1", []int{ep.T}, make([]byte, ep.T)},
	}
	if ep.Disturbed != nil {
		if len(ep.Disturbed) != ep.T {
			return fmt.Errorf("%w: %d disturbed flags for %d frames", ErrConfig, len(ep.Disturbed), ep.T)
		}
		arrays = append(arrays, struct {
			name, descr string
			shape       []int
			data        []byte
		}{"disturbed", "|u1", []int{ep.T}, ep.Disturbed})
	}
	for _, a := range arrays {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: a.name + ".npy", Method: zip.Deflate})
		if err != nil {
			return err
		}
		if _, err := fw.Write(npyHeader(a.descr, a.shape)); err != nil {
			return err
		}
		if _, err := fw.Write(a.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// npyHeader is the .npy v1.0 preamble: magic, version, header length and a
// Python dict literal padded with spaces to a multiple of 64 bytes.
func npyHeader(descr string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	tuple += ")"
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
	pad := 64 - (10+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	dict += strings.Repeat(" ", pad) + "\n"
	b := make([]byte, 10, 10+len(dict))
	copy(b, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(b[8:], uint16(len(dict)))
	return append(b, dict...)
}
