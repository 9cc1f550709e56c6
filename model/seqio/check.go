package seqio

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
)

// maxDeflateRatio bounds how much a zip member may claim to expand: deflate cannot exceed
// about 1032:1, so a larger claim is a lie that would only make a reader allocate.
const maxDeflateRatio = 1032

// maxNPYHeader bounds the .npy header dict; numpy writes < 1 KiB.
const maxNPYHeader = 64 << 10

// CheckNPZ validates an npz archive's members before npyio reads any of them: sizes a member
// claims must be possible, and each .npy header must have the magic, a known version, a
// bounded length and a dict ending in a newline. (npyio v0.14.0 allocates whatever header
// length a file claims and panics on a header without a newline.) size is the archive's size.
func CheckNPZ(zr *zip.Reader, size int64) error {
	for _, f := range zr.File {
		if f.CompressedSize64 > uint64(size) || f.UncompressedSize64 > maxDeflateRatio*f.CompressedSize64+1024 {
			return fmt.Errorf("%w: member %q claims an impossible size", ErrFormat, f.Name)
		}
		// Every member of an npz is a .npy array, whatever its name.
		if err := checkNPYPrefix(f); err != nil {
			return err
		}
	}
	return nil
}

func checkNPYPrefix(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrFormat, f.Name, err)
	}
	defer rc.Close()
	var pre [12]byte
	if _, err := io.ReadFull(rc, pre[:10]); err != nil {
		return fmt.Errorf("%w: %q: short .npy header: %w", ErrFormat, f.Name, err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return fmt.Errorf("%w: %q is not a .npy array", ErrFormat, f.Name)
	}
	var n int
	switch pre[6] {
	case 1:
		n = int(pre[8]) | int(pre[9])<<8
	case 2, 3:
		if _, err := io.ReadFull(rc, pre[10:12]); err != nil {
			return fmt.Errorf("%w: %q: short .npy header: %w", ErrFormat, f.Name, err)
		}
		n = int(pre[8]) | int(pre[9])<<8 | int(pre[10])<<16 | int(pre[11])<<24
	default:
		return fmt.Errorf("%w: %q: unsupported .npy version %d", ErrFormat, f.Name, pre[6])
	}
	if n > maxNPYHeader {
		return fmt.Errorf("%w: %q: .npy header of %d bytes", ErrFormat, f.Name, n)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(rc, hdr); err != nil {
		return fmt.Errorf("%w: %q: truncated .npy header: %w", ErrFormat, f.Name, err)
	}
	if bytes.IndexByte(hdr, '\n') < 0 || bytes.IndexByte(hdr, '{') < 0 || !dictSliceable(hdr) {
		return fmt.Errorf("%w: %q: malformed .npy header", ErrFormat, f.Name)
	}
	return nil
}

// dictSliceable reports whether npyio v0.14.0 can cut the header dict without panicking: it
// slices between the first 'descr', 'fortran_order', 'shape' keys and the first '}', minus
// a 2-byte ", " trailer each, so those must come in that order with room between them (as
// numpy writes them).
func dictSliceable(hdr []byte) bool {
	descr := bytes.Index(hdr, []byte("'descr': "))
	order := bytes.Index(hdr, []byte("'fortran_order': "))
	shape := bytes.Index(hdr, []byte("'shape': "))
	end := bytes.IndexByte(hdr, '}')
	return descr >= 0 && order-2 >= descr+len("'descr': ") &&
		shape-2 >= order+len("'fortran_order': ") && end-2 >= shape+len("'shape': ")
}
