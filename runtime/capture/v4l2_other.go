//go:build !linux || !cgo

package capture

// openV4L2 and ListModes in builds without V4L2 (not Linux, or
// CGO_ENABLED=0: go4vl needs cgo) only say so.

func openV4L2(*V4L2Config) (device, error) { return nil, ErrNoV4L2 }

// ListModes is unavailable in this build; it returns ErrNoV4L2.
func ListModes(string) ([]Mode, error) { return nil, ErrNoV4L2 }
