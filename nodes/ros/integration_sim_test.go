package ros

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2"

	"github.com/rssmd/rssmd/nodes/ros/rssmd_msgs"
)

// TestIntegrationParams: values set with rosparam before the node starts are read, and the
// command line's _param:= values are written to the server first and so win.
func TestIntegrationParams(t *testing.T) {
	needROS(t)
	m := startMaster(t)
	for _, kv := range [][2]string{{"/rssmd/rate", "20"}, {"/rssmd/frame_id", "from_server"}, {"/rssmd/int8", "true"},
		{"/rssmd/max_frame_age", "0.25"}, {"/robot/wm/rate", "7.5"}} {
		if _, err := m.run(20*time.Second, "rosparam", "set", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		want ParamValues
	}{
		{"server", nil, ParamValues{"rate": 20.0, "frame_id": "from_server", "int8": true, "max_frame_age": 250 * time.Millisecond}},
		{"command line wins", []string{"_rate:=30", "_reconstruction:=true"},
			ParamValues{"rate": 30.0, "frame_id": "from_server", "int8": true, "max_frame_age": 250 * time.Millisecond, "reconstruction": true}},
		{"namespaced node", []string{"__ns:=/robot", "__name:=wm"}, ParamValues{"rate": 7.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testEnv(t, m, tc.args...)
			got, unknown, masterErr, err := LoadParams(context.Background(), env, 5*time.Second)
			if err != nil || masterErr != nil || len(unknown) != 0 {
				t.Fatalf("err %v, master %v, unknown %v", err, masterErr, unknown)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// What the command line set is visible to everyone, as with rospy.
	out, err := m.run(20*time.Second, "rosparam", "get", "/rssmd/rate")
	if err != nil || strings.TrimSpace(out) != "30" {
		t.Errorf("rosparam get /rssmd/rate: %q %v, want 30", out, err)
	}
}

// TestIntegrationSimTimeBag: with use_sim_time, `rosbag play --clock` of a camera bag made
// from a replay sequence drives the node; `rosbag record` of its outputs shows the bag's
// stamps on every output and sim time (not wall time) on /diagnostics, and frames are not
// aged by the wall clock.
func TestIntegrationSimTimeBag(t *testing.T) {
	needROS(t)
	if _, err := exec.LookPath("rosbag"); err != nil {
		if ci() {
			t.Fatal("rosbag missing in CI")
		}
		t.Skip("rosbag missing (apt install python3-rosbag)")
	}
	m := startMaster(t)
	if _, err := m.run(20*time.Second, "rosparam", "set", "/use_sim_time", "true"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "camera.bag"), filepath.Join(dir, "outputs.bag")
	const stamp0, rate, count = 1_500_000_000, 20, 60
	seq := filepath.Join("..", "..", "model", "testdata", "golden", "cnnha-actions", "seq.npz")
	if _, err := m.run(60*time.Second, sysPython, "testdata/client.py", "make_bag", in, seq, "/camera/image_raw",
		"1500000000", "20", "60"); err != nil {
		t.Fatal(err)
	}
	bagStamps := map[int64]bool{}
	for i := 0; i < count; i++ {
		bagStamps[time.Unix(stamp0, 0).Add(time.Duration(i)*time.Second/rate).UnixNano()] = true
	}

	r := newRig(t, m, testEnv(t, m, "~image:=/camera/image_raw"), true)
	if !r.node.Stats().SimTime {
		t.Fatal("node does not see use_sim_time")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	topics := []string{"/rssmd/latent", "/rssmd/quality", "/rssmd/predicted_image", "/diagnostics"}
	rec := m.client(ctx, "rosbag", append([]string{"record", "-O", out, "__name:=recorder"}, topics...)...)
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	// A probe beside the recorder counts what the node's ~latent delivers.
	probe := probeNode(t, m)
	var received atomic.Uint64
	sub, err := goroslib.NewSubscriber(goroslib.SubscriberConf{Node: probe, Topic: "/rssmd/latent",
		Callback: func(*rssmd_msgs.LatentState) { received.Add(1) }, QueueSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	// The bag plays once the recorder is connected to every output topic (and the probe to
	// ~latent), as the node sees its subscribers: nothing published is missed.
	want := map[string][]string{"/recorder": topics, "/rssmd_probe": {"/rssmd/latent"}}
	waitFor(t, 30*time.Second, "the recorder and the probe connected to the node's outputs", func() (bool, string) {
		conns, err := probe.NodeGetConns("/rssmd")
		if err != nil {
			return false, err.Error()
		}
		have := map[string]bool{}
		for _, c := range conns {
			if c.Direction == 'o' && c.Connected {
				have[c.To+" "+c.Topic] = true
			}
		}
		for who, ts := range want {
			for _, topic := range ts {
				if !have[who+" "+topic] {
					return false, fmt.Sprintf("no connection %s → %s among %v", topic, who, have)
				}
			}
		}
		return true, ""
	})
	if o, err := m.run(60*time.Second, "rosbag", "play", "--clock", "-q", in); err != nil {
		t.Fatalf("rosbag play: %v\n%s", err, o)
	}
	// With the bag's clock stopped the loop stops ticking; stop recording once everything the
	// node published has been delivered (to the probe, and so, on loopback, to the recorder).
	waitFor(t, 30*time.Second, "every published ~latent delivered", func() (bool, string) {
		p, got := r.node.Stats().Published, received.Load()
		return p > 0 && got == p, fmt.Sprintf("node published %d ticks, probe received %d", p, got)
	})
	rec.Process.Signal(syscall.SIGINT) // SIGINT: rosbag closes the bag properly
	done := make(chan error, 1)
	go func() { done <- rec.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("rosbag record did not stop")
	}

	msgs, err := m.py(60*time.Second, "bag_stamps", out)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, g := range msgs {
		topic, _ := g["topic"].(string)
		counts[topic]++
		st := nsec(g["stamp"])
		switch topic {
		case "/rssmd/latent", "/rssmd/quality":
			if !bagStamps[st] {
				t.Errorf("%s stamp %d is not one of the bag's", topic, st)
			}
			if topic == "/rssmd/latent" && g["stale_frame"] != false {
				t.Errorf("%s: stale_frame %v: frame age not on sim time", topic, g["stale_frame"])
			}
		case "/rssmd/predicted_image":
			// Stamped for the frame it predicts: a bag stamp plus one period.
			if !bagStamps[st-int64(time.Second/rate)] {
				t.Errorf("%s stamp %d is not a bag stamp + 50ms", topic, st)
			}
		case "/diagnostics":
			// Stamped with ROS time: inside the bag's clock range, far from the wall clock;
			// zero before the first /clock message (as roscpp's ros::Time::now()).
			lo, hi := time.Unix(stamp0, 0).Add(-time.Second), time.Unix(stamp0, 0).Add(count*time.Second/rate+2*time.Second)
			if st == 0 {
				counts["/diagnostics before /clock"]++
				counts[topic]--
			} else if st < lo.UnixNano() || st > hi.UnixNano() {
				t.Errorf("/diagnostics stamp %v outside the bag's clock %v..%v", time.Unix(0, st), lo, hi)
			}
		}
	}
	// The loop ticks at 20 Hz on the bag's clock: most of the 60 frames give an output.
	if counts["/rssmd/latent"] < count/2 || counts["/rssmd/predicted_image"] < count/2 || counts["/diagnostics"] < 1 {
		t.Errorf("recorded %v, want ≥ %d latent and predicted images and some diagnostics", counts, count/2)
	}
	t.Logf("recorded %v", counts)
}

func ci() bool { return os.Getenv("CI") != "" }

// waitFor polls cond every 20 ms until it holds; after timeout it fails with what, and the
// last thing cond said.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
	}
	t.Fatalf("waited %v for %s: %s", timeout, what, last)
}

// probeNode is a plain goroslib node (/rssmd_probe) for a test to subscribe and ask the graph.
func probeNode(t *testing.T, m *master) *goroslib.Node {
	t.Helper()
	n, err := goroslib.NewNode(goroslib.NodeConf{Name: "rssmd_probe", MasterAddress: fmt.Sprintf("127.0.0.1:%d", m.port),
		Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}
