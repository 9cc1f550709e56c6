package quant

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
)

// Names of the int8 tensors in a bundle: a quantised Linear keeps one int8 matrix and one
// float32 row-scale vector per input segment; convs keep theirs in the kernel's row order.
func segName(layer string, i int) string { return layer + ".weight#" + strconv.Itoa(i) }
func convName(prefix string) string      { return prefix + ".weight.q" }
func scaleName(w string) string          { return w + ".scale" }

// BundlePayload returns the int8 bundle payload of m: int8 weights with their per-row scales,
// float32 biases, norms and float layers, the activation scales, and m.Meta.
func (m *Model) BundlePayload(prov bundle.Provenance) (*bundle.Payload, error) {
	archJSON, err := json.Marshal(m.Arch)
	if err != nil {
		return nil, fmt.Errorf("encode architecture: %w", err)
	}
	p := &bundle.Payload{Kind: bundle.KindInt8, ArchJSON: archJSON, Provenance: prov, Meta: map[string]string{}}
	for k, v := range m.Meta {
		p.Meta[k] = v
	}
	names := make([]string, 0, len(m.floats))
	for k := range m.floats {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t := m.floats[k]
		p.Tensors = append(p.Tensors, bundle.FromFloat32(k, t.Shape, t.Data))
	}
	for _, l := range m.linears() {
		for i, s := range l.segs {
			n := segName(l.name, i)
			p.Tensors = append(p.Tensors, bundle.FromInt8(n, []int{l.out, s.n}, s.q), bundle.FromFloat32(scaleName(n), []int{l.out}, s.rowScale))
		}
	}
	for _, c := range m.enc {
		sp := c.spec
		n := convName(sp.Prefix)
		p.Tensors = append(p.Tensors, bundle.FromInt8(n, []int{sp.Cout, sp.K * sp.K * sp.Cin}, c.q), bundle.FromFloat32(scaleName(n), []int{sp.Cout}, c.rowScale))
	}
	for _, d := range m.dec {
		sp := d.spec
		n := convName(sp.Prefix)
		p.Tensors = append(p.Tensors, bundle.FromInt8(n, []int{sp.K * sp.K * sp.Cout, sp.Cin}, d.q), bundle.FromFloat32(scaleName(n), []int{len(d.rowScale)}, d.rowScale))
	}
	for _, k := range m.ScaleNames() {
		p.Tensors = append(p.Tensors, bundle.FromFloat32(scaleTensorName+k, []int{1}, []float32{m.Scales[k]}))
		if z := m.Zeros[k]; z != 0 && k != EncPoint(0) {
			p.Tensors = append(p.Tensors, bundle.FromFloat32(zeroTensorName+k, []int{1}, []float32{float32(z)}))
		}
	}
	return p, nil
}

// SaveBundle writes m as an int8 bundle file.
func SaveBundle(m *Model, path string, prov bundle.Provenance) error {
	p, err := m.BundlePayload(prov)
	if err != nil {
		return err
	}
	if err := bundle.WriteFile(path, p); err != nil {
		return fmt.Errorf("write int8 bundle: %w", err)
	}
	return nil
}

