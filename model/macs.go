package model

// MACs counts multiply-accumulates as spec §6 does: weights × outputs, no bias, norm or
// activation work.
type MACs struct {
	Encoder     int64
	Transition  int64 // pre_memory + GRU + prior + posterior (what a filter step needs)
	FilterStep  int64 // Encoder + Transition
	PriorStep   int64 // pre_memory + GRU + prior
	Decode      int64 // image decoder
	Heads       int64 // every non-image head once
	Likelihood  int64 // one VIPER likelihood step: FilterStep + Decode + Heads
	ParamsTotal int64 // learnable parameters (buffers excluded)
}

// Count returns the MAC counts of an architecture.
func (a *Arch) Count() MACs {
	var c MACs
	for _, l := range EncoderLayers(a) {
		c.Encoder += int64(l.Cout * l.OutH * l.OutH * l.Cin * l.K * l.K)
	}
	S, A, H, M, E := int64(a.Stoch), int64(a.ActionDim), int64(a.Deter), int64(a.Hidden), int64(a.EmbDim)
	out := 2 * S
	if a.Discrete {
		out = S
	}
	pre := (S + A) * M
	gru := (M + H) * 3 * H
	prior := H*M + M*out
	post := (H+E)*M + M*out
	c.Transition = pre + gru + prior + post
	c.FilterStep = c.Encoder + c.Transition
	c.PriorStep = pre + gru + prior
	if a.Decoder != "" {
		ch, side := DecoderSeed(a)
		c.Decode = int64(a.FeatureDim() * ch * side * side)
		for _, l := range DecoderLayers(a) {
			c.Decode += int64(l.Cin * l.InH * l.InH * l.Cout * l.K * l.K)
		}
	}
	for _, h := range a.Heads {
		in := a.FeatureDim()
		for l := 0; l <= h.Layers; l++ {
			o := h.Width
			if l == h.Layers {
				o = h.Out
			}
			c.Heads += int64(in * o)
			in = o
		}
	}
	c.Likelihood = c.FilterStep + c.Decode + c.Heads
	return c
}

// ParamCount is the number of learnable parameters of m (the zero buffers initial_memory and
// initial_state are not counted, as in spec §2.3).
func (m *Model) ParamCount() int64 {
	var n int64
	for k, t := range m.Tensors {
		if k == "initial_memory" || k == "initial_state" {
			continue
		}
		n += int64(t.NumElements())
	}
	return n
}
