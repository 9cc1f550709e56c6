package quant

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
)

// FuzzFromBundle feeds FromBundle mutated int8 bundles of the small model (with phase
// scales): ops encoded in
// the fuzz input edit tensor bytes, shapes, dtypes, names, the architecture JSON, or drop or
// duplicate tensors; a first byte with the low bit set instead flips bytes of the encoded
// file and goes through bundle.Decode. FromBundle must return an error or a model whose
// runner can take a step, never panic or allocate without bound.
func FuzzFromBundle(f *testing.F) {
	fm, _, seq := small(f)
	// Calibrated weights: the transposed convs carry phase scales (S·S·Cout per layer).
	rng := rand.New(rand.NewPCG(9, 10))
	grams := map[string][]float64{}
	for i, sp := range model.DecoderLayers(fm.Arch) {
		if i == 0 && SeedMerged(fm.Arch) {
			continue
		}
		grams[DecPoint(i)] = correlatedGram(rng, sp.Cin, 200)
	}
	qm, err := QuantizeCalibrated(fm, fixedScales(fm.Arch, 4), shiftedZeros(fm.Arch), grams)
	if err != nil {
		f.Fatal(err)
	}
	base, err := qm.BundlePayload(bundle.Provenance{})
	if err != nil {
		f.Fatal(err)
	}
	var enc bytes.Buffer
	if err := bundle.Encode(&enc, base); err != nil {
		f.Fatal(err)
	}
	encoded := enc.Bytes()
	f.Add([]byte{0})
	f.Add([]byte{0, 0, 3, 0, 200})
	f.Add([]byte{0, 1, 5, 0, 7})
	f.Add([]byte{0, 4, 10, 30, 57})
	f.Add([]byte{1, 0, 40, 0, 0xff})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			return
		}
		var p *bundle.Payload
		if len(ops) > 0 && ops[0]&1 == 1 {
			data := append([]byte(nil), encoded...)
			for i := 1; i+2 < len(ops); i += 3 {
				pos := (int(ops[i])<<8 | int(ops[i+1])) * 7 % len(data)
				data[pos] ^= ops[i+2]
			}
			var err error
			if p, err = bundle.Decode(data); err != nil {
				return
			}
		} else {
			p = mutatePayload(base, ops)
		}
		m, err := FromBundle(p)
		if err != nil {
			return
		}
		r := m.NewRunner(nil)
		s := model.NewStateFor(m.Arch)
		out := m.Arch.NewStepOutput()
		action := make([]float32, m.Arch.ActionDim)
		_ = r.PosteriorStep(&s, action, seq.Frame(0), true, out, nil)
		img := make([]float32, model.ImageValues)
		_ = r.Decode(img, s.Deter, s.Stoch)
	})
}

// mutatePayload applies 4-byte ops (kind, tensor, position, value) to a copy of base.
func mutatePayload(base *bundle.Payload, ops []byte) *bundle.Payload {
	p := *base
	p.ArchJSON = append([]byte(nil), base.ArchJSON...)
	p.Tensors = append([]bundle.TensorData(nil), base.Tensors...)
	for i := 1; i+3 < len(ops) && len(p.Tensors) > 0; i += 4 {
		kind, ti, pos, v := ops[i]%7, int(ops[i+1])%len(p.Tensors), int(ops[i+2]), ops[i+3]
		td := &p.Tensors[ti]
		switch kind {
		case 0: // corrupt an element byte
			if len(td.Data) > 0 {
				td.Data = append([]byte(nil), td.Data...)
				td.Data[pos*131%len(td.Data)] ^= v
			}
		case 1: // change a dimension
			if len(td.Shape) > 0 {
				td.Shape = append([]int(nil), td.Shape...)
				td.Shape[pos%len(td.Shape)] = int(int8(v)) * (1 + pos)
			}
		case 2: // drop the tensor
			p.Tensors = append(p.Tensors[:ti:ti], p.Tensors[ti+1:]...)
		case 3: // duplicate it
			p.Tensors = append(p.Tensors, *td)
		case 4: // corrupt the architecture JSON
			if len(p.ArchJSON) > 0 {
				p.ArchJSON[(pos<<8|int(v))%len(p.ArchJSON)] = '0' + v%10
			}
		case 5: // wrong dtype
			td.Dtype = []string{"f32", "i8", "i32", "u8"}[v%4]
		case 6: // truncate the data
			if len(td.Data) > 0 {
				td.Data = td.Data[:pos*len(td.Data)/256]
			}
		}
	}
	return &p
}
