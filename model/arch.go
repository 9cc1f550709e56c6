package model

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Encoder and decoder families of the published models (spec §2.4, §2.5, §2.8).
const (
	VisualCNNHa         = "cnn_ha"
	VisualDreamerResnet = "dreamer_resnet"
)

// Head kinds (spec §2.7).
const (
	HeadBinary = "binary" // Bernoulli probability through a Sigmoid: is_terminal
	HeadDMLP   = "dmlp"   // Normal with σ=1 around an MLP output: reward, tabular sensors
)

// ImageSize is the only input and output resolution the published models accept (P19).
const ImageSize = 64

// ImageValues is the number of values in one 64x64 RGB frame.
const ImageValues = ImageSize * ImageSize * 3

// Arch is the resolved architecture of a world model: every dimension, derived from tensor
// shapes (spec §1.7), plus the few choices only the config carries (min_std, sigmoid, activations).
type Arch struct {
	Deter     int // H: GRU state width
	Stoch     int // S: flat stochastic state width (groups·classes for discrete models)
	Hidden    int // M: transition MLP width
	ActionDim int // A: 0 for action-free (VIPER) models
	EmbDim    int // E: encoder output width

	Discrete bool
	Groups   int // discrete only
	Classes  int // discrete only

	MinStd float32 // added to 2σ(ρ/2); from config (null → 1e-6)

	Encoder      string // VisualCNNHa or VisualDreamerResnet
	EncoderWidth int
	Decoder      string // image decoder family; "" when the model has no image decoder
	DecoderWidth int
	// DecoderSigmoid applies σ to the image decoder output instead of adding 0.5 (P4).
	DecoderSigmoid bool

	// Heads are the non-image decoders in sorted name order.
	Heads []HeadArch

	// Ignored lists state-dict prefixes that were present but are not part of inference
	// (probes, baseline probes), so tools can say what was dropped.
	Ignored []string
}

// HeadArch describes one MLP decoder head.
type HeadArch struct {
	Name       string
	Kind       string // HeadBinary or HeadDMLP
	Width      int
	Layers     int    // hidden layers
	LayerNorm  bool   // hidden layers carry a LayerNorm
	Activation string // hidden activation: elu, silu, relu, tanh
	Out        int    // output width
}

// FeatureDim is the width of concat(deter, stoch), the input of every decoder.
func (a *Arch) FeatureDim() int { return a.Deter + a.Stoch }

// HeadIndex returns the index of the named head in a.Heads, or -1.
func (a *Arch) HeadIndex(name string) int {
	for i, h := range a.Heads {
		if h.Name == name {
			return i
		}
	}
	return -1
}

// Hints are the architecture choices that tensor shapes cannot tell. Load fills them from
// config.yaml; tests may build them directly.
type Hints struct {
	// MinStd: nil means the config said null (→ 1e-6, the global MIN_STD).
	MinStd *float64
	// DecoderSigmoid is world_model.decoders.visual.sigmoid; nil when the key is absent
	// (class default: true for cnn_ha, false for dreamer_resnet).
	DecoderSigmoid *bool
	// StateDim is world_model.state_dim: [deter, stoch] or [deter, groups, classes].
	StateDim []int
	// StateDistribution is "continuous" (default) or "discrete".
	StateDistribution string
	// EncoderName and DecoderName are world_model.encoders.visual.name / decoders.visual.name.
	EncoderName, DecoderName string
	// EncoderWidth and DecoderWidth: 0 when not given.
	EncoderWidth, DecoderWidth int
	// HiddenSize is world_model.hidden_size, 0 when not given.
	HiddenSize int
	// ActionFree is the config's action_free flag, nil when absent.
	ActionFree *bool
	// BinaryActivation / TabularActivation are the hidden activations of binary and dmlp
	// heads (class default elu when empty).
	BinaryActivation, TabularActivation string
}

// ErrArch is wrapped by every error about a checkpoint that does not form a supported model.
var ErrArch = errors.New("unsupported or inconsistent model")

func archErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrArch, fmt.Sprintf(format, args...))
}

// shapeOf returns the shape of key or an error naming it.
func shapeOf(ts map[string]*Tensor, key string) ([]int, error) {
	t, ok := ts[key]
	if !ok {
		return nil, archErr("missing tensor %q", key)
	}
	return t.Shape, nil
}

