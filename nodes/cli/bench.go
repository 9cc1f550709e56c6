package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/calibration"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/quant"
)

// latency is a per-call latency summary in microseconds.
type latency struct {
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	N      int     `json:"n"`
}

// benchResult is the --json output.
type benchResult struct {
	Kernel        string   `json:"kernel"`
	CPU           string   `json:"cpu,omitempty"`
	GoVersion     string   `json:"go_version"`
	FilterF32     *latency `json:"filter_step_f32_us"`
	FilterInt8    latency  `json:"filter_step_int8_us"`
	PriorInt8     latency  `json:"prior_step_int8_us"`
	DecodeInt8    *latency `json:"decode_int8_us"`
	AllocsPerStep float64  `json:"allocs_per_step"`
	FilterMACs    int64    `json:"filter_macs"`
	DecodeMACs    int64    `json:"decode_macs"`
	Int8GMACs     float64  `json:"int8_gmacs"`
	DecodeGMACs   float64  `json:"decode_int8_gmacs,omitempty"`
	// PeakGMACs is an estimate: MACs per instruction × instructions per cycle × the clock read
	// from /proc/cpuinfo (0 when unknown).
	PeakGMACs    float64 `json:"peak_gmacs_estimate"`
	SpeedupVsF32 float64 `json:"speedup_vs_f32,omitempty"`
}

// runBench measures per-step latency of the float32 and int8 paths on one locked thread.
func runBench(env *Env) error {
	fs := newFlags(env, "bench")
	modelPath := fs.String("model", "", "model: original folder or float32 bundle (calibrated with --calib), or an int8 bundle")
	floatPath := fs.String("float", "", "float32 model to time beside an int8 bundle given as --model")
	var calib stringList
	fs.Var(&calib, "calib", "calibration data (.npz or dataset folders, several after one --calib) when --model is a float32 model")
	asJSON := fs.Bool("json", false, "print one JSON object")
	steps := fs.Int("steps", 500, "int8 calls timed per measurement (float32: a fifth, at least 20)")
	if err := parse(fs, spreadLists(fs, env.Args, "calib")); err != nil {
		return err
	}
	if err := requireFlags(fs, "model"); err != nil {
		return err
	}
	if *steps < 1 || *steps > 1000000 {
		return fmt.Errorf("--steps %d: want 1..1000000", *steps)
	}
	var fm *model.Model
	var qm *quant.Model
	var frames []*model.Sequence
	if model.IsBundleFile(*modelPath) {
		if m, err := quant.Load(*modelPath); err == nil {
			qm = m
		}
	}
	if qm == nil {
		m, err := model.Load(*modelPath)
		if err != nil {
			return fmt.Errorf("load %s: %w", *modelPath, err)
		}
		fm = m
	} else if *floatPath != "" {
		m, err := model.Load(*floatPath)
		if err != nil {
			return fmt.Errorf("load %s: %w", *floatPath, err)
		}
		fm = m
	}
	if len(calib) > 0 {
		src, err := calibration.LoadData(splitList(calib))
		if err != nil {
			return err
		}
		for _, s := range src {
			frames = append(frames, s.Seq)
		}
	}
	if qm == nil {
		if len(frames) == 0 {
			return errors.New("--model is a float32 model and no --calib data was given: the int8 model needs calibration (or pass an int8 bundle from `rssmd calibrate`)")
		}
		var err error
		env.Log.Info("calibrating for the benchmark", "sequences", len(frames))
		if qm, err = calibration.Calibrate(fm, frames, calibration.Options{DecodeEvery: 8}); err != nil {
			return err
		}
	}
	a := qm.Arch
	seq := benchSequence(a, frames)
	k := armkernels.Default()
	res := benchResult{Kernel: k.Name, GoVersion: runtime.Version(), CPU: cpuModel()}
	res.FilterMACs, res.DecodeMACs = quant.MACs(a)

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	qr := qm.NewRunner(k)
	s := model.NewStateFor(a)
	out := a.NewStepOutput()
	img := make([]float32, model.ImageValues)
	var stepErr error
	filter := func(st model.Stepper) func(i int) {
		return func(i int) {
			t := i % seq.T
			if err := st.PosteriorStep(&s, seq.Action(t), seq.Frame(t), t == 0, out, nil); err != nil && stepErr == nil {
				stepErr = err
			}
		}
	}
	res.FilterInt8 = measure(*steps, filter(qr))
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	f := filter(qr)
	for i := 0; i < *steps; i++ {
		f(i)
	}
	runtime.ReadMemStats(&ms1)
	res.AllocsPerStep = float64(ms1.Mallocs-ms0.Mallocs) / float64(*steps)
	res.PriorInt8 = measure(*steps, func(i int) {
		if err := qr.PriorStep(&s, seq.Action(i%seq.T), out, nil); err != nil && stepErr == nil {
			stepErr = err
		}
	})
	if a.Decoder != "" {
		d := measure(*steps, func(int) {
			if err := qr.Decode(img, s.Deter, s.Stoch); err != nil && stepErr == nil {
				stepErr = err
			}
		})
		res.DecodeInt8 = &d
		res.DecodeGMACs = float64(res.DecodeMACs) / d.Median / 1e3
	}
	if fm != nil {
		l := measure(max(*steps/5, 20), filter(fm.NewRunner()))
		res.FilterF32 = &l
		res.SpeedupVsF32 = l.Median / res.FilterInt8.Median
	}
	if stepErr != nil {
		return stepErr
	}
	res.Int8GMACs = float64(res.FilterMACs) / res.FilterInt8.Median / 1e3
	res.PeakGMACs = peakGMACs(k.GEMM)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	w := env.Stdout
	fmt.Fprintf(w, "kernel %s, %s, %s, one locked thread\n", res.Kernel, res.CPU, res.GoVersion)
	row := func(name string, l *latency) {
		if l == nil {
			fmt.Fprintf(w, "  %-18s (not measured)\n", name)
			return
		}
		fmt.Fprintf(w, "  %-18s median %9.1f µs  p99 %9.1f µs  (%d calls)\n", name, l.Median, l.P99, l.N)
	}
	row("filter step f32", res.FilterF32)
	row("filter step int8", &res.FilterInt8)
	row("prior step int8", &res.PriorInt8)
	row("decode int8", res.DecodeInt8)
	fmt.Fprintf(w, "  allocations per int8 filter step: %g\n", res.AllocsPerStep)
	fmt.Fprintf(w, "  int8 filter step: %.2f M MACs, %.1f GMAC/s", float64(res.FilterMACs)/1e6, res.Int8GMACs)
	if res.PeakGMACs > 0 {
		fmt.Fprintf(w, " (%.0f%% of an estimated %.0f GMAC/s peak)", 100*res.Int8GMACs/res.PeakGMACs, res.PeakGMACs)
	}
	fmt.Fprintln(w)
	if res.SpeedupVsF32 > 0 {
		fmt.Fprintf(w, "  int8 / float32 filter step speed-up: %.1fx\n", res.SpeedupVsF32)
	}
	return nil
}

