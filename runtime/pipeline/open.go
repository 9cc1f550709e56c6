package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	// Path is the file or folder actually opened (the int8 bundle inside a folder, say).
	Path string

	memo *model.DecodeMemo
}

// ShareDecodes makes o's steppers — Stepper, which the loop and its monitor run, and every
// later NewStepper, which the nodes run — decode through one model.DecodeMemo, so an image
// the monitor and a node both need (the predicted frame under a held action, the posterior
// reconstruction) is decoded once per tick. Call it before handing out steppers, when some
// node publishes decoded images; calling it again returns the same memo.
func (o *Opened) ShareDecodes() *model.DecodeMemo {
	if o.memo != nil {
		return o.memo
	}
	o.memo = model.NewDecodeMemo(o.Arch)
	o.Stepper = o.memo.Wrap(o.Stepper)
	next := o.NewStepper
	o.NewStepper = func() model.Stepper { return o.memo.Wrap(next()) }
	return o.memo
}

// DecodeMemo is the memo ShareDecodes set up (nil before).
func (o *Opened) DecodeMemo() *model.DecodeMemo { return o.memo }

// Label is how logs, diagnostics and summaries name the path: "float32" or
// "int8 (avx512vnni)". Metrics carry Kind and Kernel as separate labels.
func (o *Opened) Label() string {
	if o.Kernel == "" {
		return o.Kind
	}
	return o.Kind + " (" + o.Kernel + ")"
}

// ErrNeedsCalibration is returned when the int8 path is asked of a float32 model.
var ErrNeedsCalibration = errors.New("the int8 path needs an int8 bundle: calibrate the model first")

// OpenModel opens an original model folder, a float32 bundle or an int8 bundle. An int8
// bundle always runs int8 (on armkernels.Default()); wantInt8 on a float32 model is an error
// that says how to make an int8 bundle.
func OpenModel(path string, wantInt8 bool) (*Opened, error) {
	o, err := openModel(path, wantInt8)
	if err != nil {
		return nil, err
	}
	if o.Path == "" {
		o.Path = path
	}
	return o, nil
}

// Int8Bundle is the int8 bundle that goes with path: path itself when it is one, or a file
// named *int8*.rssm in a model folder ("" when there is none).
func Int8Bundle(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if !fi.IsDir() {
		if model.IsBundleFile(path) && strings.Contains(filepath.Base(path), "int8") {
			return path
		}
		return ""
	}
	m, _ := filepath.Glob(filepath.Join(path, "*int8*.rssm"))
	if len(m) > 0 {
		return m[0]
	}
	return ""
}

func openModel(path string, wantInt8 bool) (*Opened, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if fi.IsDir() && wantInt8 {
		// A model folder that ships its int8 bundle (models/demo/rssmo-arm).
		if b := Int8Bundle(path); b != "" {
			o, err := openModel(b, true)
			if err == nil {
				o.Path = b
			}
			return o, err
		}
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "config.yaml")); err != nil {
			// A folder of bundles: its float32 one.
			m, _ := filepath.Glob(filepath.Join(path, "*.rssm"))
			for _, f := range m {
				if !strings.Contains(filepath.Base(f), "int8") {
					o, err := openModel(f, wantInt8)
					if err == nil {
						o.Path = f
					}
					return o, err
				}
			}
		}
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
