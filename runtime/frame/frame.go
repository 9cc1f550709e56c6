// Package frame turns camera frames (YUYV, UYVY, RGB24 and MJPEG at camera
// resolution) into the 64x64 RGB uint8 HWC images the world model was trained
// on: an optional crop, colour conversion and bilinear (or area) resampling in
// one pass, with sampling tables precomputed so that a frame costs no
// allocation.
//
// MJPEG frames are decoded by our own reduced-size baseline JPEG decoder
// (jpeg_decode.go): at 1/8 of the source size (DC only: each 8x8 block's
// mean), 1/4 or 1/2 (a small IDCT on the low coefficients whose outputs are
// box means), whichever is the coarsest that leaves the crop at least the
// output size on both axes; chroma blocks yield more samples so every plane
// keeps luma's reduced resolution; Bilinear reads those planes with the
// crop mapped to reduced pixels. Area makes no planes: the decoder keeps
// each block's k x k lowest dequantised coefficients and the resampler
// integrates them over exactly the pixels each output covers
// (jpeg_area.go; k per axis and component from how many blocks an output
// spans), so an output's edges fall where they should, not on the nearest
// box edge. Against image/jpeg's full decode resampled by area in float64
// that stays within 1 LSB MAE and 40 dB PSNR on textured, noisy frames
// (TestJPEGReducedMatchesReference). Entropy decoding, the
// cost that remains, reads one coefficient per lookup only while a kept
// one may still come, then skips the block's dropped coefficients several
// at a time through a 13-bit table of code+extra-bit lengths
// (TestJPEGScanMatchesRef pins it byte for byte to the one-at-a-time loop).
//
// Bilinear on MJPEG samples the reduced planes, that is block means, not
// single source pixels, and we keep it so: measured on camera-like q85
// frames at 640x480, 720p and 1080p (TestJPEGBilinearReducedVsFull), the
// 64x64 result is 26-28 dB PSNR from bilinear on the full decode (what
// YUYV and PyTorch's F.interpolate(antialias=False) give), because at a
// 10-30x downscale two-tap bilinear aliases scene texture, and block means
// do not: the reduced result is 9.5-12 dB closer to area on the full decode
// (34-38 dB against 25-26 dB). It does matter, then: a model trained on
// full-size bilinear inputs sees smoother frames from an MJPEG camera than
// from a YUYV one, and even 1/2-scale planes stay 34-37 dB away. Use Area
// for MJPEG (and train with it) where the two must agree.
//
// Crops under 128 pixels, and streams the reduced decoder does not handle
// (progressive, arithmetic, 12-bit, 2 or 4 components, one scan per
// component), go to image/jpeg, which allocates; that fallback is logged
// once per Preprocessor.
package frame

import (
	"errors"
	"fmt"
)

// PixelFormat is the layout of Frame.Data.
type PixelFormat uint8

const (
	// FormatInvalid is the zero value; no frame has it.
	FormatInvalid PixelFormat = iota
	// YUYV is packed YUV 4:2:2 (Y0 U Y1 V), BT.601 limited range, as V4L2
	// cameras send it (V4L2_PIX_FMT_YUYV).
	YUYV
	// UYVY is packed YUV 4:2:2 with chroma first (U Y0 V Y1).
	UYVY
	// RGB24 is packed 8-bit R, G, B.
	RGB24
	// MJPEG is one baseline JPEG image per frame (JFIF full-range YCbCr),
	// possibly without Huffman tables, as UVC cameras send it.
	MJPEG
	// BGR24 is packed 8-bit B, G, R (ROS bgr8, OpenCV's order): resampled
	// as RGB24 with the channels read in reverse, so no conversion pass.
	BGR24
	// GRAY8 is 8-bit luminance (ROS mono8): every output channel is the
	// resampled gray value.
	GRAY8
)

var formatNames = [...]string{"invalid", "YUYV", "UYVY", "RGB24", "MJPEG", "BGR24", "GRAY8"}

func (f PixelFormat) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("PixelFormat(%d)", uint8(f))
}

// ParsePixelFormat reads a format name as written by String (case-sensitive,
// "YUYV", "UYVY", "RGB24", "MJPEG"), for configuration files.
func ParsePixelFormat(s string) (PixelFormat, error) {
	for i := 1; i < len(formatNames); i++ {
		if formatNames[i] == s {
			return PixelFormat(i), nil
		}
	}
	return FormatInvalid, fmt.Errorf("unknown pixel format %q (want YUYV, UYVY, RGB24, BGR24, GRAY8 or MJPEG)", s)
}

// BytesPerPixel is the packed size of one pixel, or 0 for compressed formats.
func (f PixelFormat) BytesPerPixel() int {
	switch f {
	case YUYV, UYVY:
		return 2
	case RGB24, BGR24:
		return 3
	case GRAY8:
		return 1
	}
	return 0
}

// Frame is one image as a camera delivers it. Data is not owned by Frame:
// whoever hands a Frame out says how long Data stays valid.
type Frame struct {
	Data   []byte
	Format PixelFormat
	Width  int
	Height int
	// Stride is the number of bytes from one row to the next; 0 means
	// tightly packed (Width*BytesPerPixel). Ignored for MJPEG.
	Stride int
}

// RowStride is the effective stride (Stride, or the packed row size if 0).
func (f Frame) RowStride() int {
	if f.Stride > 0 {
		return f.Stride
	}
	return f.Width * f.Format.BytesPerPixel()
}

// Rect is a region of interest in source pixels: the half-open box
// [X, X+W) x [Y, Y+H). The zero Rect means "the whole frame".
type Rect struct {
	X, Y, W, H int
}

// Empty reports whether r is the zero value (full frame).
func (r Rect) Empty() bool { return r == Rect{} }

// CenterSquare is the largest centred square of a width x height frame, the
// usual crop for a square model input from a 4:3 or 16:9 camera. The left
// edge is rounded down to an even column so YUYV chroma pairs stay aligned.
func CenterSquare(width, height int) Rect {
	s := min(width, height)
	x := (width - s) / 2 &^ 1
	return Rect{X: x, Y: (height - s) / 2, W: s, H: s}
}

// Errors returned by Process; match with errors.Is.
var (
	ErrFormat  = errors.New("frame format does not match the preprocessor")
	ErrSize    = errors.New("frame size does not match the preprocessor")
	ErrBuffer  = errors.New("buffer too small")
	ErrDecode  = errors.New("MJPEG decode failed")
	ErrNotJPEG = errors.New("not a JPEG stream")
	errBadCrop = errors.New("crop outside the frame")
	errBadConf = errors.New("invalid preprocessor config")
)
