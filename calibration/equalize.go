package calibration

import (
	"math"

	"github.com/rssmd/rssmd/model"
)

// Cross-layer equalisation of the encoder (Nagel et al. 2019, "Data-free quantization",
// with the activation ranges measured rather than inferred). Between conv i and conv i+1 with
// a ReLU (and no norm) in between, output channel j of conv i can be divided by any s_j > 0
// and input channel j of conv i+1 multiplied by it without changing the function: ReLU is
// positively homogeneous. The int8 activations between them have one scale per tensor, and
// the measured per-channel ranges spread over 5× and more, so most channels use a few of the
// 255 levels; equalising trades a little of conv i+1's weight resolution (per row, so the
// rows of conv i lose nothing) for all of that. s_j = sqrt(r_j / w_j) balances the two (the
// α = 0.5 of SmoothQuant): r_j is channel j's activation range, w_j its weight range in
// conv i+1 relative to each row's own range.

// encoderChannelMax runs the float encoder of t over every frame of seqs and returns, per
// conv, the largest post-activation |value| of each output channel.
func (t *tapper) encoderChannelMax(seqs []*model.Sequence) [][]float64 {
	out := make([][]float64, len(t.enc))
	for i, sp := range t.encSpec {
		out[i] = make([]float64, sp.Cout)
	}
	for _, s := range seqs {
		for step := 0; step < s.T; step++ {
			t.encodeFrame(s.Frame(step), func(i, hw int, act []float32) {
				for c := range out[i] {
					m := out[i][c]
					for _, v := range act[c*hw : (c+1)*hw] {
						m = math.Max(m, math.Abs(float64(v)))
					}
					out[i][c] = m
				}
			})
		}
	}
	return out
}

// equalizeEncoder returns ts with the encoder's conv+ReLU pairs rescaled per channel as
// above; rescaled tensors are copies, the rest are shared. chMax is encoderChannelMax's
// result for the unscaled model (rescaling earlier pairs does not change a layer's output).
func equalizeEncoder(ts map[string]*model.Tensor, a *model.Arch, chMax [][]float64) map[string]*model.Tensor {
	specs := model.EncoderLayers(a)
	out := make(map[string]*model.Tensor, len(ts))
	for k, v := range ts {
		out[k] = v
	}
	cp := func(name string) []float32 {
		t := out[name]
		c := &model.Tensor{Shape: t.Shape, Data: append([]float32(nil), t.Data...)}
		out[name] = c
		return c.Data
	}
	for i := 0; i+1 < len(specs); i++ {
		sp, nx := specs[i], specs[i+1]
		if sp.Act != "relu" || sp.InstNorm || sp.Norm != "" || nx.Cin != sp.Cout {
			continue
		}
		w2 := out[nx.Prefix+".weight"].Data // [Cout'][Cin][K][K]
		kk := nx.K * nx.K
		colMax := make([]float64, sp.Cout)
		for o := 0; o < nx.Cout; o++ {
			row := w2[o*nx.Cin*kk : (o+1)*nx.Cin*kk]
			var rm float64
			for _, v := range row {
				rm = math.Max(rm, math.Abs(float64(v)))
			}
			if rm == 0 {
				continue
			}
			for j := 0; j < nx.Cin; j++ {
				for _, v := range row[j*kk : (j+1)*kk] {
					colMax[j] = math.Max(colMax[j], math.Abs(float64(v))/rm)
				}
			}
		}
		s := make([]float64, sp.Cout)
		for j := range s {
			s[j] = 1
			if r, w := chMax[i][j], colMax[j]; r > 0 && w > 0 {
				s[j] = math.Sqrt(r / w)
			}
		}
		w1, b1 := cp(sp.Prefix+".weight"), cp(sp.Prefix+".bias")
		k1 := sp.Cin * sp.K * sp.K
		for j, sj := range s {
			for p := range w1[j*k1 : (j+1)*k1] {
				w1[j*k1+p] = float32(float64(w1[j*k1+p]) / sj)
			}
			b1[j] = float32(float64(b1[j]) / sj)
		}
		w2 = cp(nx.Prefix + ".weight")
		for o := 0; o < nx.Cout; o++ {
			for j, sj := range s {
				base := (o*nx.Cin + j) * kk
				for p := base; p < base+kk; p++ {
					w2[p] = float32(float64(w2[p]) * sj)
				}
			}
		}
	}
	return out
}
