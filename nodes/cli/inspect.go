package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
)

// runInspect implements `rssmd inspect PATH`.
func runInspect(env *Env) error {
	fs := newFlags(env, "inspect")
	asJSON := fs.Bool("json", false, "print JSON")
	files, err := parseFiles(fs, env.Args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		if len(files) == 0 {
			fmt.Fprintln(env.Stderr, "rssmd inspect: missing PATH, the model to inspect")
		} else {
			fmt.Fprintf(env.Stderr, "rssmd inspect: one PATH at a time, got %d: %v\n", len(files), files)
		}
		fs.Usage()
		return errUsage
	}
	path := files[0]
	var (
		a      *model.Arch
		params int64
		kind   = "float32 (original folder)"
		prov   *bundle.Provenance
		meta   map[string]string
	)
	if model.IsBundleFile(path) {
		p, err := bundle.ReadFile(path)
		if err != nil {
			return err
		}
		ts, arch, err := model.TensorsFromBundle(p)
		if err != nil {
			return err
		}
		a, kind, prov, meta = arch, p.Kind+" bundle", &p.Provenance, p.Meta
		if l := p.Meta["int4_layers"]; l != "" {
			kind += ", 4-bit weights in " + strings.ReplaceAll(l, ",", ", ")
		}
		for _, t := range p.Tensors {
			if t.Name == "initial_memory" || t.Name == "initial_state" {
				continue
			}
			n := 1
			for _, d := range t.Shape {
				n *= d
			}
			if t.Dtype != "i32" { // int32 tensors are kernel-side sums, not parameters
				params += int64(n)
			}
		}
		_ = ts
	} else {
		m, err := model.Load(path)
		if err != nil {
			return err
		}
		a, params = m.Arch, m.ParamCount()
	}
	c := a.Count()
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(map[string]any{
			"kind": kind, "arch": a, "params": params, "macs": c, "provenance": prov, "meta": meta,
		})
	}
	printArch(env.Stdout, path, kind, a, params, c, prov)
	return nil
}

func printArch(w io.Writer, path, kind string, a *model.Arch, params int64, c model.MACs, prov *bundle.Provenance) {
	state := fmt.Sprintf("continuous, stoch %d (min_std %g)", a.Stoch, a.MinStd)
	if a.Discrete {
		state = fmt.Sprintf("discrete, %d groups × %d classes", a.Groups, a.Classes)
	}
	action := fmt.Sprint(a.ActionDim)
	if a.ActionDim == 0 {
		action = "0 (action-free, VIPER)"
	}
	heads := []string{}
	for _, h := range a.Heads {
		norm := ""
		if h.LayerNorm {
			norm = "+LN"
		}
		heads = append(heads, fmt.Sprintf("%s (%s, %d×%d %s%s → %d)", h.Name, h.Kind, h.Layers, h.Width, h.Activation, norm, h.Out))
	}
	fmt.Fprintf(w, "model      %s\nkind       %s\n", path, kind)
	fmt.Fprintf(w, "state      deter %d, %s\n", a.Deter, state)
	fmt.Fprintf(w, "action     %s\nhidden     %d\n", action, a.Hidden)
	fmt.Fprintf(w, "encoder    %s width %d → emb %d\n", a.Encoder, a.EncoderWidth, a.EmbDim)
	if a.Decoder != "" {
		out := "raw + 0.5"
		if a.DecoderSigmoid {
			out = "sigmoid"
		}
		fmt.Fprintf(w, "decoder    %s width %d, output %s\n", a.Decoder, a.DecoderWidth, out)
	}
	if len(heads) > 0 {
		fmt.Fprintf(w, "heads      %s\n", strings.Join(heads, "; "))
	}
	if len(a.Ignored) > 0 {
		fmt.Fprintf(w, "ignored    %s (not used for inference)\n", strings.Join(a.Ignored, ", "))
	}
	fmt.Fprintf(w, "params     %d\n", params)
	fmt.Fprintf(w, "MACs       filter step %d (encoder %d + transition %d)\n", c.FilterStep, c.Encoder, c.Transition)
	fmt.Fprintf(w, "           prior step %d, decode %d, heads %d, likelihood step %d\n", c.PriorStep, c.Decode, c.Heads, c.Likelihood)
	if prov != nil {
		fmt.Fprintf(w, "source     %s\n           model.pt sha256 %s\n           created %s by %s\n", prov.SourcePath, prov.ModelSHA256, prov.CreatedAt, prov.CreatedBy)
		if prov.Parent != "" {
			fmt.Fprintf(w, "           parent %s\n", prov.Parent)
		}
	}
}
