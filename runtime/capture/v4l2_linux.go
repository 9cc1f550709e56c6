//go:build linux && cgo

package capture

/*
#include <linux/videodev2.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/vladimirvivien/go4vl/v4l2"
	"golang.org/x/sys/unix"
)

// v4l2Device drives one V4L2 capture node. Format negotiation uses go4vl's
// low-level v4l2 calls; the streaming ioctls (REQBUFS, QUERYBUF, QBUF,
// DQBUF, STREAMON/OFF) are ours, because go4vl's hide the errno (ENODEV on
// unplug becomes a generic "system error"), allocate an error per EAGAIN
// and drop the buffer flags we need for the timestamp.
type v4l2Device struct {
	fd     int
	bufs   [][]byte
	stride int
	offset time.Duration
	buf    C.struct_v4l2_buffer // reused by dequeue: no allocation per frame
	pfd    [1]unix.PollFd
	// negotiated describes the mode set, and the driver's default found
	// on opening (a device that came back may have another).
	negotiated string
}

func (d *v4l2Device) mode() string { return d.negotiated }

func fourCC(f frame.PixelFormat) uint32 {
	switch f {
	case frame.YUYV:
		return v4l2.PixelFmtYUYV
	case frame.UYVY:
		return v4l2.PixelFmtUYVY
	case frame.MJPEG:
		return v4l2.PixelFmtMJPEG
	}
	return 0
}

func fromFourCC(cc uint32) frame.PixelFormat {
	switch cc {
	case v4l2.PixelFmtYUYV:
		return frame.YUYV
	case v4l2.PixelFmtUYVY:
		return frame.UYVY
	case v4l2.PixelFmtMJPEG, v4l2.PixelFmtJPEG:
		return frame.MJPEG
	}
	return frame.FormatInvalid
}

func fourCCString(cc uint32) string {
	return string([]byte{byte(cc), byte(cc >> 8), byte(cc >> 16), byte(cc >> 24)})
}

// ioctl retries on EINTR and returns the bare errno.
func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

func openV4L2(conf *V4L2Config) (device, error) {
	fd, err := v4l2.OpenDevice(conf.Device, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	d := &v4l2Device{fd: int(fd)}
	if err := d.setup(conf); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func (d *v4l2Device) setup(conf *V4L2Config) error {
	fd := uintptr(d.fd)
	caps, err := v4l2.GetCapability(fd)
	if err != nil {
		// /dev/null, a tty, a disk: any device node that is not V4L2 refuses QUERYCAP.
		return fmt.Errorf("%s is not a V4L2 capture device (VIDIOC_QUERYCAP: %w; `rssmd devices` lists them)", conf.Device, err)
	}
	if !caps.IsVideoCaptureSupported() || !caps.IsStreamingSupported() {
		return fmt.Errorf("%s (%s) is not a streaming video capture device", conf.Device, caps.Card)
	}
	want := fourCC(conf.Format)
	// What the driver offers before we ask: after an unplug the device may
	// come back (another camera, other driver parameters) with a different
	// default, so the mode is set again on every open, never assumed.
	def, err := v4l2.GetPixFormat(fd)
	if err != nil {
		return fmt.Errorf("VIDIOC_G_FMT: %w", err)
	}
	if err := v4l2.SetPixFormat(fd, v4l2.PixFormat{
		Width: uint32(conf.Width), Height: uint32(conf.Height), PixelFormat: want, Field: v4l2.FieldNone,
	}); err != nil {
		return fmt.Errorf("VIDIOC_S_FMT %v %dx%d: %w", conf.Format, conf.Width, conf.Height, err)
	}
	got, err := v4l2.GetPixFormat(fd)
	if err != nil {
		return fmt.Errorf("VIDIOC_G_FMT: %w", err)
	}
	if got.PixelFormat != want || int(got.Width) != conf.Width || int(got.Height) != conf.Height {
		return fmt.Errorf("driver chose %s %dx%d instead of %v %dx%d (see `rssmd devices`)",
			fourCCString(got.PixelFormat), got.Width, got.Height, conf.Format, conf.Width, conf.Height)
	}
	if conf.Format != frame.MJPEG {
		d.stride = int(got.BytesPerLine)
	}
	if conf.FPS > 0 {
		// Frame interval as a fraction with a millisecond-ish denominator so
		// rates like 29.97 survive.
		p, err := v4l2.GetStreamParam(fd, v4l2.BufTypeVideoCapture)
		if err != nil {
			return fmt.Errorf("VIDIOC_G_PARM: %w", err)
		}
		if p.Capture.Capability&v4l2.StreamParamTimePerFrame == 0 {
			return fmt.Errorf("device cannot set the frame rate (V4L2Config.FPS=%v)", conf.FPS)
		}
		p.Capture.TimePerFrame = v4l2.Fract{Numerator: 1000, Denominator: uint32(conf.FPS*1000 + 0.5)}
		if err := v4l2.SetStreamParam(fd, v4l2.BufTypeVideoCapture, p); err != nil {
			return fmt.Errorf("VIDIOC_S_PARM %v fps: %w", conf.FPS, err)
		}
	}

	var req C.struct_v4l2_requestbuffers
	req.count = C.__u32(conf.Buffers)
	req._type = C.V4L2_BUF_TYPE_VIDEO_CAPTURE
	req.memory = C.V4L2_MEMORY_MMAP
	if err := ioctl(d.fd, C.VIDIOC_REQBUFS, unsafe.Pointer(&req)); err != nil {
		return fmt.Errorf("VIDIOC_REQBUFS: %w", err)
	}
	if req.count < 2 {
		return fmt.Errorf("VIDIOC_REQBUFS: driver gave %d buffers, need 2", req.count)
	}
	for i := 0; i < int(req.count); i++ {
		var b C.struct_v4l2_buffer
		b.index = C.__u32(i)
		b._type = C.V4L2_BUF_TYPE_VIDEO_CAPTURE
		b.memory = C.V4L2_MEMORY_MMAP
		if err := ioctl(d.fd, C.VIDIOC_QUERYBUF, unsafe.Pointer(&b)); err != nil {
			return fmt.Errorf("VIDIOC_QUERYBUF %d: %w", i, err)
		}
		off := *(*C.__u32)(unsafe.Pointer(&b.m[0]))
		mem, err := unix.Mmap(d.fd, int64(off), int(b.length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("mmap buffer %d: %w", i, err)
		}
		d.bufs = append(d.bufs, mem)
		if err := d.requeue(i); err != nil {
			return err
		}
	}
	typ := C.int(C.V4L2_BUF_TYPE_VIDEO_CAPTURE)
	if err := ioctl(d.fd, C.VIDIOC_STREAMON, unsafe.Pointer(&typ)); err != nil {
		return fmt.Errorf("VIDIOC_STREAMON: %w", err)
	}
	d.offset = measureWallOffset()
	d.pfd[0] = unix.PollFd{Fd: int32(d.fd), Events: unix.POLLIN}
	d.negotiated = fmt.Sprintf("%s %dx%d", fourCCString(got.PixelFormat), got.Width, got.Height)
	if conf.FPS > 0 {
		d.negotiated += fmt.Sprintf(" %gfps", conf.FPS)
	}
	if def.PixelFormat != got.PixelFormat || def.Width != got.Width || def.Height != got.Height {
		d.negotiated += fmt.Sprintf("; driver default was %s %dx%d", fourCCString(def.PixelFormat), def.Width, def.Height)
	}
	return nil
}

// measureWallOffset estimates CLOCK_REALTIME - CLOCK_MONOTONIC from the
// tightest of a few bracketed readings.
func measureWallOffset() time.Duration {
	best, off := time.Duration(1<<62), time.Duration(0)
	for range 5 {
		var m0, r, m1 unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &m0)
		_ = unix.ClockGettime(unix.CLOCK_REALTIME, &r)
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &m1)
		if w := time.Duration(m1.Nano() - m0.Nano()); w < best {
			best = w
			off = time.Duration(r.Nano() - (m0.Nano()+m1.Nano())/2)
		}
	}
	return off
}

func monoNow() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

func (d *v4l2Device) wallOffset() time.Duration { return d.offset }

func (d *v4l2Device) requeue(index int) error {
	var b C.struct_v4l2_buffer
	b.index = C.__u32(index)
	b._type = C.V4L2_BUF_TYPE_VIDEO_CAPTURE
	b.memory = C.V4L2_MEMORY_MMAP
	if err := ioctl(d.fd, C.VIDIOC_QBUF, unsafe.Pointer(&b)); err != nil {
		return fmt.Errorf("VIDIOC_QBUF %d: %w", index, err)
	}
	return nil
}

func (d *v4l2Device) dequeue(timeout time.Duration) (rawBuffer, error) {
	if timeout > 0 {
		n, err := unix.Poll(d.pfd[:], int(timeout/time.Millisecond))
		if err != nil && !errors.Is(err, unix.EINTR) {
			return rawBuffer{}, fmt.Errorf("poll: %w", err)
		}
		if n == 0 || err != nil {
			return rawBuffer{}, errWouldBlock
		}
		// On POLLERR (an unplugged device) DQBUF below returns the errno.
	}
	const gone = unix.POLLERR | unix.POLLHUP | unix.POLLNVAL
	b := &d.buf
	*b = C.struct_v4l2_buffer{}
	b._type = C.V4L2_BUF_TYPE_VIDEO_CAPTURE
	b.memory = C.V4L2_MEMORY_MMAP
	if err := ioctl(d.fd, C.VIDIOC_DQBUF, unsafe.Pointer(b)); err != nil {
		if err == unix.EAGAIN {
			// A device that reports an error with nothing to dequeue will
			// report it again at once: waiting would only spin until the
			// timeout.
			if timeout > 0 && d.pfd[0].Revents&gone != 0 {
				return rawBuffer{}, fmt.Errorf("poll: device reports %#x and has no buffer", d.pfd[0].Revents)
			}
			return rawBuffer{}, errWouldBlock
		}
		return rawBuffer{}, fmt.Errorf("VIDIOC_DQBUF: %w", err)
	}
	idx := int(b.index)
	if idx < 0 || idx >= len(d.bufs) || int(b.bytesused) > len(d.bufs[idx]) {
		return rawBuffer{}, fmt.Errorf("VIDIOC_DQBUF: driver returned buffer %d with %d bytes", idx, b.bytesused)
	}
	if uint32(b.flags)&C.V4L2_BUF_FLAG_ERROR != 0 || b.bytesused == 0 {
		// A corrupted or empty frame (the driver says so): give it back
		// and wait for the next one rather than publish garbage.
		if err := d.requeue(idx); err != nil {
			return rawBuffer{}, err
		}
		return rawBuffer{}, errWouldBlock
	}
	mono := monoNow()
	if uint32(b.flags)&C.V4L2_BUF_FLAG_TIMESTAMP_MASK == C.V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC {
		tv := (*unix.Timeval)(unsafe.Pointer(&b.timestamp))
		mono = time.Duration(tv.Nano())
	}
	return rawBuffer{
		index: idx, data: d.bufs[idx][:b.bytesused], seq: uint32(b.sequence), mono: mono, stride: d.stride,
	}, nil
}

func (d *v4l2Device) close() error {
	if d.fd < 0 {
		return nil
	}
	typ := C.int(C.V4L2_BUF_TYPE_VIDEO_CAPTURE)
	_ = ioctl(d.fd, C.VIDIOC_STREAMOFF, unsafe.Pointer(&typ))
	for _, m := range d.bufs {
		_ = unix.Munmap(m)
	}
	d.bufs = nil
	var req C.struct_v4l2_requestbuffers
	req._type = C.V4L2_BUF_TYPE_VIDEO_CAPTURE
	req.memory = C.V4L2_MEMORY_MMAP
	_ = ioctl(d.fd, C.VIDIOC_REQBUFS, unsafe.Pointer(&req)) // free the driver's buffers
	err := unix.Close(d.fd)
	d.fd = -1
	return err
}

// ListModes lists the formats, frame sizes and frame rates a device offers.
func ListModes(path string) ([]Mode, error) {
	fd, err := v4l2.OpenDevice(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("list modes: %w", err)
	}
	defer v4l2.CloseDevice(fd)
	descs, err := v4l2.GetAllFormatDescriptions(fd)
	if err != nil && len(descs) == 0 {
		return nil, fmt.Errorf("list modes %s: VIDIOC_ENUM_FMT: %w", path, err)
	}
	var modes []Mode
	for _, desc := range descs {
		sizes, err := v4l2.GetFormatFrameSizes(fd, desc.PixelFormat)
		if err != nil && len(sizes) == 0 {
			continue
		}
		for _, s := range sizes {
			m := Mode{Format: fourCCString(desc.PixelFormat), Supported: fromFourCC(desc.PixelFormat),
				Width: int(s.Size.MaxWidth), Height: int(s.Size.MaxHeight)}
			for i := uint32(0); i < 64; i++ {
				iv, err := v4l2.GetFormatFrameInterval(fd, i, desc.PixelFormat, uint32(m.Width), uint32(m.Height))
				if err != nil {
					break
				}
				if iv.Type != v4l2.FrameIntervalTypeDiscrete {
					break
				}
				if iv.Interval.Min.Numerator > 0 {
					m.FPS = append(m.FPS, float64(iv.Interval.Min.Denominator)/float64(iv.Interval.Min.Numerator))
				}
			}
			modes = append(modes, m)
		}
	}
	return modes, nil
}