func wantShape(ts map[string]*Tensor, key string, want ...int) error {
	got, err := shapeOf(ts, key)
	if err != nil {
		return err
	}
	if len(got) != len(want) {
		return archErr("tensor %q has shape %s, want %s", key, ShapeString(got), ShapeString(want))
	}
	for i := range want {
		if got[i] != want[i] {
			return archErr("tensor %q has shape %s, want %s", key, ShapeString(got), ShapeString(want))
		}
	}
	return nil
}

// ResolveArch derives the architecture from the state-dict shapes and cross-checks it with
// the hints from the config (spec §1.7). A mismatch is an error naming the key and both shapes.
func ResolveArch(ts map[string]*Tensor, h Hints) (*Arch, error) {
	a := &Arch{}
	mem, err := shapeOf(ts, "initial_memory")
	if err != nil {
		return nil, err
	}
	st, err := shapeOf(ts, "initial_state")
	if err != nil {
		return nil, err
	}
	if len(mem) != 2 || mem[0] != 1 || len(st) != 2 || st[0] != 1 {
		return nil, archErr("initial_memory %s / initial_state %s must be [1, n]", ShapeString(mem), ShapeString(st))
	}
	a.Deter, a.Stoch = mem[1], st[1]
	pre, err := shapeOf(ts, "pre_memory.net.0.weight")
	if err != nil {
		return nil, err
	}
	if len(pre) != 2 || pre[1] < a.Stoch {
		return nil, archErr("pre_memory.net.0.weight has shape %s, want [hidden, %d+action]", ShapeString(pre), a.Stoch)
	}
	a.Hidden, a.ActionDim = pre[0], pre[1]-a.Stoch
	post, err := shapeOf(ts, "posterior_net.net.0.weight")
	if err != nil {
		return nil, err
	}
	if len(post) != 2 || post[1] <= a.Deter {
		return nil, archErr("posterior_net.net.0.weight has shape %s, want [%d, %d+emb]", ShapeString(post), a.Hidden, a.Deter)
	}
	a.EmbDim = post[1] - a.Deter
	head, err := shapeOf(ts, "prior_net.net.3.weight")
	if err != nil {
		return nil, err
	}
	switch {
	case len(head) == 2 && head[0] == 2*a.Stoch:
		a.Discrete = false
	case len(head) == 2 && head[0] == a.Stoch:
		a.Discrete = true
	default:
		return nil, archErr("prior_net.net.3.weight has shape %s, want [%d or %d, %d]", ShapeString(head), 2*a.Stoch, a.Stoch, a.Hidden)
	}

	// Cross-check the config.
	if h.StateDistribution != "" {
		if d := h.StateDistribution == "discrete"; d != a.Discrete {
			return nil, archErr("world_model.state_distribution is %q but prior_net.net.3.weight has shape %s (stoch %d)", h.StateDistribution, ShapeString(head), a.Stoch)
		}
	}
	if a.Discrete {
		if len(h.StateDim) != 3 {
			return nil, archErr("discrete model needs world_model.state_dim [deter, groups, classes], config has %v", h.StateDim)
		}
		a.Groups, a.Classes = h.StateDim[1], h.StateDim[2]
		if a.Groups*a.Classes != a.Stoch {
			return nil, archErr("world_model.state_dim %v: groups·classes = %d but initial_state has shape %s", h.StateDim, a.Groups*a.Classes, ShapeString(st))
		}
	} else if len(h.StateDim) == 2 && h.StateDim[1] != a.Stoch {
		return nil, archErr("world_model.state_dim %v disagrees with initial_state shape %s", h.StateDim, ShapeString(st))
	}
	if len(h.StateDim) >= 1 && h.StateDim[0] != a.Deter {
		return nil, archErr("world_model.state_dim %v disagrees with initial_memory shape %s", h.StateDim, ShapeString(mem))
	}
	if h.HiddenSize != 0 && h.HiddenSize != a.Hidden {
		return nil, archErr("world_model.hidden_size %d disagrees with pre_memory.net.0.weight shape %s", h.HiddenSize, ShapeString(pre))
	}
	if h.ActionFree != nil && *h.ActionFree && a.ActionDim != 0 {
		return nil, archErr("action_free is true but pre_memory.net.0.weight has shape %s (action dim %d)", ShapeString(pre), a.ActionDim)
	}
	a.MinStd = 1e-6
	if h.MinStd != nil {
		a.MinStd = float32(*h.MinStd)
	}

	if err := resolveTransition(ts, a); err != nil {
		return nil, err
	}
	if err := resolveEncoder(ts, a, h); err != nil {
		return nil, err
	}
	if err := resolveDecoders(ts, a, h); err != nil {
		return nil, err
	}
	return a, nil
}

