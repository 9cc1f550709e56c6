package frame

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"

	"github.com/rssmd/rssmd/armkernels"
)

// Filter selects the resampling kernel.
type Filter uint8

const (
	// Bilinear matches OpenCV INTER_LINEAR and PyTorch
	// interpolate(mode="bilinear", align_corners=False, antialias=False):
	// half-pixel centres, edge pixels replicated, no antialiasing. It is how
	// the training images that were not rendered at 64x64 were made (spec §4).
	Bilinear Filter = iota
	// Area averages every source pixel that falls into an output pixel,
	// weighted by overlap (OpenCV INTER_AREA). Better for big downscales of
	// noisy or detailed frames; costs one colour conversion per cropped source
	// pixel. For upscaling it falls back to Bilinear, as OpenCV does.
	Area
)

func (f Filter) String() string {
	switch f {
	case Bilinear:
		return "bilinear"
	case Area:
		return "area"
	}
	return fmt.Sprintf("Filter(%d)", uint8(f))
}

// Config describes the frames a Preprocessor accepts and what it makes.
type Config struct {
	// Format, Width and Height of the incoming frames (required). YUYV and
	// UYVY need an even Width.
	Format        PixelFormat
	Width, Height int
	// Crop is the region of interest in source pixels; the zero Rect (the
	// default) is the full frame. See CenterSquare.
	Crop Rect
	// OutWidth and OutHeight of the RGB output; 0 means 64, the model input.
	OutWidth, OutHeight int
	// Filter is the resampling kernel; the default is Bilinear.
	Filter Filter
	// Helpers is the armkernels helper path the run uses (go, avx2, avx512, neon): the AVX2
	// row kernel of the packed-YUV bilinear path runs with avx2 or avx512 (and an AVX2 CPU).
	// Empty means armkernels.Default()'s, so RSSMD_KERNEL forces it as it forces the int8
	// kernels, and the "int8 kernels selected" line and metric report it.
	Helpers string
	// Log receives the one notice that MJPEG frames fall back to image/jpeg;
	// nil means slog.Default().
	Log *slog.Logger
}

// maxSide bounds frame dimensions so that tables stay small and a corrupt
// config cannot ask for a huge allocation.
const maxSide = 1 << 14

// wOne is 1.0 for the per-axis resampling weights (Q14).
const (
	wBits = 14
	wOne  = 1 << wBits
)

// axis holds the taps of one resampling axis: output i reads source
// positions pos[start[i]:start[i+1]] with weights w (Q14, summing to wOne).
type axis struct {
	start []int32
	pos   []int32
	w     []int32
}

// Preprocessor converts frames of one configured format and size into
// OutHeight x OutWidth x 3 RGB bytes. It is not safe for concurrent use (it
// keeps scratch space for MJPEG); use one per goroutine.
type Preprocessor struct {
	conf Config
	xs   axis
	ys   axis
	// Byte offsets of the three samples of each x tap within a row, for the
	// packed formats: Y,U,V for YUYV/UYVY and R,G,B for RGB24.
	off0, off1, off2 []int32
	// Chroma column of each x tap for the MJPEG planes, per horizontal
	// subsampling shift (0: 4:4:4, 1: 4:2:2 and 4:2:0, 2: 4:1:1).
	cx [3][]int32
	// Two-tap tables for the fast bilinear path; nil when an axis has more
	// taps (Area downscaling) or for MJPEG.
	bcols []bcol
	brows []brow
	// bgroups: column tables of the vector row kernel (initGroups), nil where it does not
	// apply; browLen is how many bytes of a source row it reads.
	bgroups []int32
	browLen int

	jpegBuf []byte
	reader  bytes.Reader
	simd    bool       // the AVX2 row kernel (Config.Helpers)
	jpeg    *jpegState // MJPEG only, built on the first frame
	// identity: RGB24 in, uncropped, already the output size (a frame preprocessed on
	// arrival, capture.Prepared): Process copies rows.
	identity bool
}

