package model

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"

	"github.com/rssmd/rssmd/model/bundle"
)

// hintsFromArch turns a resolved architecture back into the hints that resolve to it, so a
// bundle is re-validated by the same code that validates checkpoints.
func hintsFromArch(a *Arch) Hints {
	ms := float64(a.MinStd)
	sig := a.DecoderSigmoid
	h := Hints{MinStd: &ms, DecoderSigmoid: &sig, HiddenSize: a.Hidden, EncoderName: a.Encoder, EncoderWidth: a.EncoderWidth}
	if a.Discrete {
		h.StateDim = []int{a.Deter, a.Groups, a.Classes}
		h.StateDistribution = "discrete"
	} else {
		h.StateDim = []int{a.Deter, a.Stoch}
		h.StateDistribution = "continuous"
	}
	for _, hd := range a.Heads {
		if hd.Kind == HeadBinary {
			h.BinaryActivation = hd.Activation
		} else {
			h.TabularActivation = hd.Activation
		}
	}
	return h
}

// BundlePayload returns the float32 bundle payload of m: its architecture, provenance and
// every tensor of its state_dict, sorted by name.
func (m *Model) BundlePayload(prov bundle.Provenance) (*bundle.Payload, error) {
	archJSON, err := json.Marshal(m.Arch)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(m.Tensors))
	for k := range m.Tensors {
		names = append(names, k)
	}
	sort.Strings(names)
	p := &bundle.Payload{Kind: bundle.KindFloat32, ArchJSON: archJSON, Provenance: prov, Meta: map[string]string{}}
	for _, k := range names {
		t := m.Tensors[k]
		p.Tensors = append(p.Tensors, bundle.FromFloat32(k, t.Shape, t.Data))
	}
	return p, nil
}

// FromBundle builds a float32 model from a bundle payload, re-validating every shape.
func FromBundle(p *bundle.Payload) (*Model, error) {
	if p.Kind != bundle.KindFloat32 {
		return nil, fmt.Errorf("the bundle holds %s; this needs the float32 model (its original folder or float32 bundle)", bundle.KindPhrase(p.Kind))
	}
	ts, a, err := TensorsFromBundle(p)
	if err != nil {
		return nil, err
	}
	got, err := ResolveArch(ts, hintsFromArch(a))
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if !reflect.DeepEqual(got, a) {
		return nil, fmt.Errorf("%w: bundle architecture %+v disagrees with its tensors (%+v)", ErrArch, *a, *got)
	}
	return newFromArch(ts, got)
}

// TensorsFromBundle decodes the architecture and the f32 tensors of a payload.
func TensorsFromBundle(p *bundle.Payload) (map[string]*Tensor, *Arch, error) {
	var a Arch
	if err := json.Unmarshal(p.ArchJSON, &a); err != nil {
		return nil, nil, fmt.Errorf("bundle architecture: %w", err)
	}
	ts := make(map[string]*Tensor, len(p.Tensors))
	for i := range p.Tensors {
		td := &p.Tensors[i]
		if td.Dtype != "f32" {
			continue
		}
		v, err := td.Float32()
		if err != nil {
			return nil, nil, err
		}
		if _, dup := ts[td.Name]; dup {
			return nil, nil, fmt.Errorf("%w: bundle has tensor %q twice", bundle.ErrCorrupt, td.Name)
		}
		ts[td.Name] = &Tensor{Shape: td.Shape, Data: v}
	}
	return ts, &a, nil
}

// SaveBundle writes m as a float32 bundle file.
func SaveBundle(m *Model, path string, prov bundle.Provenance) error {
	p, err := m.BundlePayload(prov)
	if err != nil {
		return err
	}
	return bundle.WriteFile(path, p)
}

// LoadBundleFile reads a float32 bundle file.
func LoadBundleFile(path string) (*Model, error) {
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

// IsBundleFile reports whether path is a regular file starting with the bundle magic.
func IsBundleFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [len(bundle.Magic)]byte
	if _, err := f.Read(b[:]); err != nil {
		return false
	}
	return bundle.IsBundle(b[:])
}