func resolveTransition(ts map[string]*Tensor, a *Arch) error {
	H, M, S := a.Deter, a.Hidden, a.Stoch
	out := 2 * S
	if a.Discrete {
		out = S
	}
	checks := []struct {
		key   string
		shape []int
	}{
		{"pre_memory.net.0.bias", []int{M}},
		{"pre_memory.net.1.weight", []int{M}},
		{"pre_memory.net.1.bias", []int{M}},
		{"memory_cell.input_layer.weight", []int{3 * H, M + H}},
		{"memory_cell.input_layer.bias", []int{3 * H}},
		{"memory_cell.norm.weight", []int{3 * H}},
		{"memory_cell.norm.bias", []int{3 * H}},
		{"prior_net.net.0.weight", []int{M, H}},
		{"prior_net.net.0.bias", []int{M}},
		{"prior_net.net.1.weight", []int{M}},
		{"prior_net.net.1.bias", []int{M}},
		{"prior_net.net.3.weight", []int{out, M}},
		{"prior_net.net.3.bias", []int{out}},
		{"posterior_net.net.0.weight", []int{M, H + a.EmbDim}},
		{"posterior_net.net.0.bias", []int{M}},
		{"posterior_net.net.1.weight", []int{M}},
		{"posterior_net.net.1.bias", []int{M}},
		{"posterior_net.net.3.weight", []int{out, M}},
		{"posterior_net.net.3.bias", []int{out}},
	}
	for _, c := range checks {
		if err := wantShape(ts, c.key, c.shape...); err != nil {
			return err
		}
	}
	return nil
}

func resolveEncoder(ts map[string]*Tensor, a *Arch, h Hints) error {
	if _, ok := ts["encoders.tabular.net.0.weight"]; ok {
		return archErr("tabular encoder inputs (encoders.tabular) are not supported: only visual models are")
	}
	w0, err := shapeOf(ts, "encoders.image.net.0.weight")
	if err != nil {
		return err
	}
	if len(w0) != 4 || w0[1] != 3 {
		return archErr("encoders.image.net.0.weight has shape %s, want [width, 3, k, k]", ShapeString(w0))
	}
	a.EncoderWidth = w0[0]
	if _, ok := ts["encoders.image.net.1.weight"]; ok {
		a.Encoder = VisualDreamerResnet
	} else {
		a.Encoder = VisualCNNHa
	}
	if h.EncoderName != "" && h.EncoderName != a.Encoder {
		return archErr("world_model.encoders.visual.name is %q but the checkpoint holds a %s encoder (encoders.image.net.1.weight present: %v)", h.EncoderName, a.Encoder, a.Encoder == VisualDreamerResnet)
	}
	if h.EncoderWidth != 0 && h.EncoderWidth != a.EncoderWidth {
		return archErr("world_model.encoders.visual.width %d disagrees with encoders.image.net.0.weight shape %s", h.EncoderWidth, ShapeString(w0))
	}
	for _, l := range encoderLayers(a) {
		if err := wantShape(ts, l.Prefix+".weight", l.Cout, l.Cin, l.K, l.K); err != nil {
			return err
		}
		if err := wantShape(ts, l.Prefix+".bias", l.Cout); err != nil {
			return err
		}
		if l.Norm != "" {
			if err := wantShape(ts, l.Norm+".weight", l.Cout); err != nil {
				return err
			}
			if err := wantShape(ts, l.Norm+".bias", l.Cout); err != nil {
				return err
			}
		}
	}
	if got := encoderOutDim(a); got != a.EmbDim {
		return archErr("the %s encoder of width %d outputs %d values, but posterior_net.net.0.weight implies emb dim %d", a.Encoder, a.EncoderWidth, got, a.EmbDim)
	}
	return nil
}

