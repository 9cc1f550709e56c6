//go:build !amd64

package frame

// bilinearSIMD: no vector row kernel on this arch; the Go loop runs.
func (p *Preprocessor) bilinearSIMD(dst, data []byte, stride int) bool { return false }

// hasAVX2 is false off amd64 (the tests read it).
var hasAVX2 = false
