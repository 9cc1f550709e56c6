// Command peers times rssmd's int8 path against ONNX Runtime on every RSSMO variant, interleaved
// in one run, and prints the comparison table (make bench-peers; README's performance section).
//
// It expects the folder that tools/peers/run.sh prepares: for each variant a model folder
// <dir>/<variant>/ with the int8 bundle int8.rssm (rssmd calibrate) and onnx/ (export_onnx.py:
// filter and decode graphs, float32 and dynamic int8). Each round runs, per variant, `rssmd bench`
// on the bundle and then ort_bench.js on the ONNX graphs, so both see the same machine load; a
// cell is the best (lowest) per-run median over the rounds, with the median over rounds beside it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Variants in table order: the published models (spec 2.9) and the action-free VIPER one.
var allVariants = []string{"rssmo", "rssmo-discrete", "viper", "rssmo-m", "rssmo-l", "rssmo-xl"}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "build/peers", "folder with <variant>/int8.rssm and <variant>/onnx/ (tools/peers/run.sh)")
	variants := fs.String("variants", strings.Join(allVariants, ","), "comma-separated variants to time (those missing from --dir are an error)")
	rounds := fs.Int("rounds", 3, "interleaved rounds (each variant: rssmd, then ONNX Runtime)")
	rssmd := fs.String("rssmd", "bin/rssmd", "rssmd binary")
	node := fs.String("node", "node", "node binary (NODE_PATH must reach onnxruntime-node)")
	script := fs.String("script", "tools/peers/ort_bench.js", "the ONNX Runtime timing script")
	avx2 := fs.Bool("avx2", true, "also time rssmd with AVX-512 switched off and the AVX2 GEMM forced (GODEBUG=cpu.avx512f=off RSSMD_KERNEL=avx2: AVX-VNNI CPUs would take avxvnni)")
	budget := fs.Float64("macs-budget", 1e10, "calls per measurement = budget / filter MACs, clamped to [50, 300]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rounds < 1 || *rounds > 100 {
		return fmt.Errorf("--rounds %d: want 1..100", *rounds)
	}
	names := strings.Split(*variants, ",")
	for _, v := range names {
		for _, p := range []string{filepath.Join(*dir, v, "int8.rssm"), filepath.Join(*dir, v, "onnx", "meta.json")} {
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("variant %q: %w (run tools/peers/run.sh first)", v, err)
			}
		}
	}
	res := make([]*variantResult, len(names))
	for i, v := range names {
		res[i] = &variantResult{Name: v}
	}
	load0 := loadAvg()
	ctx := context.Background()
	// A one-call bench per variant first: the MACs set the calls per measurement, and the
	// bundles are in the page cache before any round is timed.
	for _, vr := range res {
		out, err := command(ctx, *rssmd, "bench", "--model", filepath.Join(*dir, vr.Name, "int8.rssm"), "--json", "--steps", "1")
		if err != nil {
			return fmt.Errorf("%s: rssmd bench: %w", vr.Name, err)
		}
		var b rssmdBench
		if err := parseJSON(out, &b); err != nil {
			return fmt.Errorf("%s: rssmd bench output: %w", vr.Name, err)
		}
		vr.FilterMACs = b.FilterMACs
	}
	for r := 0; r < *rounds; r++ {
		for _, vr := range res {
			steps := 300
			if vr.FilterMACs > 0 {
				steps = min(300, max(50, int(*budget/float64(vr.FilterMACs))))
			}
			fmt.Fprintf(stderr, "round %d/%d %s: rssmd bench (%d calls)\n", r+1, *rounds, vr.Name, steps)
			out, err := command(ctx, *rssmd, "bench", "--model", filepath.Join(*dir, vr.Name, "int8.rssm"), "--json", "--steps", fmt.Sprint(steps))
			if err != nil {
				return fmt.Errorf("%s: rssmd bench: %w", vr.Name, err)
			}
			var b rssmdBench
			if err := parseJSON(out, &b); err != nil {
				return fmt.Errorf("%s: rssmd bench output: %w", vr.Name, err)
			}
			if *avx2 {
				out, err := commandEnv(ctx, []string{"GODEBUG=cpu.avx512f=off", "RSSMD_KERNEL=avx2"}, *rssmd, "bench", "--model", filepath.Join(*dir, vr.Name, "int8.rssm"), "--json", "--steps", fmt.Sprint(steps))
				if err != nil {
					return fmt.Errorf("%s: rssmd bench (AVX2): %w", vr.Name, err)
				}
				var b2 rssmdBench
				if err := parseJSON(out, &b2); err != nil {
					return fmt.Errorf("%s: rssmd bench (AVX2) output: %w", vr.Name, err)
				}
				vr.addAVX2(b2)
			}
			// A --int4 bundle beside the int8 one (run.sh makes them for the dreamer_resnet
			// variants) is timed in the same round.
			if q4 := filepath.Join(*dir, vr.Name, "int4.rssm"); fileExists(q4) {
				out, err := command(ctx, *rssmd, "bench", "--model", q4, "--json", "--steps", fmt.Sprint(steps))
				if err != nil {
					return fmt.Errorf("%s: rssmd bench (int4): %w", vr.Name, err)
				}
				var b4 rssmdBench
				if err := parseJSON(out, &b4); err != nil {
					return fmt.Errorf("%s: rssmd bench (int4) output: %w", vr.Name, err)
				}
				vr.addInt4(b4)
			}
			fmt.Fprintf(stderr, "round %d/%d %s: ONNX Runtime (%d calls per graph)\n", r+1, *rounds, vr.Name, steps)
			out, err = command(ctx, *node, *script, "--dir", filepath.Join(*dir, vr.Name, "onnx"), "--n", fmt.Sprint(steps))
			if err != nil {
				return fmt.Errorf("%s: %s: %w", vr.Name, *script, err)
			}
			var o ortBench
			if err := parseJSON(out, &o); err != nil {
				return fmt.Errorf("%s: %s output: %w", vr.Name, *script, err)
			}
			vr.add(b, o)
		}
	}
	env := tableEnv{Rounds: *rounds, Load: [2]string{load0, loadAvg()}, Go: runtime.Version()}
	if len(res) > 0 {
		env.CPU, env.Kernel, env.ORT = res[0].CPU, res[0].Kernel, res[0].ORTVersion
	}
	return writeTable(stdout, env, res)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// command runs name with args and returns its stdout; stderr is quoted in the error.
func command(ctx context.Context, name string, args ...string) ([]byte, error) {
	return commandEnv(ctx, nil, name, args...)
}

// commandEnv is command with extra environment variables.
func commandEnv(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(lastLines(errb.String(), 5)))
	}
	return out.Bytes(), nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// parseJSON decodes the last JSON object in out (tools may print log lines before it).
func parseJSON(out []byte, v any) error {
	i := bytes.LastIndex(out, []byte("\n{"))
	if i < 0 {
		i = bytes.IndexByte(out, '{')
		if i < 0 {
			return fmt.Errorf("no JSON object in %q", truncate(out, 200))
		}
	} else {
		i++
	}
	if err := json.Unmarshal(out[i:], v); err != nil {
		return fmt.Errorf("%w in %q", err, truncate(out[i:], 200))
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return "?"
	}
	return f[0]
}

var errNoData = errors.New("no rounds")