// ConvSpec describes one conv or transposed-conv layer of an image encoder or decoder, with the
// state-dict names of its weights, so every implementation (float32 here, int8 in quant/)
// walks the same layer list.
type ConvSpec struct {
	Prefix     string // state-dict prefix of the conv ("<prefix>.weight", "<prefix>.bias")
	Norm       string // prefix of an affine InstanceNorm after it, "" if none
	Cin, Cout  int
	K, S, P    int  // kernel, stride, padding
	InstNorm   bool // InstanceNorm after the conv (affine iff Norm != "")
	Act        string
	InH, OutH  int // square input and output sides
	Transposed bool
}

// EncoderLayers lists the image encoder's conv layers in order (spec §2.4, §2.8).
func EncoderLayers(a *Arch) []ConvSpec { return encoderLayers(a) }

// DecoderLayers lists the image decoder's transposed convs in order (spec §2.5, §2.8).
func DecoderLayers(a *Arch) []ConvSpec { return decoderLayers(a) }

// DecoderSeed is the [channels, side] the decoder's first Linear output is reshaped to.
func DecoderSeed(a *Arch) (channels, side int) { return decoderSeed(a) }

// HeadPrefix is the state-dict prefix of a head's MLP ("...net." ending in a dot).
func HeadPrefix(h HeadArch) string { return headPrefix(h) }

// HeadLayout gives the Sequential indices of a head's Linear layers and of the LayerNorm
// after each hidden Linear (-1 where there is none).
func HeadLayout(h HeadArch) (linear, norm []int) { return mlpLayout(h) }

func encoderLayers(a *Arch) []ConvSpec {
	w := a.EncoderWidth
	var ls []ConvSpec
	size := ImageSize
	cin := 3
	for i := 0; i < 4; i++ {
		c := ConvSpec{Cin: cin, Cout: w << i, K: 4, S: 2, InH: size}
		if a.Encoder == VisualCNNHa {
			c.Prefix = "encoders.image.net." + strconv.Itoa(2*i)
			if i < 3 {
				c.Act = "relu"
			}
		} else {
			c.Prefix = "encoders.image.net." + strconv.Itoa(3*i)
			c.Norm = "encoders.image.net." + strconv.Itoa(3*i+1)
			c.P = 1
			c.InstNorm = true
			c.Act = "silu"
		}
		c.OutH = (size+2*c.P-c.K)/c.S + 1
		size, cin = c.OutH, c.Cout
		ls = append(ls, c)
	}
	return ls
}

func encoderOutDim(a *Arch) int {
	ls := encoderLayers(a)
	last := ls[len(ls)-1]
	return last.Cout * last.OutH * last.OutH
}

func resolveDecoders(ts map[string]*Tensor, a *Arch, h Hints) error {
	names := map[string]bool{}
	ignored := map[string]bool{}
	for k := range ts {
		switch {
		case strings.HasPrefix(k, "decoders."):
			rest := k[len("decoders."):]
			if i := strings.IndexByte(rest, '.'); i > 0 {
				names[rest[:i]] = true
			}
		case strings.HasPrefix(k, "probes.") || strings.HasPrefix(k, "baseline_probes."):
			parts := strings.SplitN(k, ".", 3)
			if len(parts) >= 2 {
				ignored[parts[0]+"."+parts[1]] = true
			}
		}
	}
	for p := range ignored {
		a.Ignored = append(a.Ignored, p)
	}
	sort.Strings(a.Ignored)
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		if name == "image" {
			if err := resolveImageDecoder(ts, a, h); err != nil {
				return err
			}
			continue
		}
		hd, err := resolveHead(ts, name, h)
		if err != nil {
			return err
		}
		if err := checkMLP(ts, hd, headPrefix(hd), a.FeatureDim()); err != nil {
			return err
		}
		a.Heads = append(a.Heads, hd)
	}
	return nil
}

func headPrefix(hd HeadArch) string {
	if hd.Kind == HeadBinary {
		return "decoders." + hd.Name + ".prob_net.net."
	}
	return "decoders." + hd.Name + ".net.net."
}

