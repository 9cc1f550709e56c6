package ros

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/runtime/tick"
)

func testArch() *model.Arch { return &model.Arch{Deter: 8, Stoch: 4, ActionDim: 2} }

func testResult(a *model.Arch) *tick.Result {
	r := &tick.Result{
		Tick: 9, Seq: 7, Captured: time.Unix(1000, 250), ActionStatus: tick.ActionHeld,
		Action: []float32{0.5, -1}, State: model.State{Deter: make([]float32, a.Deter), Stoch: make([]float32, a.Stoch)},
		Step: a.NewStepOutput(), Quality: tick.Quality{KL: 1.5, ELBO: math.NaN(), Anomaly: true},
	}
	for i := range r.State.Deter {
		r.State.Deter[i] = float32(i)
	}
	r.Step.PosteriorMean[1], r.Step.PriorStd[3], r.Step.KL = 2, 3, 1.5
	return r
}

// TestNodeWithoutMaster: the node starts, accepts ticks without allocating and counts them
// as unsent while no master is reachable.
func TestNodeWithoutMaster(t *testing.T) {
	a := testArch()
	env, err := ParseEnv(envOf(map[string]string{"ROS_MASTER_URI": "http://127.0.0.1:1"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNode(Config{Env: env, Arch: a, Period: 50 * time.Millisecond, RetryMin: 10 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	r := testResult(a)
	if allocs := testing.AllocsPerRun(200, func() { n.OnTick(r) }); allocs != 0 {
		t.Errorf("OnTick allocates %v per call", allocs)
	}
	deadline := time.Now().Add(2 * time.Second)
	for n.Stats().Unsent == 0 && time.Now().Before(deadline) {
		n.OnTick(r)
		time.Sleep(5 * time.Millisecond)
	}
	st := n.Stats()
	if st.Connected || st.Unsent == 0 || st.Connects != 0 {
		t.Errorf("stats %+v", st)
	}
	select {
	case <-n.Ready():
		t.Error("ready without a master")
	default:
	}
}

func TestNewNodeConfig(t *testing.T) {
	env, _ := ParseEnv(envOf(map[string]string{"ROS_MASTER_URI": "http://127.0.0.1:1"}), nil)
	noMaster, _ := ParseEnv(envOf(nil), nil)
	a := testArch()
	for _, c := range []Config{
		{Arch: a, Period: time.Second},
		{Env: noMaster, Arch: a, Period: time.Second},
		{Env: env, Period: time.Second},
		{Env: env, Arch: a},
		{Env: env, Arch: a, Period: time.Second, Predict: true},
		{Env: env, Arch: a, Period: time.Second, MaxHorizon: -1},
	} {
		if _, err := NewNode(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err = %v", c, err)
		}
	}
}

func TestMessagesFromSnapshot(t *testing.T) {
	a := testArch()
	s := core.NewSnapshot(a)
	r := testResult(a)
	s.CopyFrom(r)
	r.State.Deter[0], r.Step.PosteriorMean[1] = 99, 99 // the loop reuses its buffers
	m := latentMsg(s, "cam")
	if !m.Header.Stamp.Equal(time.Unix(1000, 250)) || m.Header.FrameId != "cam" || m.Header.Seq != 7 || m.Tick != 9 {
		t.Errorf("header %+v tick %d", m.Header, m.Tick)
	}
	if m.Deter[0] != 0 || m.Deter[7] != 7 || m.StochMean[1] != 2 || m.PriorStd[3] != 3 || m.Kl != 1.5 {
		t.Errorf("latent %+v", m)
	}
	if !m.StaleAction || !m.Anomaly || !math.IsNaN(float64(m.Elbo)) {
		t.Errorf("flags/elbo %+v", m)
	}
	// Messages own their slices: building another one or changing the snapshot leaves the
	// first intact (it may still be queued in goroslib).
	s.State.Deter[7] = -1
	if m.Deter[7] != 7 {
		t.Error("message shares the snapshot's buffer")
	}
	v := latentVectorMsg(s)
	if len(v.Data) != a.Deter+a.Stoch || v.Layout.Dim[0].Size != uint32(a.Deter+a.Stoch) {
		t.Errorf("vector %+v", v)
	}
	img := make([]float32, model.ImageValues)
	img[0], img[1], img[2] = -0.2, 0.5, 1.7
	data := make([]uint8, core.ImageBytes)
	core.ImageToRGB8(data, img)
	im := imageMsg(data, time.Unix(5, 0), "cam", 3)
	if im.Encoding != "rgb8" || im.Width != 64 || im.Step != 192 || im.Data[0] != 0 || im.Data[1] != 128 || im.Data[2] != 255 {
		t.Errorf("image %v %v", im.Encoding, im.Data[:3])
	}
	level, msg, values := core.Diagnostics(core.DiagInput{Snap: s, Rate: 2, Want: 20})
	d := diagnosticsMsg("/rssmd", time.Unix(5, 0), level, msg, values)
	if st := d.Status[0]; st.Level != core.DiagWarn || st.Name != "/rssmd: state estimator" || len(st.Values) != len(values) {
		t.Errorf("diagnostics %+v", st)
	}
}

// TestNamespaceEnv: NewNode does not rewrite the process environment; a ROS_NAMESPACE that
// disagrees with __ns:= is refused until the command aligns it.
func TestNamespaceEnv(t *testing.T) {
	t.Setenv("ROS_NAMESPACE", "/robot")
	env, err := ParseEnv(envOf(map[string]string{"ROS_MASTER_URI": "http://127.0.0.1:1", "ROS_NAMESPACE": "/robot"}), []string{"__ns:=/arm"})
	if err != nil {
		t.Fatal(err)
	}
	conf := Config{Env: env, Arch: testArch(), Period: time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := NewNode(conf); !errors.Is(err, ErrConfig) {
		t.Fatalf("mismatched ROS_NAMESPACE accepted: %v", err)
	}
	if v := os.Getenv("ROS_NAMESPACE"); v != "/robot" {
		t.Fatalf("NewNode changed ROS_NAMESPACE to %q", v)
	}
	if err := AlignNamespaceEnv(env); err != nil || os.Getenv("ROS_NAMESPACE") != "/arm" {
		t.Fatalf("AlignNamespaceEnv: %v, ROS_NAMESPACE %q", err, os.Getenv("ROS_NAMESPACE"))
	}
	n, err := NewNode(conf)
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
}
