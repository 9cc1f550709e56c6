package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model/seqio"
)

func simEnv(args ...string) (*Env, *bytes.Buffer) {
	var out bytes.Buffer
	return &Env{Ctx: context.Background(), Args: args, Stdout: &out, Stderr: io.Discard,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, &out
}

func TestSimRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "eps")
	env, out := simEnv("--record", dir, "--episodes", "2", "--length", "12", "--seed", "5")
	if err := runSim(env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "recorded 2 episodes of 12 frames") {
		t.Errorf("output %q", out.String())
	}
	var first [2][]byte
	for i := range 2 {
		seq, err := seqio.ReadSequenceFile(filepath.Join(dir, []string{"0.npz", "1.npz"}[i]))
		if err != nil {
			t.Fatal(err)
		}
		if seq.T != 12 || seq.ActionDim != 2 || seq.Action(0)[0] != 0 || seq.Action(0)[1] != 0 {
			t.Fatalf("episode %d: T=%d A=%d row0=%v", i, seq.T, seq.ActionDim, seq.Action(0))
		}
		first[i] = seq.Frame(0)
	}
	if bytes.Equal(first[0], first[1]) {
		t.Error("episodes 0 and 1 start identically: seeds not advanced")
	}
}

func TestSimFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		args  []string
		usage bool
	}{
		{"no dir", nil, true},
		{"bad flag", []string{"--nope"}, true},
		{"episodes", []string{"--record", dir, "--episodes", "0"}, false},
		{"length", []string{"--record", dir, "--length", "0"}, false},
		{"format", []string{"--record", dir, "--format", "NV12"}, false},
		{"size", []string{"--record", dir, "--width", "33"}, false},
		{"rate", []string{"--record", dir, "--rate", "-1"}, false},
		{"disturb", []string{"--record", dir, "--disturb-every", "10", "--disturb-frames", "10"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := simEnv(tc.args...)
			err := runSim(env)
			if err == nil || errors.Is(err, errUsage) != tc.usage {
				t.Fatalf("got %v, usage error wanted: %v", err, tc.usage)
			}
		})
	}
}

// The shipped demo episodes are exactly what `rssmd sim --record` makes
// from their seeds (models/demo/README.md says how to regenerate them).
func TestSimReproducesShippedEpisodes(t *testing.T) {
	for _, tc := range []struct {
		file string
		args []string
	}{
		{"heldout-0.npz", []string{"--seed", "900001", "--length", "100"}},
		{"disturbed-0.npz", []string{"--seed", "910001", "--length", "200", "--disturb-every", "40", "--disturb-frames", "20"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			dir := t.TempDir()
			env, _ := simEnv(append([]string{"--record", dir, "--episodes", "1"}, tc.args...)...)
			if err := runSim(env); err != nil {
				t.Fatal(err)
			}
			got, err := seqio.ReadSequenceFile(filepath.Join(dir, "0.npz"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := seqio.ReadSequenceFile(filepath.Join("..", "..", "models", "demo", "episodes", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got.T != want.T {
				t.Fatalf("T = %d, want %d", got.T, want.T)
			}
			// Allow the preprocessor's rounding to change by one level in a
			// few values (runtime/frame may tune its fixed-point arithmetic);
			// a change in the scene would move far more.
			var off int
			for i, v := range want.Images {
				d := int(got.Images[i]) - int(v)
				if d < -1 || d > 1 {
					t.Fatalf("image value %d = %d, want %d", i, got.Images[i], v)
				}
				if d != 0 {
					off++
				}
			}
			if off > len(want.Images)/100 {
				t.Fatalf("%d of %d image values differ by one level", off, len(want.Images))
			}
			for i := range want.PreAction {
				if got.PreAction[i] != want.PreAction[i] {
					t.Fatalf("pre_action[%d] = %v, want %v", i, got.PreAction[i], want.PreAction[i])
				}
			}
		})
	}
}
