package pipeline

import (
	"errors"
	"fmt"
	"os"

	"github.com/rssmd/rssmd/armkernels"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
	"github.com/rssmd/rssmd/quant"
)

// Opened is a model ready to step: float32 or int8.
type Opened struct {
	Stepper model.Stepper
	Arch    *model.Arch
	// Kind is "float32" or "int8"; Kernel names the int8 kernel path ("" for float32).
	Kind, Kernel string
	// Float is the float32 model when the source holds one (original folder or float32 bundle).
	Float *model.Model
	// NewStepper makes another independent stepper over the same weights, for a second
	// goroutine (a Stepper is not safe for concurrent use).
	NewStepper func() model.Stepper
}

// ErrNeedsCalibration is returned when the int8 path is asked of a float32 model.
var ErrNeedsCalibration = errors.New("the int8 path needs an int8 bundle: calibrate the model first")

// OpenModel opens an original model folder, a float32 bundle or an int8 bundle. An int8
// bundle always runs int8 (on armkernels.Default()); wantInt8 on a float32 model is an error
// that says how to make an int8 bundle.
func OpenModel(path string, wantInt8 bool) (*Opened, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if !fi.IsDir() && model.IsBundleFile(path) {
		p, err := bundle.ReadFile(path)
		if err != nil {
			return nil, err
		}
		switch p.Kind {
		case bundle.KindInt8:
			qm, err := quant.FromBundle(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			k := armkernels.Default()
			return &Opened{Stepper: qm.NewRunner(k), Arch: qm.Arch, Kind: "int8", Kernel: k.Name,
				NewStepper: func() model.Stepper { return qm.NewRunner(k) }}, nil
		case bundle.KindFloat32:
			if wantInt8 {
				return nil, fmt.Errorf("%w (rssmd calibrate --model %s --data SEQ.npz... --out model.int8.rssm)", ErrNeedsCalibration, path)
			}
			m, err := model.FromBundle(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return floatOpened(m), nil
		default:
			return nil, fmt.Errorf("%s: unknown bundle kind %q", path, p.Kind)
		}
	}
	if wantInt8 {
		return nil, fmt.Errorf("%w (rssmd calibrate --model %s --data SEQ.npz... --out model.int8.rssm)", ErrNeedsCalibration, path)
	}
	m, err := model.Load(path)
	if err != nil {
		return nil, err
	}
	return floatOpened(m), nil
}

func floatOpened(m *model.Model) *Opened {
	return &Opened{Stepper: m.NewRunner(), Arch: m.Arch, Kind: "float32", Float: m,
		NewStepper: func() model.Stepper { return m.NewRunner() }}
}
