// Command stepcount runs N int8 steps of one kind and nothing else: filter
// steps (the deterministic posterior step of an int8 bundle, cycling through a
// sequence's frames; the default), prior steps (imagination, no frame), or image
// decodes of the filtered state, so that an instruction-counting emulator run with two values of N
// gives the instructions of one filter step by difference:
// (insns(N2) - insns(N1)) / (N2 - N1). Loading, start-up and exit cancel out.
// tools/arm64vm/insns.sh does that under qemu-aarch64 for each arm64 kernel.
//
//	stepcount -model M.int8.rssm -seq SEQ.npz -n N [-mode filter|prior|decode]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/quant"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "stepcount:", err)
		os.Exit(1)
	}
}

// maxSteps keeps a typo from running for hours under emulation.
const maxSteps = 1_000_000

func run(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("stepcount", flag.ContinueOnError)
	modelPath := fs.String("model", "", "int8 bundle (rssmd calibrate)")
	seqPath := fs.String("seq", "", "input sequence .npz")
	n := fs.Int("n", 0, "steps to run")
	mode := fs.String("mode", "filter", "filter (posterior step), prior (prior step) or decode (image decoder)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mode != "filter" && *mode != "prior" && *mode != "decode" {
		return fmt.Errorf("-mode %q: want filter, prior or decode", *mode)
	}
	if *modelPath == "" || *seqPath == "" || *n < 1 || *n > maxSteps {
		return fmt.Errorf("need -model, -seq and 1 <= -n <= %d", maxSteps)
	}
	qm, err := quant.Load(*modelPath)
	if err != nil {
		return fmt.Errorf("load %s: %w", *modelPath, err)
	}
	seq, err := seqio.ReadSequenceFile(*seqPath)
	if err != nil {
		return err
	}
	a := qm.Arch
	if seq.T < 1 || seq.ActionDim != a.ActionDim {
		return errors.New("the sequence does not fit the model (no frames, or another action size)")
	}
	k := armkernels.Default()
	r := qm.NewRunner(k)
	s := model.NewStateFor(a)
	out := a.NewStepOutput()
	// prior and decode start from a filtered state, as imagination and the
	// reconstruction do; that one step is start-up, the same for every N.
	if *mode != "filter" {
		if err := r.PosteriorStep(&s, seq.Action(0), seq.Frame(0), true, out, nil); err != nil {
			return fmt.Errorf("first step: %w", err)
		}
	}
	img := make([]float32, model.ImageValues)
	for i := 0; i < *n; i++ {
		t := i % seq.T
		switch *mode {
		case "filter":
			err = r.PosteriorStep(&s, seq.Action(t), seq.Frame(t), t == 0, out, nil)
		case "prior":
			err = r.PriorStep(&s, seq.Action(t), out, nil)
		case "decode":
			err = r.Decode(img, s.Deter, s.Stoch)
		}
		if err != nil {
			return fmt.Errorf("%s step %d: %w", *mode, i, err)
		}
	}
	fmt.Fprintf(w, "kernel %s: %d %s steps\n", k.Name, *n, *mode)
	return nil
}
