package ros

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/apimaster"
	"github.com/bluenviron/goroslib/v2/pkg/serviceproc"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/nodes/ros/rssmd_msgs"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/tick"
)

// The integration tests run the real node against a real rosmaster and real ROS clients
// (rostopic, rosservice, rospy) that this test starts itself on a free port.

const sysPython = "/usr/bin/python3"

func needROS(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	var missing []string
	for _, tool := range []string{"rosmaster", "rostopic", "rosservice"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if err := exec.Command(sysPython, "-c", "import rospy, genpy, sensor_msgs.msg, diagnostic_msgs.msg, std_srvs.srv").Run(); err != nil {
		missing = append(missing, "rospy/sensor_msgs/diagnostic_msgs/std_srvs for "+sysPython)
	}
	if len(missing) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("ROS tools missing in CI: %v", missing)
		}
		t.Skipf("ROS tools missing: %v (apt install ros-core python3-sensor-msgs python3-diagnostic-msgs python3-std-srvs)", missing)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// master is a rosmaster process the test owns.
type master struct {
	t    testing.TB
	port int
	home string
	cmd  *exec.Cmd
}

func startMaster(t testing.TB) *master {
	m := &master{t: t, port: freePort(t), home: t.TempDir()}
	m.start()
	t.Cleanup(m.stop)
	return m
}

func (m *master) uri() string { return fmt.Sprintf("http://127.0.0.1:%d", m.port) }

func (m *master) start() {
	m.t.Helper()
	m.cmd = exec.Command("rosmaster", "--core", "-p", fmt.Sprint(m.port))
	m.cmd.Env = append(os.Environ(), "ROS_HOME="+m.home, "ROS_MASTER_URI="+m.uri())
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	c := apimaster.NewClient(fmt.Sprintf("127.0.0.1:%d", m.port), "/test", &http.Client{Timeout: time.Second})
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := c.GetURI(); err == nil {
			return
		}
	}
	m.t.Fatal("rosmaster did not come up")
}

func (m *master) stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
		m.cmd = nil
	}
}

// client runs a ROS command line tool (or the rospy client script) against m.
func (m *master) client(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "ROS_MASTER_URI="+m.uri(), "ROS_HOME="+m.home, "ROS_IP=127.0.0.1")
	cmd.Env = append(cmd.Env, "PYTHONPATH=") // the system python's own ROS modules only
	return cmd
}

func (m *master) run(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := m.client(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %v: %w\n%s", name, args, err, errb.String())
	}
	return out.String(), nil
}

func (m *master) py(timeout time.Duration, args ...string) ([]map[string]any, error) {
	out, err := m.run(timeout, sysPython, append([]string{"testdata/client.py"}, args...)...)
	var res []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v map[string]any
		if json.Unmarshal(sc.Bytes(), &v) == nil {
			res = append(res, v)
		}
	}
	return res, err
}

// stampSource is a frame source whose frames carry capture stamps far from "now", so the
// test can tell a capture stamp from a publication time; it remembers every stamp handed out.
type stampSource struct {
	mu     sync.Mutex
	seq    uint64
	img    []byte
	stamps map[uint64]time.Time
}

var stampBase = time.Unix(1_600_000_000, 0)

func (s *stampSource) Latest() (capture.Frame, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	st := stampBase.Add(time.Duration(s.seq) * 50 * time.Millisecond)
	s.stamps[s.seq] = st
	for i := range s.img {
		s.img[i] = byte(int(s.seq)*3 + i)
	}
	return capture.Frame{Frame: frame.Frame{Data: s.img, Format: frame.RGB24, Width: 64, Height: 64}, Seq: s.seq, Captured: st}, true
}

func (s *stampSource) Stats() capture.Stats { return capture.Stats{Connected: true} }

func (s *stampSource) stamp(seq uint64) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stamps[seq]
	return st, ok
}

