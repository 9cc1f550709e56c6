package cli

import (
	"fmt"
	"github.com/rssmd/rssmd/runtime/pipeline"
	"math/rand/v2"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

// runFilter implements `rssmd filter`: the offline filtering/rollout/ELBO contract.
func runFilter(env *Env) error {
	fs := newFlags(env, "filter")
	modelPath := fs.String("model", "", "original model folder, float32 bundle or int8 bundle (required)")
	in := fs.String("in", "", "input sequence .npz: image (T,64,64,3) uint8, pre_action (T,A) (required)")
	out := fs.String("out", "", "output .npz (required)")
	rolloutStart := fs.Int("rollout-start", 0, "filter frames 0..N-1, then roll the prior out from there")
	rolloutHorizon := fs.Int("rollout-horizon", 0, "number of open-loop prior steps (pre_action rows N..N+K-1)")
	int8 := fs.Bool("int8", false, "use the int8 path (an int8 bundle implies it)")
	seed := fs.Int64("sample-seed", -1, "sample the posterior/prior with this seed instead of using means (-1: deterministic)")
	if err := parse(fs, env.Args); err != nil {
		return err
	}
	if err := requireFlags(fs, "model", "in", "out"); err != nil {
		return err
	}
	if err := checkOut("out", *out); err != nil {
		return err
	}
	lm, err := pipeline.OpenModel(*modelPath, *int8)
	if err != nil {
		return err
	}
	seq, err := seqio.ReadSequenceFile(*in)
	if err != nil {
		return err
	}
	opt := model.FilterOptions{
		RolloutStart:   *rolloutStart,
		RolloutHorizon: *rolloutHorizon,
		Warn:           func(msg string) { env.Log.Warn(msg) },
	}
	if *seed >= 0 {
		opt.Noise = rand.New(rand.NewPCG(uint64(*seed), 0x5eed))
	}
	start := time.Now()
	res, err := model.Filter(lm.Stepper, seq, opt)
	if err != nil {
		return err
	}
	took := time.Since(start)
	if err := seqio.WriteArrays(*out, res); err != nil {
		return err
	}
	n := seq.T
	if *rolloutStart > 0 {
		n = *rolloutStart
	}
	fmt.Fprintf(env.Stdout, "filtered %d frames (%s path, %d rollout steps) in %v; wrote %s\n", n, lm.Label(), *rolloutHorizon, took.Round(time.Millisecond), *out)
	return nil
}