// measure times n calls of f one by one (after a short warm-up) and returns median and p99.
func measure(n int, f func(i int)) latency {
	for i := 0; i < min(n, 20); i++ {
		f(i)
	}
	d := make([]float64, n)
	for i := range d {
		t0 := time.Now()
		f(i)
		d[i] = float64(time.Since(t0).Nanoseconds()) / 1e3
	}
	sort.Float64s(d)
	return latency{Median: d[n/2], P99: d[min(n-1, n*99/100)], N: n}
}

// benchSequence returns the first calibration sequence, or a synthetic one (gradient frames,
// small actions) when there is none: latency does not depend on the values.
func benchSequence(a *model.Arch, seqs []*model.Sequence) *model.Sequence {
	for _, s := range seqs {
		if s.ActionDim == a.ActionDim && s.T > 0 {
			return s
		}
	}
	const T = 16
	s := &model.Sequence{T: T, ActionDim: a.ActionDim, Images: make([]uint8, T*model.ImageValues), PreAction: make([]float32, T*a.ActionDim)}
	for i := range s.Images {
		s.Images[i] = uint8(i*7 + i/model.ImageValues*13)
	}
	for i := range s.PreAction {
		s.PreAction[i] = float32(i%5)*0.2 - 0.4
	}
	return s
}

// peakGMACs estimates the int8 peak of one core for a kernel: MACs per instruction × issue
// rate × the clock from /proc/cpuinfo. It is an estimate (turbo, and cores that split 512-bit
// operations, change it); 0 when the clock is unknown.
func peakGMACs(kernel string) float64 {
	perCycle := map[string]float64{
		"avx512vnni": 64 * 2, // VPDPBUSD zmm: 64 MACs, 2 per cycle
		"avxvnni":    32 * 2, // VPDPBUSD ymm: 32 MACs, 2 per cycle
		"avx2":       32 * 2, // VPMADDUBSW ymm: 32 MACs, 2 per cycle
		"sdot":       16 * 2, // SDOT v.4s: 16 MACs, 2 per cycle
		"neon":       8 * 2,  // SMLAL/SMLAL2: 8 MACs, 2 per cycle
		"ref":        1,
	}[kernel]
	mhz := cpuMHz()
	if perCycle == 0 || mhz == 0 {
		return 0
	}
	return perCycle * mhz / 1e3
}

func cpuInfo(key string) string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func cpuModel() string { return cpuInfo("model name") }

func cpuMHz() float64 {
	v, err := strconv.ParseFloat(cpuInfo("cpu MHz"), 64)
	if err != nil {
		return 0
	}
	return v
}