func goldenModel(t testing.TB) *model.Model {
	t.Helper()
	m, err := model.Load(filepath.Join("..", "..", "model", "testdata", "golden", "cnnha-actions"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type rig struct {
	m      *master
	node   *Node
	loop   *tick.Loop
	src    *stampSource
	resets atomic.Int64
	cancel context.CancelFunc
	done   chan struct{}
}

func newRig(t *testing.T, m *master, env *Env, imageInput bool) *rig {
	t.Helper()
	mdl := goldenModel(t)
	r := &rig{m: m, src: &stampSource{img: make([]byte, 64*64*3), stamps: map[uint64]time.Time{}}, done: make(chan struct{})}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var err error
	r.node, err = NewNode(Config{
		Env: env, Arch: mdl.Arch, Model: mdl.NewRunner(), Period: 50 * time.Millisecond,
		FrameID: "test_cam", Predict: true, Reconstruction: true, ImageInput: imageInput,
		MasterPoll: 200 * time.Millisecond, RetryMin: 100 * time.Millisecond, RetryMax: 500 * time.Millisecond,
		Reset: func() error { r.resets.Add(1); return nil }, KernelPath: "float32", Source: "test", Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	var src tick.Source = r.src
	if imageInput {
		src = r.node.Images()
	}
	r.loop, err = tick.New(tick.Config{
		Rate: 20, Model: mdl.NewRunner(), Source: src, Actions: r.node.Actions(),
		Sinks: []tick.Sink{r.node}, Clock: r.node.Clock(), MaxFrameAge: time.Hour, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.loop.Run(ctx); close(r.done) }()
	t.Cleanup(func() { r.cancel(); <-r.done; r.node.Close() })
	select {
	case <-r.node.Ready():
	case <-time.After(15 * time.Second):
		t.Fatal("node did not register")
	}
	return r
}

func testEnv(t testing.TB, m *master, args ...string) *Env {
	t.Helper()
	env, err := ParseEnv(envOf(map[string]string{"ROS_MASTER_URI": m.uri(), "ROS_IP": "127.0.0.1"}), args)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func num(v any) float64 { f, _ := v.(float64); return f }

// nsec reads a stamp the client printed as a decimal string of nanoseconds.
func nsec(v any) int64 {
	s, _ := v.(string)
	var n int64
	fmt.Sscan(s, &n)
	return n
}

func TestIntegrationTopicsServicesRestart(t *testing.T) {
	needROS(t)
	m := startMaster(t)
	r := newRig(t, m, testEnv(t, m), false)
	a := r.node.conf.Arch

	t.Run("stamped outputs read by rospy", func(t *testing.T) {
		for _, tc := range []struct {
			topic, typ string
			lens       map[string]int
		}{
			{"/rssmd/latent", "rssmd_msgs/LatentState", map[string]int{"len_deter": a.Deter, "len_stoch_mean": a.Stoch, "len_stoch_std": a.Stoch, "len_prior_mean": a.Stoch}},
			{"/rssmd/quality", "rssmd_msgs/Quality", nil},
			{"/rssmd/predicted_image", "sensor_msgs/Image", map[string]int{"len_data": model.ImageValues}},
			{"/rssmd/reconstruction", "sensor_msgs/Image", map[string]int{"len_data": model.ImageValues}},
		} {
			msgs, err := m.py(20*time.Second, "echo", tc.topic, "2", "10")
			if err != nil || len(msgs) != 2 {
				t.Fatalf("%s: %v %v", tc.topic, msgs, err)
			}
			for _, g := range msgs {
				if g["type"] != tc.typ || g["frame_id"] != "test_cam" {
					t.Errorf("%s: %v", tc.topic, g)
				}
				seq := uint64(num(g["seq"]))
				want, ok := r.src.stamp(seq)
				if tc.topic == "/rssmd/predicted_image" {
					// The prediction is stamped for the frame it predicts: one period later.
					want, ok = r.src.stamp(seq - 1)
					want = want.Add(50 * time.Millisecond)
				}
				if !ok || nsec(g["stamp"]) != want.UnixNano() {
					t.Errorf("%s: stamp %v seq %d, want the capture stamp %v", tc.topic, g["stamp"], seq, want.UnixNano())
				}
				for k, v := range tc.lens {
					if int(num(g[k])) != v {
						t.Errorf("%s: %s = %v, want %d", tc.topic, k, g[k], v)
					}
				}
			}
		}
	})

	t.Run("rostopic echo", func(t *testing.T) {
		out, err := m.run(20*time.Second, "rostopic", "echo", "-n", "1", "/rssmd/latent_vector")
		if err != nil || !strings.Contains(out, "data: [") {
			t.Fatalf("%q %v", out, err)
		}
		if want := fmt.Sprintf("size: %d", a.Deter+a.Stoch); !strings.Contains(out, want) {
			t.Errorf("latent_vector: no %q in %s", want, out)
		}
		out, err = m.run(20*time.Second, "rostopic", "echo", "-n", "1", "/diagnostics")
		if err != nil || !strings.Contains(out, "rssmd: state estimator") || !strings.Contains(out, "master reconnects") {
			t.Fatalf("diagnostics: %q %v", out, err)
		}
	})

	t.Run("rostopic pub action and bad actions", func(t *testing.T) {
		before := r.loop.Stats().ActionsFresh
		good := "{data: [" + strings.TrimSuffix(strings.Repeat("0.5, ", a.ActionDim), ", ") + "]}"
		if _, err := m.run(20*time.Second, "rostopic", "pub", "-1", "/rssmd/action", "std_msgs/Float32MultiArray", good); err != nil {
			t.Fatal(err)
		}
		rej := r.node.Stats().ActionsRejected
		for _, bad := range []string{"{data: [1.0]}", "{data: [" + strings.TrimSuffix(strings.Repeat(".nan, ", a.ActionDim), ", ") + "]}"} {
			if _, err := m.run(20*time.Second, "rostopic", "pub", "-1", "/rssmd/action", "std_msgs/Float32MultiArray", bad); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(200 * time.Millisecond)
		if got := r.loop.Stats().ActionsFresh; got <= before {
			t.Errorf("fresh actions %d → %d: the published action was not used", before, got)
		}
		if got := r.node.Stats().ActionsRejected; got != rej+2 {
			t.Errorf("rejected actions %d → %d, want +2", rej, got)
		}
	})

	t.Run("rosservice reset", func(t *testing.T) {
		out, err := m.run(20*time.Second, "rosservice", "call", "/rssmd/reset")
		if err != nil || !strings.Contains(out, "success: True") || r.resets.Load() != 1 {
			t.Fatalf("%q %v resets=%d", out, err, r.resets.Load())
		}
	})

	t.Run("imagine from rospy", func(t *testing.T) {
		md5, _ := serviceproc.MD5(rssmd_msgs.Imagine{})
		res, err := m.py(30*time.Second, "imagine", "/rssmd/imagine", md5, "rssmd_msgs/srv/Imagine.srv", "5", fmt.Sprint(a.ActionDim), "1")
		if err != nil || len(res) != 1 {
			t.Fatalf("%v %v", res, err)
		}
		g := res[0]
		if g["success"] != true || int(num(g["len_deter"])) != 5*a.Deter || int(num(g["len_stoch_mean"])) != 5*a.Stoch || int(num(g["images"])) != 5 {
			t.Errorf("imagine: %v", g)
		}
		st := g["image_stamps"].([]any)
		if len(st) != 5 || nsec(st[4])-nsec(g["stamp"]) != int64(250*time.Millisecond) {
			t.Errorf("image stamps %v from %v, want +50ms steps", st, g["stamp"])
		}
	})

	t.Run("master restart", func(t *testing.T) {
		ticks := r.loop.Stats().Steps
		m.stop()
		time.Sleep(1500 * time.Millisecond)
		m.start()
		restarted := time.Now()
		msgs, err := m.py(20*time.Second, "echo", "/rssmd/latent", "1", "10")
		if err != nil || len(msgs) != 1 {
			t.Fatalf("no latent after the restart: %v %v", msgs, err)
		}
		if d := time.Since(restarted); d > 10*time.Second {
			t.Errorf("received again after %v, want < 10s", d)
		}
		st := r.node.Stats()
		if st.Reconnects < 1 {
			t.Errorf("stats %+v: no reconnect counted", st)
		}
		// The loop kept stepping while the master was away: ~20 Hz over ≥ 1.5 s.
		if got := r.loop.Stats().Steps - ticks; got < 20 {
			t.Errorf("only %d steps across the restart", got)
		}
		out, err := m.run(20*time.Second, "rosservice", "call", "/rssmd/reset")
		if err != nil || !strings.Contains(out, "success: True") {
			t.Errorf("service after restart: %q %v", out, err)
		}
	})
}

func TestIntegrationNamespaceRemapAndImages(t *testing.T) {
	needROS(t)
	m := startMaster(t)
	env := testEnv(t, m, "__ns:=/robot", "__name:=wm", "~image:=/camera/image_raw")
	r := newRig(t, m, env, true)

	for i, enc := range []string{"rgb8", "bgr8", "mono8", "yuv422", "yuv422_yuy2"} {
		stamp := 1_700_000_000 + float64(i)*10
		before := r.node.images.Stats().Frames
		if _, err := m.py(30*time.Second, "pub_image", "/camera/image_raw", enc, "80", "60", fmt.Sprint(stamp), "3"); err != nil {
			t.Fatal(err)
		}
		if got := r.node.images.Stats().Frames; got < before+1 {
			t.Errorf("%s: frames %d → %d", enc, before, got)
		}
		if n, err := r.node.images.Rejected(); n != 0 {
			t.Errorf("%s rejected: %v", enc, err)
		}
	}
	// The outputs carry the input's header stamps and live under the namespace.
	msgs := echoWhile(t, m, "/robot/wm/latent", func() {
		m.py(30*time.Second, "pub_image", "/camera/image_raw", "rgb8", "80", "60", "1700000040", "20")
	})
	if st := nsec(msgs[0]["stamp"]); st < 1_700_000_040e9 || st > 1_700_000_041e9 {
		t.Errorf("latent stamp %d, want an input image's (1700000040.x s)", st)
	}
	// Bad images are refused and counted, and the node keeps running.
	for _, bad := range [][]string{{"rgb16", "8", "8"}, {"yuv422", "7", "8"}} {
		if _, err := m.py(30*time.Second, "pub_image", "/camera/image_raw", bad[0], bad[1], bad[2], "1", "1"); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := r.node.images.Rejected(); n != 2 {
		t.Errorf("rejected %d bad images, want 2", n)
	}
	echoWhile(t, m, "/robot/wm/latent", func() {
		m.py(30*time.Second, "pub_image", "/camera/image_raw", "mono8", "32", "32", "1700000050", "20")
	})
}

// echoWhile reads one message of topic while feed publishes the input that produces it.
func echoWhile(t *testing.T, m *master, topic string, feed func()) []map[string]any {
	t.Helper()
	type result struct {
		msgs []map[string]any
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		msgs, err := m.py(30*time.Second, "echo", topic, "1", "20")
		ch <- result{msgs, err}
	}()
	time.Sleep(1500 * time.Millisecond) // let the subscriber register before the input flows
	feed()
	res := <-ch
	if res.err != nil || len(res.msgs) != 1 {
		t.Fatalf("%s: %v %v", topic, res.msgs, res.err)
	}
	return res.msgs
}
