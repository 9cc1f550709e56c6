package metrics

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/tick"
)

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, err %v", resp.StatusCode, err)
	}
	return string(b)
}

func TestScrape(t *testing.T) {
	stats := tick.Stats{Ticks: 42, Steps: 40, DeadlineMisses: 3, ActionsRejected: 2, ActionsHeld: 5,
		Source: capture.Stats{Frames: 41, Reconnects: 1, Connected: true}}
	m, err := New(Config{Addr: "127.0.0.1:0", Stats: func() tick.Stats { return stats },
		Recorder: func() (uint64, uint64) { return 7, 1 },
		Info:     Info{Model: "cnnha", Kind: "float32", Deter: 8, Stoch: 4, ActionDim: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := &tick.Result{FrameAge: 3 * time.Millisecond, Quality: tick.Quality{Decoded: true, MSE: 0.0125, PSNR: 19.03, KL: 2.5, ELBO: -10, Anomaly: true}}
	r.Stages[tick.StageStep] = 300 * time.Microsecond
	r.Stages[tick.StageTotal] = 400 * time.Microsecond
	m.OnTick(r)
	m.ObservePrepare(500 * time.Microsecond)
	body := scrape(t, m.Addr())
	for _, want := range []string{
		"rssmd_ticks_total 42",
		"rssmd_deadline_misses_total 3",
		"rssmd_actions_rejected_total 2",
		`rssmd_actions_total{status="held"} 5`,
		"rssmd_frames_total 41",
		"rssmd_reconnects_total 1",
		"rssmd_source_connected 1",
		`rssmd_prepare_seconds_bucket{le="0.0008"} 1`,
		`rssmd_prepare_seconds_bucket{le="0.0004"} 0`,
		"rssmd_record_written_total 7",
		"rssmd_record_dropped_total 1",
		"rssmd_prediction_mse 0.0125",
		"rssmd_kl_nats 2.5",
		"rssmd_anomaly 1",
		`rssmd_stage_seconds_bucket{stage="step",le="0.0004"} 1`,
		`rssmd_stage_seconds_bucket{stage="step",le="0.0002"} 0`,
		`rssmd_stage_seconds_count{stage="total"} 1`,
		"rssmd_frame_age_seconds_count 1",
		`rssmd_model_info{action_dim="2",deter="8",kernel="",kind="float32",model="cnnha",stoch="4"} 1`,
		"rssmd_build_info{",
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	// The private registry stays private.
	mfs, _ := prometheus.DefaultGatherer.Gather()
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "rssmd_") {
			t.Fatalf("%s leaked into the global registry", mf.GetName())
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + m.Addr() + "/metrics"); err == nil {
		t.Fatal("server still answers after Close")
	}
}

func TestConfig(t *testing.T) {
	st := func() tick.Stats { return tick.Stats{} }
	if _, err := New(Config{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("nil Stats: %v", err)
	}
	if _, err := New(Config{Stats: st, Addr: "no-port"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad addr: %v", err)
	}
	m, err := New(Config{Stats: st})
	if err != nil || m.conf.Addr != DefaultAddr || !strings.HasPrefix(DefaultAddr, "127.0.0.1:") {
		t.Fatalf("default addr %q, err %v", m.conf.Addr, err)
	}
}

func TestOnTickAllocatesNothing(t *testing.T) {
	m, err := New(Config{Stats: func() tick.Stats { return tick.Stats{} }})
	if err != nil {
		t.Fatal(err)
	}
	r := &tick.Result{Quality: tick.Quality{Decoded: true}}
	if a := testing.AllocsPerRun(100, func() { m.OnTick(r) }); a != 0 {
		t.Fatalf("%v allocations per OnTick", a)
	}
}