func resolveHead(ts map[string]*Tensor, name string, h Hints) (HeadArch, error) {
	hd := HeadArch{Name: name}
	var prefix string
	if _, ok := ts["decoders."+name+".prob_net.net.0.weight"]; ok {
		hd.Kind, prefix = HeadBinary, "decoders."+name+".prob_net.net."
		hd.Activation = orDefault(h.BinaryActivation, "elu")
	} else if _, ok := ts["decoders."+name+".net.net.0.weight"]; ok {
		hd.Kind, prefix = HeadDMLP, "decoders."+name+".net.net."
		hd.Activation = orDefault(h.TabularActivation, "elu")
	} else {
		return hd, archErr("decoder %q is neither a binary (prob_net) nor a dmlp (net.net) head; only those are supported", name)
	}
	if !knownActivation(hd.Activation) {
		return hd, archErr("decoder %q: unknown hidden activation %q", name, hd.Activation)
	}
	// Walk the Sequential: a 2-D weight is a Linear, a 1-D weight right after it a LayerNorm.
	idx := sequentialIndices(ts, prefix)
	var linears int
	for j, i := range idx {
		w := ts[prefix+strconv.Itoa(i)+".weight"]
		switch len(w.Shape) {
		case 2:
			linears++
			if linears == 1 {
				hd.Width = w.Shape[0]
			}
			hd.Out = w.Shape[0]
		case 1:
			if j == 0 || len(ts[prefix+strconv.Itoa(idx[j-1])+".weight"].Shape) != 2 {
				return hd, archErr("decoder %q: LayerNorm %s%d does not follow a Linear", name, prefix, i)
			}
			hd.LayerNorm = true
		default:
			return hd, archErr("decoder %q: tensor %s%d.weight has shape %s", name, prefix, i, ShapeString(w.Shape))
		}
	}
	if linears < 1 {
		return hd, archErr("decoder %q has no Linear layers", name)
	}
	hd.Layers = linears - 1
	return hd, nil
}

