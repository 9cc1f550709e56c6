package peertest

import (
	"fmt"
	"hash/fnv"
)

// EncodingBytes returns the bytes per pixel of the encodings the peers' image pattern knows
// (0 for others).
func EncodingBytes(encoding string) int {
	switch encoding {
	case "rgb8", "bgr8":
		return 3
	case "rgba8", "bgra8":
		return 4
	case "mono8":
		return 1
	case "mono16":
		return 2
	}
	return 0
}

// Pattern returns the test image `pub --type image` sends as sample k (from 0): byte x of row y
// is (x + 3y + 7k) mod 256, rows of step = width * bytes per pixel.
func Pattern(width, height, bpp int, k int64) []byte {
	step := width * bpp
	b := make([]byte, step*height)
	for y := 0; y < height; y++ {
		for x := 0; x < step; x++ {
			b[y*step+x] = byte(x + 3*y + 7*int(k%256))
		}
	}
	return b
}

// FNV1a is the 64-bit FNV-1a hash of b as the peers print it (16 hex digits).
func FNV1a(b []byte) string {
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf("%016x", h.Sum64())
}
