package cli

import (
	"bytes"
	"fmt"
	"github.com/rssmd/rssmd/runtime/pipeline"
	"os"
	"path/filepath"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/runtime/report"
)

// runReport is `rssmd report`: a PNG of actual / reconstructed / predicted frames and
// error, KL and ELBO plots, from an `rssmd filter` output (with --seq for the actual frames),
// an input sequence run through --model here, or a tick recording (`rssmd run --record`).
func runReport(env *Env) error {
	fs := newFlags(env, "report")
	in := fs.String("in", "", "filter output .npz, input sequence .npz (with --model) or tick recording (required)")
	seqPath := fs.String("seq", "", "the input sequence a filter output was made from (actual frames and error)")
	modelPath := fs.String("model", "", "run an input sequence through this model first")
	rollout := fs.Int("rollout", 10, "with --model: open-loop predictions of the last N frames")
	out := fs.String("out", "", "output PNG (required)")
	width := fs.Int("width", 1200, "picture width in pixels")
	frames := fs.Int("frames", 10, "frames in the strip")
	if err := parse(fs, env.Args); err != nil {
		return err
	}
	if err := requireFlags(fs, "in", "out"); err != nil {
		return err
	}
	if err := checkOut("out", *out); err != nil {
		return err
	}
	d, err := reportData(*in, *seqPath, *modelPath, *rollout)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, d, report.Options{Width: *width, Frames: *frames}); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	w, h := report.Size(d, report.Options{Width: *width, Frames: *frames})
	fmt.Fprintf(env.Stdout, "wrote %s (%dx%d)\n", *out, w, h)
	return nil
}

// maxReportInput bounds what report reads into memory.
const maxReportInput = 1 << 30

func reportData(in, seqPath, modelPath string, rollout int) (*report.Data, error) {
	fi, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxReportInput {
		return nil, fmt.Errorf("%s: %d bytes is more than a report reads (%d)", in, fi.Size(), maxReportInput)
	}
	b, err := os.ReadFile(in)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte("PK")) {
		d, err := report.FromRecording(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: not an .npz, and as a recording: %w", in, err)
		}
		return d, nil
	}
	arrays, err := seqio.ReadArrays(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	var seq *model.Sequence
	title := "filter output " + filepath.Base(in)
	if _, isInput := arrays["image"]; isInput && arrays["kl"] == nil {
		if modelPath == "" {
			return nil, fmt.Errorf("%s is an input sequence: give --model to run it through, or pass a filter output", in)
		}
		if seq, err = seqio.ReadSequence(b); err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
		lm, err := pipeline.OpenModel(modelPath, false)
		if err != nil {
			return nil, err
		}
		if rollout < 0 || rollout >= seq.T {
			return nil, fmt.Errorf("--rollout %d: want 0..%d for %d frames", rollout, seq.T-1, seq.T)
		}
		res, err := model.Filter(lm.Stepper, seq, model.FilterOptions{RolloutStart: seq.T - rollout, RolloutHorizon: rollout})
		if err != nil {
			return nil, err
		}
		arrays = map[string]*seqio.Array{}
		for _, a := range res {
			arrays[a.Name] = &seqio.Array{Shape: a.Shape, Dtype: "<f4", F32: a.Data}
		}
		title = fmt.Sprintf("%s through %s (%s): %d filtered, %d predicted open loop", filepath.Base(in), filepath.Base(modelPath), lm.Label(), seq.T-rollout, rollout)
	} else if seqPath != "" {
		if seq, err = seqio.ReadSequenceFile(seqPath); err != nil {
			return nil, err
		}
	}
	d, err := report.FromFilter(arrays, seq)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	d.Title = title
	return d, nil
}
