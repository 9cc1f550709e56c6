package ros

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"sync"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
)

// MaxImageSide bounds the width and height of an accepted input image (8K), so that a bogus
// header cannot make us allocate or walk gigabytes.
const MaxImageSide = 8192

// ErrImage marks an input image that was refused.
var ErrImage = errors.New("image refused")

// ImageSource is the frame source fed by the ~image and ~image/compressed subscriptions: it
// keeps only the newest frame, stamped with the message's header stamp. It implements the tick
// loop's source (Latest, Stats). goroslib hands every callback a freshly decoded message that
// nobody else touches, so an rgb8 or yuv422 frame is kept without a copy. The newest frame
// waits in a capture.Mailbox, the same freshest-frame mailbox the camera uses.
type ImageSource struct {
	now func() time.Time // stamp of messages that carry none
	mb  *capture.Mailbox

	mu       sync.Mutex // also serialises publishing, so Seq order is publish order
	stats    capture.Stats
	rejected uint64
	lastErr  error
}

// NewImageSource returns an empty source; now stamps messages with a zero header stamp (the
// node's ROS time).
func NewImageSource(now func() time.Time) *ImageSource {
	if now == nil {
		now = time.Now
	}
	return &ImageSource{now: now, mb: capture.NewMailbox()}
}

// Latest implements tick.Source.
func (s *ImageSource) Latest() (capture.Frame, bool) { return s.mb.Take(false) }

// Stats implements tick.Source. Errors counts refused messages.
func (s *ImageSource) Stats() capture.Stats {
	s.mu.Lock()
	st := s.stats
	s.mu.Unlock()
	st.Skipped = s.mb.Skipped()
	return st
}

// Rejected is the number of refused messages and the last reason.
func (s *ImageSource) Rejected() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected, s.lastErr
}

// Refuse counts a message refused before it reached the source (one that did not decode).
func (s *ImageSource) Refuse(err error) { s.refuse(err) }

func (s *ImageSource) refuse(err error) error {
	s.mu.Lock()
	s.rejected++
	s.stats.Errors++
	s.stats.LastError = err.Error()
	s.lastErr = err
	s.mu.Unlock()
	return err
}

func (s *ImageSource) publish(f frame.Frame, stamp time.Time) {
	if stamp.IsZero() || stamp.Unix() == 0 {
		stamp = s.now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Frames++
	s.stats.Connected = true
	s.mb.Publish(capture.Frame{Frame: f, Seq: s.stats.Frames, Captured: stamp, Mono: time.Duration(nanotime())})
}

// HandleImage takes a sensor_msgs/Image (rgb8, bgr8, mono8, yuv422 = UYVY, yuv422_yuy2 =
// YUYV). It converts bgr8 in place and mono8 into a new buffer; the message must not be used
// by the caller afterwards.
func (s *ImageSource) HandleImage(m *sensor_msgs.Image) error {
	return s.HandleRaw(m.Encoding, int(m.Width), int(m.Height), int(m.Step), m.Data, m.Header.Stamp)
}

// HandleRaw takes an uncompressed image's fields (ROS 1 and ROS 2 messages alike). data is
// kept as it is: the caller must not change it afterwards.
func (s *ImageSource) HandleRaw(encoding string, w, h, step int, data []byte, stamp time.Time) error {
	if w <= 0 || h <= 0 || w > MaxImageSide || h > MaxImageSide {
		return s.refuse(fmt.Errorf("%w: size %dx%d, want 1..%d per side", ErrImage, w, h, MaxImageSide))
	}
	var (
		format frame.PixelFormat
		bpp    int
	)
	switch encoding {
	case "rgb8":
		format, bpp = frame.RGB24, 3
	case "bgr8":
		format, bpp = frame.BGR24, 3
	case "mono8":
		format, bpp = frame.GRAY8, 1
	case "yuv422", "uyvy":
		format, bpp = frame.UYVY, 2
	case "yuv422_yuy2", "yuyv":
		format, bpp = frame.YUYV, 2
	default:
		return s.refuse(fmt.Errorf("%w: encoding %q (want rgb8, bgr8, mono8, yuv422)", ErrImage, encoding))
	}
	if bpp == 2 && w%2 != 0 {
		return s.refuse(fmt.Errorf("%w: %s needs an even width, got %d", ErrImage, encoding, w))
	}
	if step < w*bpp || step > 4*w*bpp+64 {
		return s.refuse(fmt.Errorf("%w: step %d for width %d of %s", ErrImage, step, w, encoding))
	}
	if need := step*(h-1) + w*bpp; len(data) < need {
		return s.refuse(fmt.Errorf("%w: %d data bytes, %dx%d %s with step %d needs %d", ErrImage, len(data), w, h, encoding, step, need))
	}
	// Every encoding is a preprocessor format: the frame is kept as it came, no conversion.
	f := frame.Frame{Data: data, Format: format, Width: w, Height: h, Stride: step}
	s.publish(f, stamp)
	return nil
}

// HandleCompressed takes a sensor_msgs/CompressedImage in JPEG.
func (s *ImageSource) HandleCompressed(m *sensor_msgs.CompressedImage) error {
	return s.HandleJPEG(m.Format, m.Data, m.Header.Stamp)
}

// HandleJPEG takes a compressed image's fields; data is kept.
func (s *ImageSource) HandleJPEG(format string, data []byte, stamp time.Time) error {
	if !jpegFormat(format) {
		return s.refuse(fmt.Errorf("%w: compressed format %q (want jpeg)", ErrImage, format))
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return s.refuse(fmt.Errorf("%w: jpeg header: %w", ErrImage, err))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return s.refuse(fmt.Errorf("%w: jpeg size %dx%d", ErrImage, cfg.Width, cfg.Height))
	}
	s.publish(frame.Frame{Data: data, Format: frame.MJPEG, Width: cfg.Width, Height: cfg.Height}, stamp)
	return nil
}

// jpegFormat accepts the format strings image_transport's compressed plugin writes
// ("jpeg", "rgb8; jpeg compressed bgr8", ...).
func jpegFormat(f string) bool {
	return f == "jpeg" || f == "jpg" || bytes.Contains([]byte(f), []byte("jpeg compressed"))
}

// Next waits for a message newer than the last one taken (capture.Waiter), so
// frames can be preprocessed as they arrive (capture.Prepared).
func (s *ImageSource) Next(ctx context.Context) (capture.Frame, error) { return s.mb.Next(ctx) }
