//go:build linux && cgo

package capture

import (
	"os"
	"strings"
	"testing"
)

// Without a camera (this CI machine has none; see v4l2test/run.sh for the
// real one) opening must fail with an error, not hang or panic.
func TestV4L2MissingDevice(t *testing.T) {
	for _, dev := range []string{"/nonexistent/video9", os.DevNull} {
		if c, err := NewV4L2(V4L2Config{Device: dev}); err == nil {
			c.Close()
			t.Errorf("NewV4L2(%s) succeeded", dev)
		} else {
			t.Logf("%s: %v", dev, err)
			if dev == os.DevNull && !strings.Contains(err.Error(), "is not a V4L2 capture device") {
				t.Errorf("NewV4L2(%s): %v; want it to say the node is not a V4L2 capture device", dev, err)
			}
		}
		if _, err := ListModes(dev); err == nil {
			t.Errorf("ListModes(%s) succeeded", dev)
		}
	}
}