// Load reads an int8 bundle file (as `rssmd calibrate --out` writes it).
func Load(path string) (*Model, error) {
	p, err := bundle.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := FromBundle(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// FromBundle builds an int8 model from a bundle payload, checking every tensor's shape against
// the architecture and every scale for sanity before anything is sized from them.
func FromBundle(p *bundle.Payload) (*Model, error) {
	if p.Kind != bundle.KindInt8 {
		return nil, fmt.Errorf("the bundle holds %s, not an int8 one (make one with `rssmd calibrate`)", bundle.KindPhrase(p.Kind))
	}
	var a model.Arch
	if err := json.Unmarshal(p.ArchJSON, &a); err != nil {
		return nil, fmt.Errorf("bundle architecture: %w", err)
	}
	if err := checkArch(&a); err != nil {
		return nil, err
	}
	src := bundleSource{f: map[string]*model.Tensor{}, q: map[string]*bundle.TensorData{}}
	scales := map[string]float32{}
	zeros := map[string]int32{}
	for i := range p.Tensors {
		td := &p.Tensors[i]
		if _, dup := src.f[td.Name]; dup {
			return nil, fmt.Errorf("%w: tensor %q appears twice", bundle.ErrCorrupt, td.Name)
		}
		if _, dup := src.q[td.Name]; dup {
			return nil, fmt.Errorf("%w: tensor %q appears twice", bundle.ErrCorrupt, td.Name)
		}
		switch td.Dtype {
		case "f32":
			v, err := td.Float32()
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(td.Name, scaleTensorName) {
				if len(v) != 1 {
					return nil, fmt.Errorf("%w: activation scale %q has %d values", bundle.ErrCorrupt, td.Name, len(v))
				}
				scales[strings.TrimPrefix(td.Name, scaleTensorName)] = v[0]
				continue
			}
			if strings.HasPrefix(td.Name, zeroTensorName) {
				if len(v) != 1 || v[0] != float32(int32(v[0])) || v[0] < -128 || v[0] > 127 {
					return nil, fmt.Errorf("%w: activation zero point %q is not one integer in [-128, 127]", bundle.ErrCorrupt, td.Name)
				}
				zeros[strings.TrimPrefix(td.Name, zeroTensorName)] = int32(v[0])
				continue
			}
			src.f[td.Name] = &model.Tensor{Shape: td.Shape, Data: v}
		case "i8":
			src.q[td.Name] = td
		default:
			return nil, fmt.Errorf("%w: tensor %q has dtype %s, an int8 bundle holds only f32 and i8", bundle.ErrCorrupt, td.Name, td.Dtype)
		}
	}
	m, err := build(&a, src, scales, zeros)
	if err != nil {
		return nil, fmt.Errorf("int8 bundle: %w", err)
	}
	for k, v := range p.Meta {
		m.Meta[k] = v
	}
	return m, nil
}

// maxDim bounds every width an architecture may claim, so a hostile bundle cannot make the
// layer lists or the runner allocate without limit before its tensors are checked.
const maxDim = 1 << 16

// checkArch validates the dimensions of a decoded architecture.
func checkArch(a *model.Arch) error {
	bad := func(f string, v int) error {
		return fmt.Errorf("%w: bundle architecture has %s = %d", model.ErrArch, f, v)
	}
	for _, d := range []struct {
		name string
		v    int
		min  int
	}{{"Deter", a.Deter, 1}, {"Stoch", a.Stoch, 1}, {"Hidden", a.Hidden, 1}, {"ActionDim", a.ActionDim, 0}, {"EmbDim", a.EmbDim, 1}, {"EncoderWidth", a.EncoderWidth, 1}, {"DecoderWidth", a.DecoderWidth, 0}} {
		if d.v < d.min || d.v > maxDim {
			return bad(d.name, d.v)
		}
	}
	switch a.Encoder {
	case model.VisualCNNHa, model.VisualDreamerResnet:
	default:
		return fmt.Errorf("%w: bundle architecture has encoder %q", model.ErrArch, a.Encoder)
	}
	switch a.Decoder {
	case "":
	case model.VisualCNNHa, model.VisualDreamerResnet:
		if a.DecoderWidth < 1 {
			return bad("DecoderWidth", a.DecoderWidth)
		}
	default:
		return fmt.Errorf("%w: bundle architecture has decoder %q", model.ErrArch, a.Decoder)
	}
	if a.Discrete && (a.Groups < 1 || a.Classes < 1 || a.Groups*a.Classes != a.Stoch) {
		return fmt.Errorf("%w: bundle architecture has %d groups × %d classes for stoch %d", model.ErrArch, a.Groups, a.Classes, a.Stoch)
	}
	last := model.EncoderLayers(a)[3]
	if got := last.Cout * last.OutH * last.OutH; got != a.EmbDim {
		return fmt.Errorf("%w: bundle architecture has EmbDim %d, its encoder gives %d", model.ErrArch, a.EmbDim, got)
	}
	if math.IsNaN(float64(a.MinStd)) || a.MinStd < 0 {
		return fmt.Errorf("%w: bundle architecture has min_std %v", model.ErrArch, a.MinStd)
	}
	for _, h := range a.Heads {
		if h.Width < 1 || h.Width > maxDim || h.Out < 1 || h.Out > maxDim || h.Layers < 0 || h.Layers > 64 {
			return fmt.Errorf("%w: bundle head %q has width %d, out %d, %d layers", model.ErrArch, h.Name, h.Width, h.Out, h.Layers)
		}
		if h.Kind != model.HeadBinary && h.Kind != model.HeadDMLP {
			return fmt.Errorf("%w: bundle head %q has kind %q", model.ErrArch, h.Name, h.Kind)
		}
	}
	return nil
}

// bundleSource reads the weights of an int8 bundle.
type bundleSource struct {
	f map[string]*model.Tensor
	q map[string]*bundle.TensorData
}

func (s bundleSource) float(name string, shape ...int) (*model.Tensor, error) {
	return getTensor(s.f, name, shape...)
}

// int8 returns the int8 matrix name of shape [rows, k] and its per-row (or per-channel,
// nScale values) scales.
func (s bundleSource) int8(name string, rows, k, nScale int) ([]int8, []float32, error) {
	td, ok := s.q[name]
	if !ok {
		return nil, nil, fmt.Errorf("%w: missing int8 tensor %q", model.ErrArch, name)
	}
	if len(td.Shape) != 2 || td.Shape[0] != rows || td.Shape[1] != k {
		return nil, nil, fmt.Errorf("%w: int8 tensor %q has shape %s, want [%d, %d]", model.ErrArch, name, model.ShapeString(td.Shape), rows, k)
	}
	q, err := td.Int8()
	if err != nil {
		return nil, nil, err
	}
	sc, err := getTensor(s.f, scaleName(name), nScale)
	if err != nil {
		return nil, nil, err
	}
	for j, v := range sc.Data {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return nil, nil, fmt.Errorf("%w: %s[%d] = %v, want a positive finite scale", model.ErrArch, scaleName(name), j, v)
		}
	}
	return q, sc.Data, nil
}

func (s bundleSource) linear(name string, out, in int, cuts []int, points []string) (*qlinear, error) {
	b, err := getTensor(s.f, name+".bias", out)
	if err != nil {
		return nil, err
	}
	l := &qlinear{name: name, in: in, out: out, bias: b.Data}
	bounds := append(append([]int{0}, cuts...), in)
	for i := range points {
		off, n := bounds[i], bounds[i+1]-bounds[i]
		q, sc, err := s.int8(segName(name, i), out, n, out)
		if err != nil {
			return nil, err
		}
		l.segs = append(l.segs, seg{off: off, n: n, point: points[i], q: q, rowScale: sc})
	}
	return l, nil
}

func (s bundleSource) seed(a *model.Arch, cuts []int, points []string) (*qlinear, error) {
	sp := model.DecoderLayers(a)[0]
	return s.linear(SeedName, sp.K*sp.K*sp.Cout, a.Deter+a.Stoch, cuts, points)
}

func (s bundleSource) conv(sp model.ConvSpec, point string) (*qconv, error) {
	b, err := getTensor(s.f, sp.Prefix+".bias", sp.Cout)
	if err != nil {
		return nil, err
	}
	q, sc, err := s.int8(convName(sp.Prefix), sp.Cout, sp.K*sp.K*sp.Cin, sp.Cout)
	if err != nil {
		return nil, err
	}
	return &qconv{spec: sp, q: q, rowScale: sc, bias: b.Data, inPoint: point}, nil
}

func (s bundleSource) deconv(sp model.ConvSpec, point string) (*qdeconv, error) {
	b, err := getTensor(s.f, sp.Prefix+".bias", sp.Cout)
	if err != nil {
		return nil, err
	}
	// Cout weight scales, or S·S·Cout phase scales (qdeconv.rowScale; pack checks the
	// layer can take them).
	nScale := sp.Cout
	if t := s.f[scaleName(convName(sp.Prefix))]; t != nil && len(t.Shape) == 1 && sp.S >= 2 && t.Shape[0] == sp.S*sp.S*sp.Cout {
		nScale = t.Shape[0]
	}
	q, sc, err := s.int8(convName(sp.Prefix), sp.K*sp.K*sp.Cout, sp.Cin, nScale)
	if err != nil {
		return nil, err
	}
	return &qdeconv{spec: sp, q: q, rowScale: sc, bias: b.Data, inPoint: point}, nil
}
