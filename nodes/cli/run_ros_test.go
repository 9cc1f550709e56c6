package cli

import (
	"context"

	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/rssmd/rssmd/nodes/ros"
	"github.com/rssmd/rssmd/runtime/pipeline"
)

// TestROSParamsOverFlags: private ROS parameters apply over the flags (the parameter server is
// the configuration of a ROS deployment), device wins over source, node settings land in the
// config.
func TestROSParamsOverFlags(t *testing.T) {
	flags := pipeline.Layer{Name: "flags", Values: map[string]any{"rate": "50", "source": "replay:x.npz", "model": "flag"}}
	for _, tc := range []struct {
		name string
		p    ros.ParamValues
		want func(c *pipeline.Config) bool
	}{
		{"none keeps the flags", ros.ParamValues{}, func(c *pipeline.Config) bool {
			return c.Rate == 50 && c.Source == "replay:x.npz" && c.FrameID == "camera" && c.Predict
		}},
		{"rate, model, int8", ros.ParamValues{"rate": 20.0, "model": "m.bundle", "int8": true},
			func(c *pipeline.Config) bool { return c.Rate == 20 && c.Model == "m.bundle" && c.Int8 }},
		{"device wins over source", ros.ParamValues{"source": "ros", "device": "/dev/video2"},
			func(c *pipeline.Config) bool { return c.Source == "v4l2:/dev/video2" }},
		{"ages and decode", ros.ParamValues{"max_frame_age": time.Second, "action_max_age": 2 * time.Second, "decode_every": 3},
			func(c *pipeline.Config) bool {
				return c.MaxFrameAge == time.Second && c.ActionMaxAge == 2*time.Second && c.DecodeEvery == 3
			}},
		{"node params", ros.ParamValues{"frame_id": "f", "predict": false, "reconstruction": true, "max_horizon": 9, "diagnostics_period": 2 * time.Second},
			func(c *pipeline.Config) bool {
				return c.Rate == 50 && c.FrameID == "f" && !c.Predict && c.Reconstruction && c.MaxHorizon == 9 && c.DiagnosticsPeriod == 2*time.Second
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := pipeline.Resolve(flags, rosLayer(tc.p))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(&r.Config) {
				t.Errorf("config %+v", r.Config)
			}
		})
	}
}

// TestIntegrationRunROSRateParam: `rosparam set /rssmd/rate 20` before the start makes the
// node tick at 20 Hz instead of --rate 50.
func TestIntegrationRunROSRateParam(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	for _, tool := range []string{"rosmaster", "rosparam"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing in CI", tool)
			}
			t.Skipf("%s missing (apt install ros-core)", tool)
		}
	}
	addr := freeAddr(t)
	uri := "http://" + addr
	_, port, _ := net.SplitHostPort(addr)
	home := t.TempDir()
	rosEnv := append(os.Environ(), "ROS_MASTER_URI="+uri, "ROS_HOME="+home)
	master := exec.Command("rosmaster", "--core", "-p", port)
	master.Env = rosEnv
	if err := master.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Process.Kill(); master.Wait() })
	set := func(k, v string) {
		var err error
		for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
			cmd := exec.Command("rosparam", "set", k, v)
			cmd.Env = rosEnv
			if err = cmd.Run(); err == nil {
				return
			}
		}
		t.Fatalf("rosparam set %s %s: %v", k, v, err)
	}
	set("/rssmd/rate", "20")

	env, out, errb := runEnv(context.Background(), "--source", "replay:"+filepath.Join(goldenActions, "seq.npz"),
		"--model", goldenActions, "--duration", "3s", "--rate", "50", "--loop", "--metrics-addr", "off",
		"__master:="+uri, "__ip:=127.0.0.1")
	if err := runRun(env); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	m := regexp.MustCompile(`ticks (\d+) in [^:]+: (\d+) steps.*\((\d+) periods skipped\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no summary in output:\n%s", out.String())
	}
	ticks, _ := strconv.Atoi(m[1])
	skipped, _ := strconv.Atoi(m[3])
	t.Logf("%s", m[0])
	// 3 s at 20 Hz is 60 periods (at --rate 50 it would be 150).
	if p := ticks + skipped; p < 50 || p > 63 {
		t.Errorf("%d periods in 3 s, want about 60 (20 Hz from the parameter server)\n%s", p, out.String())
	}
}
