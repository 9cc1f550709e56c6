package ros

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/monitor"
	"github.com/rssmd/rssmd/runtime/tick"
)

// replaySource plays a looping replay one frame per tick (Latest takes the next frame), with
// capture stamps from a fake camera clock far from now, remembering each frame's stamp.
type replaySource struct {
	r      *capture.Replay
	mu     sync.Mutex
	stamps map[uint64]time.Time
}

func (s *replaySource) Latest() (capture.Frame, bool) {
	f, err := s.r.Next(context.Background())
	if err != nil {
		return capture.Frame{}, false
	}
	s.mu.Lock()
	s.stamps[f.Seq] = f.Captured
	s.mu.Unlock()
	return f, true
}

func (s *replaySource) Stats() capture.Stats { return s.r.Stats() }

func (s *replaySource) stamp(seq uint64) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stamps[seq]
	return st, ok
}

// TestIntegrationReward: the action-free (VIPER) golden model runs on a looping replay of its
// sequence with the monitor's ELBO on; a rospy subscriber receives ~reward (rssmd_msgs/Reward)
// stamped with each frame's capture time, and every value equals what `rssmd filter`
// (model.Filter) computes for the same frame: 0 with is_first at every loop's first frame
// (the wrap starts an episode), symlog(elbo) elsewhere.
func TestIntegrationReward(t *testing.T) {
	needROS(t)
	m := startMaster(t)
	dir := filepath.Join("..", "..", "model", "testdata", "golden", "cnnha-actionfree")
	mdl, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	seqPath := filepath.Join(dir, "seq.npz")
	fseq, err := seqio.ReadSequenceFile(seqPath)
	if err != nil {
		t.Fatal(err)
	}
	arrs, err := model.Filter(mdl.NewRunner(), fseq, model.FilterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wantReward, wantELBO []float32
	for _, a := range arrs {
		switch a.Name {
		case "viper_reward":
			wantReward = a.Data
		case "elbo":
			wantELBO = a.Data
		}
	}
	for i := 1; i < fseq.T; i++ {
		if fseq.IsFirst != nil && fseq.IsFirst[i] {
			t.Fatalf("the sequence starts an episode at %d: one pass must be one episode for this test", i)
		}
	}

	var n int64
	stamp0 := time.Unix(1_400_000_000, 0)
	rp, err := capture.NewReplay(capture.ReplayConfig{Path: seqPath, Loop: true, Now: func() time.Time {
		n++ // called once per frame, on the loop goroutine
		return stamp0.Add(time.Duration(n) * 50 * time.Millisecond)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	src := &replaySource{r: rp, stamps: map[uint64]time.Time{}}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	node, err := NewNode(Config{Env: testEnv(t, m), Arch: mdl.Arch, Period: 50 * time.Millisecond, FrameID: "viper_cam",
		MasterPoll: 200 * time.Millisecond, RetryMin: 100 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	mon, err := monitor.New(monitor.Config{Model: mdl.NewRunner(), ELBO: true})
	if err != nil {
		t.Fatal(err)
	}
	loop, err := tick.New(tick.Config{Rate: 20, Model: mdl.NewRunner(), Source: src, Monitor: mon,
		Sinks: []tick.Sink{node}, Clock: node.Clock(), MaxFrameAge: time.Hour, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { loop.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; node.Close() })
	select {
	case <-node.Ready():
	case <-time.After(15 * time.Second):
		t.Fatal("node did not register")
	}

	msgs, err := m.py(40*time.Second, "echo", "/rssmd/reward", "20", "30")
	if err != nil || len(msgs) != 20 {
		t.Fatalf("~reward: %d messages, err %v", len(msgs), err)
	}
	firsts := 0
	for _, g := range msgs {
		seq := uint64(num(g["seq"]))
		k := int(seq % uint64(fseq.T))
		if g["type"] != "rssmd_msgs/Reward" || g["frame_id"] != "viper_cam" {
			t.Errorf("seq %d: %v", seq, g)
		}
		if want, ok := src.stamp(seq); !ok || nsec(g["stamp"]) != want.UnixNano() {
			t.Errorf("seq %d: stamp %v, want the frame's capture stamp %v", seq, g["stamp"], want.UnixNano())
		}
		isFirst, _ := g["is_first"].(bool)
		if isFirst != (k == 0) {
			t.Errorf("seq %d (frame %d): is_first %v", seq, k, isFirst)
		}
		if isFirst {
			firsts++
		}
		r, e := num(g["reward"]), num(g["elbo"])
		if w := float64(wantReward[k]); math.Abs(r-w) > 1e-5*math.Max(1, math.Abs(w)) || (k == 0 && r != 0) {
			t.Errorf("seq %d (frame %d): reward %v, rssmd filter's viper_reward %v", seq, k, r, w)
		}
		if w := float64(wantELBO[k]); math.Abs(e-w) > 1e-5*math.Abs(w) {
			t.Errorf("seq %d (frame %d): elbo %v, rssmd filter's %v", seq, k, e, w)
		}
	}
	if firsts == 0 {
		t.Errorf("no is_first among %d messages over %d+ loops of %d frames", len(msgs), 20/fseq.T, fseq.T)
	}
	t.Logf("%d rewards, %d episode starts; first %v", len(msgs), firsts, fmt.Sprint(msgs[0]["reward"]))
}
