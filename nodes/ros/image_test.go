package ros

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/rssmd/rssmd/runtime/frame"
)

func img(enc string, w, h, step, n int) *sensor_msgs.Image {
	return &sensor_msgs.Image{
		Header: std_msgs.Header{Stamp: time.Unix(100, 5)}, Encoding: enc,
		Width: uint32(w), Height: uint32(h), Step: uint32(step), Data: make([]byte, n),
	}
}

func TestHandleImage(t *testing.T) {
	tests := []struct {
		name   string
		m      *sensor_msgs.Image
		format frame.PixelFormat
		bad    bool
	}{
		{"rgb8", img("rgb8", 4, 2, 12, 24), frame.RGB24, false},
		{"rgb8 padded rows", img("rgb8", 4, 2, 16, 28), frame.RGB24, false},
		{"bgr8", img("bgr8", 4, 2, 12, 24), frame.BGR24, false},
		{"mono8", img("mono8", 4, 2, 4, 8), frame.GRAY8, false},
		{"yuv422", img("yuv422", 4, 2, 8, 16), frame.UYVY, false},
		{"yuv422_yuy2", img("yuv422_yuy2", 4, 2, 8, 16), frame.YUYV, false},
		{"unknown encoding", img("rgb16", 4, 2, 24, 48), 0, true},
		{"short data", img("rgb8", 4, 2, 12, 23), 0, true},
		{"step below width", img("rgb8", 4, 2, 11, 24), 0, true},
		{"absurd step", img("rgb8", 4, 2, 1<<30, 24), 0, true},
		{"zero size", img("rgb8", 0, 2, 0, 0), 0, true},
		{"huge size", img("rgb8", 1<<20, 1<<20, 3<<20, 10), 0, true},
		{"odd yuv width", img("yuv422", 3, 2, 6, 12), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewImageSource(nil)
			err := s.HandleImage(tt.m)
			if tt.bad {
				if !errors.Is(err, ErrImage) {
					t.Fatalf("err = %v, want ErrImage", err)
				}
				if n, _ := s.Rejected(); n != 1 {
					t.Errorf("rejected = %d", n)
				}
				if _, ok := s.Latest(); ok {
					t.Error("a refused image became a frame")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f, ok := s.Latest()
			if !ok || f.Format != tt.format || !f.Captured.Equal(time.Unix(100, 5)) || f.Seq != 1 {
				t.Fatalf("frame %+v ok=%v", f, ok)
			}
			// The preprocessing package must accept what we hand it.
			p, err := frame.NewPreprocessor(frame.Config{Format: f.Format, Width: f.Width, Height: f.Height})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Process(make([]byte, 64*64*3), f.Frame); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHandleImageKeepsData: bgr8 and mono8 are kept as they came (no byte swap, no
// expansion: the preprocessor reads them directly) and preprocess to the RGB picture.
func TestHandleImageKeepsData(t *testing.T) {
	s := NewImageSource(nil)
	m := img("bgr8", 2, 1, 6, 6)
	copy(m.Data, []byte{1, 2, 3, 4, 5, 6})
	if err := s.HandleImage(m); err != nil {
		t.Fatal(err)
	}
	f, _ := s.Latest()
	if f.Format != frame.BGR24 || !bytes.Equal(f.Data[:6], []byte{1, 2, 3, 4, 5, 6}) {
		t.Errorf("bgr8 → %v %v", f.Format, f.Data[:6])
	}
	if got := preprocess(t, f.Frame); !bytes.Equal(got[:3], []byte{3, 2, 1}) {
		t.Errorf("bgr8 preprocessed to %v, want the RGB order", got[:3])
	}
	m = img("mono8", 2, 1, 2, 2)
	copy(m.Data, []byte{7, 9})
	if err := s.HandleImage(m); err != nil {
		t.Fatal(err)
	}
	f, _ = s.Latest()
	if f.Format != frame.GRAY8 || !bytes.Equal(f.Data, []byte{7, 9}) || f.Seq != 2 {
		t.Errorf("mono8 → %v %v seq %d", f.Format, f.Data, f.Seq)
	}
	if got := preprocess(t, f.Frame); got[0] != 7 || got[1] != 7 || got[2] != 7 {
		t.Errorf("mono8 preprocessed to %v, want gray 7", got[:3])
	}
}

func preprocess(t *testing.T, f frame.Frame) []byte {
	t.Helper()
	p, err := frame.NewPreprocessor(frame.Config{Format: f.Format, Width: f.Width, Height: f.Height, Filter: frame.Area})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, p.OutLen())
	if err := p.Process(out, f); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHandleCompressed(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 80, 48)), nil); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(7, 0)
	tests := []struct {
		name, format string
		data         []byte
		bad          bool
	}{
		{"jpeg", "jpeg", buf.Bytes(), false},
		{"image_transport format", "rgb8; jpeg compressed bgr8", buf.Bytes(), false},
		{"png", "png", buf.Bytes(), true},
		{"garbage", "jpeg", []byte("not a jpeg"), true},
		{"empty", "jpeg", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewImageSource(func() time.Time { return now })
			err := s.HandleCompressed(&sensor_msgs.CompressedImage{Format: tt.format, Data: tt.data})
			if tt.bad != (err != nil) {
				t.Fatalf("err = %v", err)
			}
			if tt.bad {
				return
			}
			f, ok := s.Latest()
			// A zero header stamp takes the node's time.
			if !ok || f.Format != frame.MJPEG || f.Width != 80 || f.Height != 48 || !f.Captured.Equal(now) {
				t.Errorf("frame %+v", f)
			}
		})
	}
}

func FuzzHandleImage(f *testing.F) {
	f.Add("rgb8", uint32(4), uint32(2), uint32(12), []byte("012345678901234567890123"))
	f.Add("yuv422", uint32(2), uint32(1), uint32(4), []byte("0123"))
	f.Fuzz(func(t *testing.T, enc string, w, h, step uint32, data []byte) {
		s := NewImageSource(nil)
		if s.HandleImage(&sensor_msgs.Image{Encoding: enc, Width: w, Height: h, Step: step, Data: data}) != nil {
			return
		}
		fr, _ := s.Latest()
		p, err := frame.NewPreprocessor(frame.Config{Format: fr.Format, Width: fr.Width, Height: fr.Height})
		if err != nil {
			return
		}
		_ = p.Process(make([]byte, 64*64*3), fr.Frame)
	})
}

// TestImageSourceSkipped: frames replaced before the tick took them are counted as skipped
// (the shared capture.Mailbox), and Latest keeps returning the newest.
func TestImageSourceSkipped(t *testing.T) {
	s := NewImageSource(nil)
	for range 3 {
		if err := s.HandleImage(img("rgb8", 2, 1, 6, 6)); err != nil {
			t.Fatal(err)
		}
	}
	if f, ok := s.Latest(); !ok || f.Seq != 3 {
		t.Fatalf("Latest = seq %d, %v; want 3", f.Seq, ok)
	}
	if f, ok := s.Latest(); !ok || f.Seq != 3 {
		t.Fatalf("second Latest = seq %d, %v; want 3 again", f.Seq, ok)
	}
	if st := s.Stats(); st.Frames != 3 || st.Skipped != 2 || !st.Connected {
		t.Errorf("stats %+v, want 3 frames, 2 skipped, connected", st)
	}
}
