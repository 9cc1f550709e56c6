package cli

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/tick"
)

func demoEnv(t *testing.T, args ...string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	return &Env{Ctx: context.Background(), Args: args, Stdout: &out, Stderr: &errb,
		Log: slog.New(slog.NewTextHandler(&errb, nil))}, &out, &errb
}

// `rssmd demo --duration 3s --headless` runs in real time and prints the summary.
func TestDemoCommand(t *testing.T) {
	env, out, errb := demoEnv(t, "--duration", "3s", "--headless", "--addr", "127.0.0.1:0")
	start := time.Now()
	if err := runDemo(env); err != nil {
		t.Fatalf("demo: %v\nstderr:\n%s", err, errb)
	}
	if took := time.Since(start); took < 3*time.Second || took > 20*time.Second {
		t.Errorf("a 3s demo took %v", took)
	}
	s := out.String()
	t.Log("\n" + s)
	for _, want := range []string{"dashboard: http://127.0.0.1:", "rssmd demo summary", "latency", "deadline misses", "anomalies:", "injected", "ROS:"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	m := regexp.MustCompile(`ticks (\d+) \(\d+ steps\) in .*\((\d+) periods skipped\)`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no tick count in:\n%s", s)
	}
	// 3 s at 50 Hz: 150 periods, ticked or skipped (a loaded machine or -race skips many);
	// the last tick may overrun the end by up to its own duration.
	ticks, _ := strconv.Atoi(m[1])
	skipped, _ := strconv.Atoi(m[2])
	slack := 20
	if mx := regexp.MustCompile(`p99 \S+, max (\S+)\n`).FindStringSubmatch(s); mx != nil {
		if d, err := time.ParseDuration(mx[1]); err == nil {
			slack += 2 * int(d/(20*time.Millisecond))
		}
	}
	if p := ticks + skipped; p < 140 || p > 150+slack || ticks < 5 {
		t.Errorf("%d ticks + %d skipped periods in 3 s at 50 Hz", ticks, skipped)
	}
}

func TestDemoBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "0"}, "--rate"},
		{[]string{"--rate", "-5"}, "--rate"},
		{[]string{"--disturb-for", "10s"}, "--disturb-for"},
		{[]string{"--kind", "fp16"}, "--kind"},
		{[]string{"--kind", "int8", "--model", "../../" + standInModel}, "no int8 bundle"},
		{[]string{"--duration", "-1s"}, "--duration"},
		{[]string{"--model", "/nonexistent/model"}, "/nonexistent/model"},
		{[]string{"--addr", "256.1.1.1:99999"}, "listen"},
		{[]string{"--seed", "x"}, "usage"},
		{[]string{"extra"}, "usage"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			env, _, _ := demoEnv(t, append([]string{"--duration", "1s"}, tc.args...)...)
			err := runDemo(env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("demo %v: %v, want an error about %q", tc.args, err, tc.want)
			}
		})
	}
}

// A fake clock runs the demo as fast as the CPU allows and deterministically.
func TestDemoFakeClockDeterministic(t *testing.T) {
	run := func() *demoResult {
		clk := &tick.FakeClock{T: time.Unix(1e6, 0)}
		r, err := demo(context.Background(), demoOptions{Addr: "off", Kind: "auto", Rate: 50, Duration: 6 * time.Second, Seed: 3,
			Every: 2 * time.Second, For: 500 * time.Millisecond, Grace: 500 * time.Millisecond, Horizon: 5, Clock: clk,
			Log: slog.New(slog.DiscardHandler)}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(), run()
	if a.Steps < 299 || a.Steps > 302 {
		t.Errorf("%d steps in 6 s of fake time at 50 Hz", a.Steps)
	}
	if a.Injected != 2 {
		t.Errorf("%d disturbances injected, want 2 (at 2 s and 4 s; the one at 6 s is cut)", a.Injected)
	}
	if a.MeanPSNR != b.MeanPSNR || a.MeanKL != b.MeanKL || a.Detected != b.Detected || a.FalseAlarms != b.FalseAlarms {
		t.Errorf("two runs with the same seed differ: %+v vs %+v", a, b)
	}
}

// TestDemoAnomalyDetection measures the demo's anomaly detection on a scripted run: 8
// disturbances (occlude, dim, shove, brighten, twice), fake clock, fixed seed. A detection is
// the flag raised during a disturbance or within 0.5 s after it; a false alarm is a flag
// raised outside every such window. It needs the demo model: the stand-in's predictions of
// the scene are meaningless, so its numbers are only logged.
func TestDemoAnomalyDetection(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a 38 s simulated run")
	}
	clk := &tick.FakeClock{T: time.Unix(1e6, 0)}
	r, err := demo(context.Background(), demoOptions{Addr: "off", Kind: "auto", Rate: 50, Duration: 38 * time.Second, Seed: 7,
		Every: 4 * time.Second, For: 1500 * time.Millisecond, Grace: 500 * time.Millisecond, Clock: clk,
		Log: slog.New(slog.DiscardHandler)}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	perMin := perMinute(r.FalseAlarms, r.Minutes)
	t.Logf("%s model %s: %d/%d disturbances detected, %d false alarms in %.2f min (%.2f/min); PSNR %.2f dB undisturbed, %s disturbed",
		r.Kind, r.ModelPath, r.Detected, r.Injected, r.FalseAlarms, r.Minutes, perMin, r.MeanPSNR, dbOrNA(r.MeanPSNRDisturbed, r.DecodedDistd))
	if r.Injected != 9 {
		t.Errorf("%d disturbances injected, want 9 (one every 4 s from 4 s to 36 s)", r.Injected)
	}
	if r.StandIn {
		t.Skip("the demo model is not in this checkout (models/demo): detection thresholds are asserted only for it")
	}
	if 3*r.Detected < 2*r.Injected {
		t.Errorf("detected %d of %d disturbances, want ≥ 2/3", r.Detected, r.Injected)
	}
	if perMin > 1 {
		t.Errorf("%.2f false alarms per minute, want ≤ 1", perMin)
	}
}
