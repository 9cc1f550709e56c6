package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/goldentest"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/runtime/record"
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
	m := regexp.MustCompile(`ticks (\d+) in ([^:]+): (\d+) steps, (\d+) without a new frame.*\((\d+) periods skipped\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no summary in output:\n%s", out.String())
	}
	ticks, _ := strconv.Atoi(m[1])
	wall, err := time.ParseDuration(m[2])
	if err != nil {
		t.Fatalf("summary wall time %q: %v", m[2], err)
	}
	steps, _ := strconv.Atoi(m[3])
	noFrame, _ := strconv.Atoi(m[4])
	skipped, _ := strconv.Atoi(m[5])
	// Every 20 ms period from the start to the 2 s deadline was ticked or counted as skipped
	// after an overrun, however slow the machine: the loop sleeps only until the next
	// boundary, so when the deadline cancels it that boundary is past the deadline (less the
	// few ms between the deadline's start and the loop's). Periods after it are those the
	// last tick's overrun spanned, inside the run's wall time (which ends after that tick).
	const period = 20 * time.Millisecond
	lo, hi := int((2*time.Second-100*time.Millisecond)/period), int(wall/period)+1
	if p := ticks + skipped; p < lo || p > hi {
		t.Errorf("%d ticks + %d skipped = %d periods in %v, want %d..%d\n%s", ticks, skipped, p, wall, lo, hi, out.String())
	}
	// A looping lockstep replay has a new frame for every tick.
	if steps != ticks || noFrame != 0 {
		t.Errorf("%d steps and %d ticks without a frame in %d ticks: lockstep replay steps every tick\n%s", steps, noFrame, ticks, out.String())
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

// TestRunReplayLockstepMatchesFilter is issue 13.4: `rssmd run --source replay:` without a
// replay rate steps every frame once, in order (lockstep), so two runs of the same file record
// bit-identical states, KL and ELBO, and those are bit-for-bit what `rssmd filter` writes for
// the file. The input carries a stamp array and an episode start in its middle, so the
// recorded stamps must be the file's and the filter's is_first must reach the run too. The
// runs tick at 1000 Hz, far faster than the model steps: a free-running replay would skip
// most frames there, lockstep skips none.
func TestRunReplayLockstepMatchesFilter(t *testing.T) {
	type tcase struct{ name, model, seq string }
	cases := []tcase{
		{"cnnha-float32", goldenActions, filepath.Join(goldenActions, "seq.npz")},
		{"demo-int8", "../../models/demo/rssmo-arm/rssmo-arm.int8.rssm", "../../models/demo/episodes/heldout-0.npz"},
	}
	if !testing.Short() {
		// The walker, float32 and int8 (calibrated here on seq-00: no shared int8 bundle ships).
		td := goldentest.SharedTestdata(t)
		walker := filepath.Join(td, "models", "walker-wm-synthetic")
		q := filepath.Join(t.TempDir(), "walker.int8.rssm")
		if _, e, code := runCLI(t, "calibrate", "--model", walker, "--data", filepath.Join(td, "sequences", "seq-00.npz"), "--out", q); code != 0 {
			t.Fatalf("calibrate: exit %d: %s", code, e)
		}
		in := filepath.Join(td, "golden", "shared-walker", "seq.npz")
		cases = append(cases, tcase{"walker-float32", walker, in}, tcase{"walker-int8", q, in})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			seq, err := seqio.ReadSequenceFile(tc.seq)
			if err != nil {
				t.Fatal(err)
			}
			T := seq.T
			isFirst := make([]bool, T)
			isFirst[0], isFirst[T/2] = true, true
			stamps := make([]float64, T)
			for i := range stamps {
				stamps[i] = 1.7e9 + 0.25 + float64(i)/30 // a recording at 30 fps
			}
			in := filepath.Join(dir, "in.npz")
			writeSequenceNPZ(t, in, seq, isFirst, stamps)

			out := filepath.Join(dir, "filter.npz")
			if _, e, code := runCLI(t, "filter", "--model", tc.model, "--in", in, "--out", out); code != 0 {
				t.Fatalf("filter: exit %d: %s", code, e)
			}
			want := map[string][]float32{}
			for _, a := range readOutput(t, out) {
				want[a.name] = a.arr.F32
			}
			var runs [2][]record.TickRecord
			for i := range runs {
				rec := filepath.Join(dir, fmt.Sprintf("run%d.rec", i))
				o, e, code := runCLI(t, "run", "--model", tc.model, "--source", "replay:"+in, "--rate", "1000",
					"--elbo", "--metrics-addr", "off", "--record", rec)
				if code != 0 {
					t.Fatalf("run %d: exit %d: %s", i, code, e)
				}
				if want := fmt.Sprintf("source: %d frames, 0 dropped, 0 skipped", T); !strings.Contains(o, want) {
					t.Errorf("run %d: summary lacks %q:\n%s", i, want, o)
				}
				if !strings.Contains(o, fmt.Sprintf("recorded %d ticks, dropped 0", T)) {
					t.Errorf("run %d: summary does not record every step:\n%s", i, o)
				}
				runs[i] = readRecords(t, rec)
			}
			a := seq.ActionDim
			H, S := len(want["deter"])/T, len(want["stoch"])/T
			for i := range runs {
				if len(runs[i]) != T {
					t.Fatalf("run %d recorded %d steps, want %d (one per frame)", i, len(runs[i]), T)
				}
				for k, r := range runs[i] {
					where := fmt.Sprintf("run %d step %d", i, k)
					wantStamp := time.Unix(0, 0).Add(time.Duration(math.Round(stamps[k] * 1e9))).UnixNano()
					switch {
					case r.Seq != uint64(k):
						t.Fatalf("%s: frame %d, want %d (skipped or repeated)", where, r.Seq, k)
					case r.IsFirst != isFirst[k]:
						t.Fatalf("%s: is_first %v, want %v", where, r.IsFirst, isFirst[k])
					case absInt64(r.StampNs-wantStamp) > 1000:
						t.Fatalf("%s: stamp %d ns, want the file's %d", where, r.StampNs, wantStamp)
					case a > 0 && !sameBits(r.Action, seq.PreAction[k*a:(k+1)*a]):
						t.Fatalf("%s: action %v, want the file's %v", where, r.Action, seq.PreAction[k*a:(k+1)*a])
					case !sameBits(r.Deter, want["deter"][k*H:(k+1)*H]):
						t.Fatalf("%s: deter differs from rssmd filter's", where)
					case !sameBits(r.Stoch, want["stoch"][k*S:(k+1)*S]):
						t.Fatalf("%s: stoch differs from rssmd filter's", where)
					case math.Float32bits(r.KL) != math.Float32bits(want["kl"][k]):
						t.Fatalf("%s: KL %v, rssmd filter %v", where, r.KL, want["kl"][k])
					case math.Float32bits(r.ELBO) != math.Float32bits(want["elbo"][k]):
						t.Fatalf("%s: ELBO %v, rssmd filter %v", where, r.ELBO, want["elbo"][k])
					}
					// Run to run, the monitor's prediction error too.
					if i == 1 && (math.Float32bits(r.MSE) != math.Float32bits(runs[0][k].MSE) || r.Decoded != runs[0][k].Decoded) {
						t.Fatalf("%s: prediction MSE %v (decoded %v), run 0 %v (%v)", where, r.MSE, r.Decoded, runs[0][k].MSE, runs[0][k].Decoded)
					}
				}
			}
		})
	}
}

// writeSequenceNPZ writes seq's image and pre_action with the given is_first and stamp
// (float64 seconds) arrays as an uncompressed npz.
func writeSequenceNPZ(t *testing.T, path string, seq *model.Sequence, isFirst []bool, stamps []float64) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, descr string, shape []int, data any) {
		dims := make([]string, len(shape))
		for i, d := range shape {
			dims[i] = strconv.Itoa(d)
		}
		sh := "(" + strings.Join(dims, ", ")
		if len(dims) == 1 {
			sh += ","
		}
		h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s), }", descr, sh)
		for (10+len(h)+1)%64 != 0 {
			h += " "
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("\x93NUMPY\x01\x00"))
		binary.Write(w, binary.LittleEndian, uint16(len(h)+1))
		w.Write([]byte(h + "\n"))
		if err := binary.Write(w, binary.LittleEndian, data); err != nil {
			t.Fatal(err)
		}
	}
	add("image", "|u1", []int{seq.T, 64, 64, 3}, seq.Images)
	add("pre_action", "<f4", []int{seq.T, seq.ActionDim}, seq.PreAction)
	add("is_first", "|b1", []int{seq.T}, isFirst)
	add("stamp", "<f8", []int{seq.T}, stamps)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readRecords(t *testing.T, path string) []record.TickRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := record.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []record.TickRecord
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c := *r
		c.Action, c.Deter, c.Stoch = slices.Clone(r.Action), slices.Clone(r.Deter), slices.Clone(r.Stoch)
		out = append(out, c)
	}
	if rd.Torn() {
		t.Fatalf("%s: torn tail", path)
	}
	return out
}

// sameBits compares float32 slices bit for bit (NaN included).
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func absInt64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
