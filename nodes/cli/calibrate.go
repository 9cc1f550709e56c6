package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rssmd/rssmd/calibration"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
	"github.com/rssmd/rssmd/quant"
)

// runCalibrate calibrates int8 activation ranges on recorded sequences, prints the accuracy
// of the int8 model against float32 and writes the int8 bundle.
func runCalibrate(env *Env) error {
	fs := newFlags(env, "calibrate")
	modelPath := fs.String("model", "", "float32 model: original AIME-NoB folder or float32 bundle")
	var data, eval stringList
	fs.Var(&data, "data", "calibration data: .npz sequences or dataset folders (several after one --data, comma-separated, or as arguments)")
	fs.Var(&eval, "eval", "held-out .npz sequences for the accuracy report (several after one --eval); default: the calibration data")
	out := fs.String("out", "", "int8 bundle to write")
	method := fs.String("method", calibration.DefaultMethod, "range selection: mse, percentile or max")
	decodeEvery := fs.Int("decode-every", 4, "observe and compare the (costly) float32 image decoder on every n-th step")
	int4 := fs.Bool("int4", false, "4-bit weights for the GRU, the posterior's first layer and the decoder's Linear (about half a step's weight bytes; within the accuracy targets on dreamer_resnet models, not on cnn_ha ones: check the report)")
	files, err := parseFiles(fs, env.Args, "data", "eval")
	if err != nil {
		return err
	}
	data = append(data, files...) // `rssmd calibrate --model M --out O seq-*.npz`
	if err := requireFlags(fs, "model", "data", "out"); err != nil {
		return err
	}
	if err := checkOut("out", *out); err != nil {
		return err
	}
	fm, err := model.Load(*modelPath)
	if err != nil {
		return fmt.Errorf("load %s: %w", *modelPath, err)
	}
	if fm.Arch.Discrete {
		env.Log.Warn("discrete-state model: the int8 path keeps the same argmax rule; check the report's stoch error")
	}
	calib, err := calibration.LoadData(splitList(data))
	if err != nil {
		return err
	}
	seqs := make([]*model.Sequence, len(calib))
	steps := 0
	for i, s := range calib {
		seqs[i] = s.Seq
		steps += s.Seq.T
	}
	fmt.Fprintf(env.Stdout, "calibrating on %d sequences (%d steps), method %s\n", len(seqs), steps, *method)
	t0 := time.Now()
	if *int4 && fm.Arch.Encoder != model.VisualDreamerResnet {
		env.Log.Warn("--int4 on a non-dreamer_resnet model: measured outside the accuracy targets on cnn_ha models; check the report")
	}
	qm, err := calibration.Calibrate(fm, seqs, calibration.Options{Method: *method, DecodeEvery: *decodeEvery, Int4: *int4})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "observed in %v; activation ranges [lo, hi] (zero point where asymmetric):\n", time.Since(t0).Round(time.Millisecond))
	for _, k := range qm.ScaleNames() {
		sc, z := qm.Scales[k], qm.Zeros[k]
		lo, hi := sc*float32(-127), sc*127
		if z != 0 {
			lo, hi = sc*float32(-128-z), sc*float32(127-z)
		}
		fmt.Fprintf(env.Stdout, "  %-14s [%.4g, %.4g]", k, lo, hi)
		if z != 0 {
			fmt.Fprintf(env.Stdout, " zero %d", z)
		}
		fmt.Fprintln(env.Stdout)
	}
	evalSrc := calib
	if len(eval) > 0 {
		if evalSrc, err = calibration.LoadData(splitList(eval)); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(env.Stdout, "no --eval sequences: reporting on the calibration data (not held out)")
	}
	rep := &calibration.Report{Method: *method}
	fr, qr := fm.NewRunner(), qm.NewRunner(nil)
	for _, s := range evalSrc {
		if err := env.Ctx.Err(); err != nil {
			return err
		}
		r, err := calibration.Compare(s.Path, fr, qr, s.Seq, calibration.CompareOptions{DecodeEvery: *decodeEvery})
		if err != nil {
			return fmt.Errorf("%s: %w", s.Path, err)
		}
		rep.Seqs = append(rep.Seqs, *r)
	}
	rep.Write(env.Stdout)

	prov, err := provenance(*modelPath)
	if err != nil {
		// A float32 bundle has no folder to hash; keep what we know.
		prov = bundle.Provenance{SourcePath: *modelPath, CreatedBy: "rssmd " + version, CreatedAt: time.Now().UTC().Format(time.RFC3339)}
	}
	if h, err := sha256File(*modelPath); err == nil {
		prov.Parent = h
	}
	qm.Meta["calibration_data"] = strings.Join(splitList(data), ",")
	if err := quant.SaveBundle(qm, *out, prov); err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s: int8 model, %.2f MB\n", *out, float64(fi.Size())/1e6)
	return nil
}

// splitList flattens repeatable, comma-separated flag values.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