// NewPreprocessor validates conf and precomputes the sampling tables.
func NewPreprocessor(conf Config) (*Preprocessor, error) {
	if conf.OutWidth == 0 {
		conf.OutWidth = 64
	}
	if conf.OutHeight == 0 {
		conf.OutHeight = 64
	}
	switch conf.Format {
	case YUYV, UYVY, RGB24, BGR24, GRAY8, MJPEG:
	default:
		return nil, fmt.Errorf("%w: Format: unsupported pixel format %v", errBadConf, conf.Format)
	}
	if conf.Width <= 0 || conf.Height <= 0 || conf.Width > maxSide || conf.Height > maxSide {
		return nil, fmt.Errorf("%w: Width x Height = %dx%d, want 1..%d each", errBadConf, conf.Width, conf.Height, maxSide)
	}
	if (conf.Format == YUYV || conf.Format == UYVY) && conf.Width%2 != 0 {
		return nil, fmt.Errorf("%w: Width: %v needs an even width, got %d", errBadConf, conf.Format, conf.Width)
	}
	if conf.OutWidth < 0 || conf.OutHeight < 0 || conf.OutWidth > maxSide || conf.OutHeight > maxSide {
		return nil, fmt.Errorf("%w: OutWidth x OutHeight = %dx%d, want 1..%d each", errBadConf, conf.OutWidth, conf.OutHeight, maxSide)
	}
	if conf.Filter != Bilinear && conf.Filter != Area {
		return nil, fmt.Errorf("%w: Filter: unknown filter %v", errBadConf, conf.Filter)
	}
	crop := conf.Crop
	if crop.Empty() {
		crop = Rect{W: conf.Width, H: conf.Height}
	}
	if crop.W <= 0 || crop.H <= 0 || crop.X < 0 || crop.Y < 0 ||
		crop.X > conf.Width-crop.W || crop.Y > conf.Height-crop.H {
		return nil, fmt.Errorf("%w: Crop %+v in a %dx%d frame", errBadCrop, crop, conf.Width, conf.Height)
	}
	conf.Crop = crop

	p := &Preprocessor{conf: conf}
	p.identity = conf.Format == RGB24 && crop == Rect{W: conf.Width, H: conf.Height} &&
		conf.Width == conf.OutWidth && conf.Height == conf.OutHeight
	h := conf.Helpers
	if h == "" {
		h = armkernels.Default().Helpers
	}
	p.simd = hasAVX2 && (h == "avx2" || h == "avx512")
	p.xs = makeAxis(crop.X, crop.W, conf.OutWidth, conf.Filter)
	p.ys = makeAxis(crop.Y, crop.H, conf.OutHeight, conf.Filter)
	n := len(p.xs.pos)
	p.off0, p.off1, p.off2 = make([]int32, n), make([]int32, n), make([]int32, n)
	for i, x := range p.xs.pos {
		switch conf.Format {
		case YUYV:
			p.off0[i], p.off1[i], p.off2[i] = 2*x, 4*(x>>1)+1, 4*(x>>1)+3
		case UYVY:
			p.off0[i], p.off1[i], p.off2[i] = 2*x+1, 4*(x>>1), 4*(x>>1)+2
		case RGB24:
			p.off0[i], p.off1[i], p.off2[i] = 3*x, 3*x+1, 3*x+2
		case BGR24:
			p.off0[i], p.off1[i], p.off2[i] = 3*x+2, 3*x+1, 3*x
		case GRAY8:
			p.off0[i], p.off1[i], p.off2[i] = x, x, x
		}
	}
	if conf.Format == MJPEG {
		for s := range p.cx {
			p.cx[s] = make([]int32, n)
			for i, x := range p.xs.pos {
				p.cx[s][i] = x >> s
			}
		}
	}
	p.initBilinear()
	return p, nil
}

// Config returns the configuration with defaults filled in (Crop is never
// empty, OutWidth and OutHeight never 0).
func (p *Preprocessor) Config() Config { return p.conf }

// OutLen is the number of bytes Process writes: OutHeight*OutWidth*3.
func (p *Preprocessor) OutLen() int { return p.conf.OutWidth * p.conf.OutHeight * 3 }

// makeAxis computes the taps that map source span [off, off+n) onto out
// output samples.
func makeAxis(off, n, out int, f Filter) axis {
	a := axis{start: make([]int32, 0, out+1)}
	scale := float64(n) / float64(out)
	if f == Area && scale > 1 {
		for i := range out {
			a.start = append(a.start, int32(len(a.pos)))
			lo, hi := float64(i)*scale, float64(i+1)*scale
			first := len(a.w)
			sum, big := int32(0), first
			for s := int(lo); s < n && float64(s) < hi; s++ {
				ov := math.Min(hi, float64(s+1)) - math.Max(lo, float64(s))
				w := int32(math.Round(ov / scale * wOne))
				if w <= 0 {
					continue
				}
				if len(a.w) == first || w > a.w[big] {
					big = len(a.w)
				}
				a.pos = append(a.pos, int32(off+s))
				a.w = append(a.w, w)
				sum += w
			}
			// Rounding must not change brightness: give the remainder to the
			// biggest weight so the taps sum to exactly 1.
			a.w[big] += wOne - sum
		}
		a.start = append(a.start, int32(len(a.pos)))
		return a
	}
	for i := range out {
		a.start = append(a.start, int32(len(a.pos)))
		// Half-pixel centres: output centre i+0.5 maps to source (i+0.5)*scale.
		s := (float64(i)+0.5)*scale - 0.5
		s0 := math.Floor(s)
		frac := s - s0
		i0 := int(s0)
		if i0 < 0 {
			i0, frac = 0, 0
		}
		if i0 >= n-1 {
			i0, frac = n-1, 0
		}
		w1 := int32(math.Round(frac * wOne))
		switch {
		case w1 == 0:
			a.pos = append(a.pos, int32(off+i0))
			a.w = append(a.w, wOne)
		case w1 == wOne:
			a.pos = append(a.pos, int32(off+i0+1))
			a.w = append(a.w, wOne)
		default:
			a.pos = append(a.pos, int32(off+i0), int32(off+i0+1))
			a.w = append(a.w, wOne-w1, w1)
		}
	}
	a.start = append(a.start, int32(len(a.pos)))
	return a
}