func sequentialIndices(ts map[string]*Tensor, prefix string) []int {
	seen := map[int]bool{}
	for k := range ts {
		if !strings.HasPrefix(k, prefix) || !strings.HasSuffix(k, ".weight") {
			continue
		}
		mid := strings.TrimSuffix(k[len(prefix):], ".weight")
		if i, err := strconv.Atoi(mid); err == nil {
			seen[i] = true
		}
	}
	idx := make([]int, 0, len(seen))
	for i := range seen {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	return idx
}

// mlpLayout gives the Sequential indices of an MLP with hd's structure: for each hidden layer
// Linear, [LayerNorm], activation; then the head Linear.
func mlpLayout(hd HeadArch) (linear, norm []int) {
	i := 0
	for l := 0; l < hd.Layers; l++ {
		linear = append(linear, i)
		i++
		if hd.LayerNorm {
			norm = append(norm, i)
			i++
		} else {
			norm = append(norm, -1)
		}
		i++ // activation
	}
	linear = append(linear, i)
	return linear, norm
}

func checkMLP(ts map[string]*Tensor, hd HeadArch, prefix string, in int) error {
	linear, norm := mlpLayout(hd)
	for l, li := range linear {
		out := hd.Width
		if l == len(linear)-1 {
			out = hd.Out
		}
		p := prefix + strconv.Itoa(li)
		if err := wantShape(ts, p+".weight", out, in); err != nil {
			return err
		}
		if err := wantShape(ts, p+".bias", out); err != nil {
			return err
		}
		if l < len(norm) && norm[l] >= 0 {
			np := prefix + strconv.Itoa(norm[l])
			if err := wantShape(ts, np+".weight", out); err != nil {
				return err
			}
			if err := wantShape(ts, np+".bias", out); err != nil {
				return err
			}
		}
		in = out
	}
	if hd.Kind == HeadBinary && hd.Out != 1 {
		return archErr("binary decoder %q outputs %d values, want 1", hd.Name, hd.Out)
	}
	return nil
}

func decoderLayers(a *Arch) []ConvSpec {
	w := a.DecoderWidth
	var ls []ConvSpec
	if a.Decoder == VisualCNNHa {
		chans := []int{32 * w, 4 * w, 2 * w, w, 3}
		ks := []int{5, 5, 6, 6}
		size := 1
		for i := 0; i < 4; i++ {
			c := ConvSpec{Prefix: "decoders.image.net." + strconv.Itoa(2*i+2), Cin: chans[i], Cout: chans[i+1], K: ks[i], S: 2, InH: size, Transposed: true}
			if i < 3 {
				c.Act = "relu"
			}
			c.OutH = (size-1)*c.S - 2*c.P + c.K
			size = c.OutH
			ls = append(ls, c)
		}
		return ls
	}
	chans := []int{8 * w, 4 * w, 2 * w, w, 3}
	size := 4
	for i := 0; i < 4; i++ {
		c := ConvSpec{Prefix: "decoders.image.net." + strconv.Itoa(3*i+2), Cin: chans[i], Cout: chans[i+1], K: 4, S: 2, P: 1, InH: size, Transposed: true}
		if i < 3 {
			c.InstNorm, c.Act = true, "silu"
		}
		c.OutH = (size-1)*c.S - 2*c.P + c.K
		size = c.OutH
		ls = append(ls, c)
	}
	return ls
}

// decoderSeed gives the [channels, side] the decoder's Linear output is reshaped to.
func decoderSeed(a *Arch) (c, side int) {
	if a.Decoder == VisualCNNHa {
		return 32 * a.DecoderWidth, 1
	}
	return 8 * a.DecoderWidth, 4
}

func resolveImageDecoder(ts map[string]*Tensor, a *Arch, h Hints) error {
	lin, err := shapeOf(ts, "decoders.image.net.0.weight")
	if err != nil {
		return err
	}
	switch {
	case ts["decoders.image.net.11.weight"] != nil:
		a.Decoder = VisualDreamerResnet
		last := ts["decoders.image.net.11.weight"].Shape
		if len(last) != 4 {
			return archErr("decoders.image.net.11.weight has shape %s", ShapeString(last))
		}
		a.DecoderWidth = last[0]
	case ts["decoders.image.net.8.weight"] != nil:
		a.Decoder = VisualCNNHa
		last := ts["decoders.image.net.8.weight"].Shape
		if len(last) != 4 {
			return archErr("decoders.image.net.8.weight has shape %s", ShapeString(last))
		}
		a.DecoderWidth = last[0]
	default:
		return archErr("image decoder layout not recognised (neither decoders.image.net.8 nor net.11)")
	}
	if h.DecoderName != "" && h.DecoderName != a.Decoder {
		return archErr("world_model.decoders.visual.name is %q but the checkpoint holds a %s decoder", h.DecoderName, a.Decoder)
	}
	if h.DecoderWidth != 0 && h.DecoderWidth != a.DecoderWidth {
		return archErr("world_model.decoders.visual.width %d disagrees with the image decoder's last layer (width %d)", h.DecoderWidth, a.DecoderWidth)
	}
	if h.DecoderSigmoid != nil {
		a.DecoderSigmoid = *h.DecoderSigmoid
	} else {
		a.DecoderSigmoid = a.Decoder == VisualCNNHa // class defaults (spec §1.7 item 5)
	}
	c, side := decoderSeed(a)
	if err := wantShape(ts, "decoders.image.net.0.weight", c*side*side, a.FeatureDim()); err != nil {
		return err
	}
	_ = lin
	if err := wantShape(ts, "decoders.image.net.0.bias", c*side*side); err != nil {
		return err
	}
	for _, l := range decoderLayers(a) {
		if err := wantShape(ts, l.Prefix+".weight", l.Cin, l.Cout, l.K, l.K); err != nil {
			return err
		}
		if err := wantShape(ts, l.Prefix+".bias", l.Cout); err != nil {
			return err
		}
	}
	if out := decoderLayers(a)[3].OutH; out != ImageSize {
		return archErr("image decoder produces %dx%d images, want %d", out, out, ImageSize)
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func knownActivation(s string) bool {
	switch s {
	case "elu", "silu", "swish", "relu", "tanh", "sigmoid", "identity":
		return true
	}
	return false
}
