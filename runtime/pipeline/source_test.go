package pipeline

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/capture"
)

func TestCheckSource(t *testing.T) {
	seq := filepath.Join(golden, "seq.npz")
	for _, tc := range []struct {
		source, want string // want "" is valid
	}{
		{"replay:" + seq, ""},
		{"v4l2:" + os.DevNull, "is not a V4L2 device"}, // a character device, but not video4linux
		{"ros", "add --ros (ROS 1) or --ros2 (ROS 2)"},
		{"replay:/nonexistent-rssmd.npz", "no such file"},
		{"replay:" + golden, "is a folder"},
		{"v4l2:" + seq, "is not a device node"},
		{"v4l2:", "want v4l2:/dev/videoN"},
		{"file:x", "want v4l2:/dev/videoN"},
	} {
		conf := Defaults()
		conf.Source = tc.source
		err := CheckSource(conf)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.source, err)
		case tc.want != "" && (err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want ErrConfig saying %q", tc.source, err, tc.want)
		}
	}
}

// A caller-supplied source without a name (the ROS 1 node's image topics) is logged by the
// configured source, not as source="".
func TestStartLineNamesSource(t *testing.T) {
	om, err := OpenModel(golden, false)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := capture.LoadSequence(filepath.Join(golden, "seq.npz"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewReplay(capture.ReplayConfig{Sequence: seq})
	if err != nil {
		t.Fatal(err)
	}
	conf := Defaults()
	conf.Model, conf.Source, conf.MetricsAddr, conf.Rate = golden, SourceROS, "off", 200
	var logs bytes.Buffer
	p, err := New(conf, Deps{Model: om, Source: src}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Run(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "msg=running") || !strings.Contains(logs.String(), "source=ros ") {
		t.Errorf("start-up line does not name the source:\n%s", logs.String())
	}
}
