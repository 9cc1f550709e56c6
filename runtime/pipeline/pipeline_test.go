package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/record"
	"github.com/rssmd/rssmd/runtime/tick"
)

const golden = "../../model/testdata/golden/cnnha-actions"

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// signalSink closes ready after n steps.
type signalSink struct {
	n     int
	ready chan struct{}
}

func (s *signalSink) OnTick(r *tick.Result) {
	s.n--
	if s.n == 0 {
		close(s.ready)
	}
}

func metricValue(t *testing.T, body, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("metric %s missing", name)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestReplayEndToEnd(t *testing.T) {
	recPath := filepath.Join(t.TempDir(), "run.rec")
	conf := Defaults()
	conf.Model, conf.Source, conf.Loop = golden, "replay:"+filepath.Join(golden, "seq.npz"), true
	conf.Rate, conf.Duration, conf.MetricsAddr = 100, time.Second, "127.0.0.1:0"
	conf.Record, conf.RecordFrames, conf.DecodeEvery, conf.ELBO = recPath, true, 2, true
	// The 11th step's sinks run after the 10th tick published its counters (the loop publishes
	// them after its sinks), so the scrape below sees at least 10 steps.
	sig := &signalSink{n: 11, ready: make(chan struct{})}
	p, err := New(conf, Deps{Sinks: []tick.Sink{sig}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	type out struct {
		s   Summary
		err error
	}
	done := make(chan out, 1)
	go func() {
		s, err := p.Run(context.Background())
		done <- out{s, err}
	}()
	select {
	case <-sig.ready:
	case <-time.After(5 * time.Second):
		t.Fatal("no 11 steps within 5s")
	}
	resp, err := http.Get("http://" + p.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if v := metricValue(t, body, "rssmd_steps_total"); v < 10 {
		t.Fatalf("rssmd_steps_total %v during the run, want ≥ 10", v)
	}
	if !strings.Contains(body, `rssmd_stage_seconds_count{stage="step"}`) || metricValue(t, body, "rssmd_prediction_mse") <= 0 {
		t.Fatal("stage histogram or prediction MSE missing")
	}
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	s := o.s
	// 1 s at 100 Hz is 100 periods: each handled by a tick or skipped after an overrun (a
	// loaded machine or -race makes steps slow), never queued. The last tick may overrun the
	// end of the run by up to its own duration (two of the slowest ticks of slack).
	slack := 2 + 2*int(s.LatencyMax/(10*time.Millisecond))
	if periods := s.Ticks + s.SkippedTicks; periods < 80 || periods > uint64(102+slack) || s.Steps < 10 || s.Samples != int(s.Steps) {
		t.Fatalf("ticks %d skipped %d steps %d samples %d", s.Ticks, s.SkippedTicks, s.Steps, s.Samples)
	}
	if s.Decoded == 0 || !(s.MeanMSE > 0 && s.MeanMSE < 1) || s.MeanKL <= 0 || s.LatencyMedian <= 0 || s.LatencyP99 < s.LatencyMedian {
		t.Fatalf("summary %+v", s)
	}
	if s.ActionsFresh == 0 || s.ActionsRejected != 0 {
		t.Fatalf("replay actions: fresh %d rejected %d", s.ActionsFresh, s.ActionsRejected)
	}
	// The recording holds every step, fsynced at shutdown.
	f, err := os.Open(recPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seq, err := record.ReadSequence(f)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(seq.T) != s.Steps || s.RecordWritten != s.Steps || s.RecordDropped != 0 || seq.Torn {
		t.Fatalf("recording has %d records (torn %v), run had %d steps, written %d dropped %d", seq.T, seq.Torn, s.Steps, s.RecordWritten, s.RecordDropped)
	}
	// Metrics are shut down with the run.
	if _, err := http.Get("http://" + p.MetricsAddr() + "/metrics"); err == nil {
		t.Fatal("metrics still served after Run returned")
	}
}

func TestReplayEndsRun(t *testing.T) {
	c := Defaults()
	c.Model, c.Source, c.Rate, c.MetricsAddr = golden, "replay:"+filepath.Join(golden, "seq.npz"), 200, "off"
	p, err := New(c, Deps{}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second || s.Steps == 0 {
		t.Fatalf("run of a finished replay took %v with %d steps", time.Since(start), s.Steps)
	}
}

func TestConfigErrors(t *testing.T) {
	with := func(f func(c *Config)) Config {
		c := Defaults()
		c.Model, c.MetricsAddr = golden, "off"
		f(&c)
		return c
	}
	tests := []struct {
		name string
		conf Config
		want error
	}{
		{"int8 of a float32 model", with(func(c *Config) { c.Int8, c.Source = true, "replay:"+golden+"/seq.npz" }), ErrNeedsCalibration},
		{"no model", with(func(c *Config) { c.Model, c.Source = "", "replay:x" }), ErrConfig},
		{"bad source", with(func(c *Config) { c.Source = "camera0" }), ErrConfig},
		{"bad kind", with(func(c *Config) { c.Source = "http:x" }), ErrConfig},
		{"bad policy", with(func(c *Config) { c.ActionPolicy = "random" }), ErrConfig},
		{"bad decode", with(func(c *Config) { c.DecodeEvery = -1 }), ErrConfig},
		{"bad filter", with(func(c *Config) { c.Filter = "cubic" }), ErrConfig},
		{"negative duration", with(func(c *Config) { c.Duration = -1 }), ErrConfig},
		{"zero rate", with(func(c *Config) { c.Rate = 0 }), ErrConfig},
	}
	for _, tc := range tests {
		if _, err := New(tc.conf, Deps{}, quiet()); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := New(with(func(c *Config) { c.Source = "replay:/nonexistent.npz" }), Deps{}, quiet()); err == nil {
		t.Error("missing replay file accepted")
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.yaml": "model: m\nsource: replay:x.npz\nrate: 20\nduration: 2s\ndecode_every: 0\naction_max_age: 250ms\n",
		"a.json": `{"model":"m","source":"replay:x.npz","rate":20,"duration":"2s","decode_every":0,"action_max_age":"250ms"}`,
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Model != "m" || c.Rate != 20 || c.Duration != 2*time.Second || c.DecodeEvery != 0 ||
			c.ActionMaxAge != 250*time.Millisecond {
			t.Fatalf("%s: %+v", name, c)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("modle: typo\n"), 0o644)
	if _, err := LoadConfig(bad); err == nil {
		t.Fatal("unknown field accepted")
	}
}
