// Command stepcount runs N int8 filter steps (the deterministic posterior
// step of an int8 bundle, cycling through a sequence's frames) and nothing
// else, so that an instruction-counting emulator run with two values of N
// gives the instructions of one filter step by difference:
// (insns(N2) - insns(N1)) / (N2 - N1). Loading, start-up and exit cancel out.
// tools/arm64vm/insns.sh does that under qemu-aarch64 for each arm64 kernel.
//
//	stepcount -model M.int8.rssm -seq SEQ.npz -n N
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
	n := fs.Int("n", 0, "filter steps to run")
	if err := fs.Parse(args); err != nil {
		return err
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
	for i := 0; i < *n; i++ {
		t := i % seq.T
		if err := r.PosteriorStep(&s, seq.Action(t), seq.Frame(t), t == 0, out, nil); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	fmt.Fprintf(w, "kernel %s: %d filter steps\n", k.Name, *n)
	return nil
}
