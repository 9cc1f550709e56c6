//go:build !linux || !cgo

package capture

import (
	"errors"
	"testing"
)

func TestNoV4L2Build(t *testing.T) {
	if _, err := NewV4L2(V4L2Config{}); !errors.Is(err, ErrNoV4L2) {
		t.Errorf("NewV4L2: %v, want ErrNoV4L2", err)
	}
	if _, err := ListModes("/dev/video0"); !errors.Is(err, ErrNoV4L2) {
		t.Errorf("ListModes: %v, want ErrNoV4L2", err)
	}
}
