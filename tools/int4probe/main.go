// Command int4probe measures what 4-bit weights would cost in accuracy before anyone writes
// int4 kernels: it rounds the named 2-D weights of a float32 model to int4 (one symmetric
// scale, max|w|/7, per group of columns of each row), keeps everything else float32, and
// compares that model with the original over an episode using calibration.Compare — the same
// metrics as issue 12's int8 targets (ELBO error, deter cosine, decoded and rollout PSNR,
// argmax agreement). Run from the repository root, e.g.
//
//	go run ./tools/int4probe -model model/testdata/trained/rssmo-m
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/rssmd/rssmd/calibration"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

func main() {
	dir := flag.String("model", "", "float32 model folder (config.yaml + model.pt)")
	data := flag.String("data", "models/demo/episodes/heldout-0.npz", "episode to compare on")
	layers := flag.String("layers", "memory_cell.input_layer.weight,posterior_net.net.0.weight,decoders.image.net.0.weight",
		"comma-separated weights to round; each set a prefix of the list is reported (the GRU, then the posterior's first layer, then the decoder's linear)")
	group := flag.Int("group", 32, "columns per scale")
	flag.Parse()
	if err := run(*dir, *data, strings.Split(*layers, ","), *group); err != nil {
		fmt.Fprintln(os.Stderr, "int4probe:", err)
		os.Exit(1)
	}
}

func run(dir, data string, layers []string, group int) error {
	if dir == "" || group < 1 {
		return fmt.Errorf("need -model and a positive -group")
	}
	ref, err := model.Load(dir)
	if err != nil {
		return err
	}
	seq, err := seqio.ReadSequenceFile(data)
	if err != nil {
		return err
	}
	opt := calibration.CompareOptions{DecodeEvery: 1, RolloutEvery: calibration.RolloutHorizon}
	for n := 1; n <= len(layers); n++ {
		m, err := model.Load(dir) // its own tensors: rounding them leaves ref alone
		if err != nil {
			return err
		}
		for _, name := range layers[:n] {
			t, ok := m.Tensors[name]
			if !ok || len(t.Shape) != 2 {
				return fmt.Errorf("%s: no 2-D weight %q", dir, name)
			}
			roundInt4(t.Data, t.Shape[1], group)
		}
		r, err := calibration.Compare(dir, ref.NewRunner(), m.NewRunner(), seq, opt)
		if err != nil {
			return err
		}
		agree := "-"
		if ref.Arch.Discrete {
			agree = fmt.Sprintf("%.2f%% (worst step %.2f%%)", 100*r.ArgmaxAgree, 100*r.ArgmaxAgreeMin)
		}
		fmt.Printf("int4 g%d %s: median ELBO error %.3f%%, deter cosine min %.6f, decoded PSNR min %.2f dB, rollout PSNR min %.2f dB, argmax agreement %s\n",
			group, strings.Join(layers[:n], "+"), 100*r.ELBORelMedian, r.DeterCosMin, r.PSNRMin, r.RolloutPSNRMin, agree)
	}
	return nil
}

// roundInt4 rounds each row of w (cols wide) to 15 levels, one scale per group of columns.
func roundInt4(w []float32, cols, group int) {
	for r := 0; r+cols <= len(w); r += cols {
		row := w[r : r+cols]
		for c := 0; c < cols; c += group {
			g := row[c:min(cols, c+group)]
			var top float64
			for _, v := range g {
				top = math.Max(top, math.Abs(float64(v)))
			}
			if top == 0 {
				continue
			}
			s := top / 7
			for i, v := range g {
				g[i] = float32(math.Round(float64(v)/s) * s)
			}
		}
	}
}
