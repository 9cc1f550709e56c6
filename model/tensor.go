// Package model is the float32 RSSMO world model: the loader for original AIME-NoB
// pretrained-model folders (config.yaml + PyTorch model.pt), the native msgp bundle, and the
// reference math (encoder, posterior step, prior step, decoders, KL and the per-step ELBO).
// It is the truth every faster path (quant/, armkernels/) is tested against, and imports no
// other package of rssmd.
package model

import "fmt"

// Tensor is a dense, row-major float32 array as stored in a state_dict.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NumElements is the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// ShapeString formats the shape the way PyTorch prints it, for error messages.
func ShapeString(shape []int) string {
	s := "["
	for i, d := range shape {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(d)
	}
	return s + "]"
}
