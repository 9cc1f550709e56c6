package cli

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRunROS2Args: `rssmd run ... --ros-args -r __node:=wm -p rate:=20` runs the ROS 2 node
// at the parameter's rate (20 Hz over --rate 50), without multicast (discovery off).
func TestRunROS2Args(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the ROS 2 node for 2 s (-short)")
	}
	t.Setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "OFF")
	t.Setenv("ROS_DOMAIN_ID", "77")
	env, out, errb := runEnv(context.Background(), "--source", "replay:"+filepath.Join(goldenActions, "seq.npz"),
		"--model", goldenActions, "--duration", "2s", "--rate", "50", "--loop", "--metrics-addr", "off",
		"--ros-args", "-r", "__node:=wm", "-p", "rate:=20")
	var logs bytes.Buffer
	env.Log = slog.New(slog.NewTextHandler(&logs, nil))
	if err := runRun(env); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	m := regexp.MustCompile(`ticks (\d+) in [^:]+: (\d+) steps.*\((\d+) periods skipped\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no summary in output:\n%s", out.String())
	}
	ticks, _ := strconv.Atoi(m[1])
	skipped, _ := strconv.Atoi(m[3])
	if p := ticks + skipped; p < 30 || p > 43 {
		t.Errorf("%d periods in 2 s, want about 40 (20 Hz from -p rate:=20)\n%s", p, out.String())
	}
	if !strings.Contains(logs.String(), "node=/wm") {
		t.Errorf("the node is not /wm:\n%s", logs.String())
	}
}

func TestRunROS2ArgErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ros2", "__name:=x"}, "cannot be combined"},
		{[]string{"--ros-args", "--bogus"}, "--bogus"},
		{[]string{"--model", "m", "--source", "ros", "--ros-args", "-p", "rate:=fast"}, "rate"},
		{[]string{"--model", "m", "--source", "ros", "--ros-args", "--model", "x"}, `unknown option "--model"`},
	} {
		env, _, errb := runEnv(context.Background(), tc.args...)
		err := runRun(env)
		if err == nil || (!errors.Is(err, errUsage) && !strings.Contains(err.Error(), tc.want)) || (errors.Is(err, errUsage) && !strings.Contains(errb.String(), tc.want)) {
			t.Errorf("%v: err %v, stderr %q; want a message about %q", tc.args, err, errb.String(), tc.want)
		}
	}
}
