package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const goldenActions = "../../model/testdata/golden/cnnha-actions"

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func runEnv(ctx context.Context, args ...string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	// These tests run without ROS even where CI exports ROS_MASTER_URI.
	os.Unsetenv("ROS_MASTER_URI")
	var out, errb bytes.Buffer
	return &Env{Ctx: ctx, Args: args, Stdout: &out, Stderr: &errb,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, &out, &errb
}

func TestRunReplayServesMetrics(t *testing.T) {
	addr := freeAddr(t)
	env, out, errb := runEnv(context.Background(), "--source", "replay:"+filepath.Join(goldenActions, "seq.npz"),
		"--model", goldenActions, "--duration", "2s", "--rate", "50", "--loop", "--metrics-addr", addr)
	done := make(chan error, 1)
	go func() { done <- runRun(env) }()
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if m := regexp.MustCompile(`(?m)^rssmd_steps_total (\d+)`).FindStringSubmatch(body); m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= 5 {
				break
			}
		}
	}
	if !strings.Contains(body, "rssmd_steps_total") {
		t.Fatalf("metrics never served with steps; last body %d bytes", len(body))
	}
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	m := regexp.MustCompile(`ticks (\d+) in [^:]+: (\d+) steps.*\((\d+) periods skipped\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no summary in output:\n%s", out.String())
	}
	ticks, _ := strconv.Atoi(m[1])
	steps, _ := strconv.Atoi(m[2])
	skipped, _ := strconv.Atoi(m[3])
	// 2 s at 50 Hz is 100 periods, each ticked or skipped after an overrun (slow machine).
	if p := ticks + skipped; p < 80 || p > 102 || steps < 5 {
		t.Fatalf("ticks %d skipped %d steps %d\n%s", ticks, skipped, steps, out.String())
	}
	if !strings.Contains(out.String(), "p99") || !strings.Contains(out.String(), "mean MSE") {
		t.Fatalf("summary lacks latency or prediction quality:\n%s", out.String())
	}
}

func TestRunConfigFileAndOverride(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "run.yaml")
	text := "model: " + goldenActions + "\nsource: replay:" + filepath.Join(goldenActions, "seq.npz") +
		"\nrate: 1000\nmetrics_addr: \"off\"\n"
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "r.rec")
	env, out, errb := runEnv(context.Background(), "--config", cfg, "--rate", "200", "--record", rec)
	if err := runRun(env); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "recorded ") {
		t.Fatalf("the --record override was lost:\n%s", out.String())
	}
	if _, err := os.Stat(rec); err != nil {
		t.Fatal(err)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--model", goldenActions}, "required"},
		{[]string{"--model", goldenActions, "--source", "replay:" + goldenActions + "/seq.npz", "--int8"}, "int8"},
		{[]string{"--model", goldenActions, "--source", "nowhere"}, "source"},
	}
	for _, tc := range tests {
		env, _, errb := runEnv(context.Background(), tc.args...)
		err := runRun(env)
		if err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		if !strings.Contains(err.Error()+errb.String(), tc.want) {
			t.Errorf("%v: error %q, stderr %q, want %q", tc.args, err, errb.String(), tc.want)
		}
	}
}

func TestDevicesNoDevices(t *testing.T) {
	env, out, _ := runEnv(context.Background(), "--glob", filepath.Join(t.TempDir(), "video*"))
	if err := runDevices(env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no V4L2 devices") {
		t.Fatalf("output %q", out.String())
	}
}
