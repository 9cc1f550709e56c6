package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/bundle"
)

// version is the rssmd version stamped into bundles.
const version = "0.1.0"

// runConvert implements `rssmd convert`: original folder → float32 bundle.
func runConvert(env *Env) error {
	fs := newFlags(env, "convert")
	modelPath := fs.String("model", "", "original model folder (config.yaml + model.pt) (required)")
	out := fs.String("out", "", "output bundle path, e.g. model.rssm (required)")
	int8 := fs.Bool("int8", false, "write an int8 bundle instead (needs --calib data)")
	var calib stringList
	fs.Var(&calib, "calib", "calibration data for --int8: .npz files or dataset folders (several after one --calib, repeatable)")
	files, err := parseFiles(fs, env.Args, "calib")
	if err != nil {
		return err
	}
	if len(files) > 0 {
		if !*int8 {
			fmt.Fprintf(env.Stderr, "rssmd convert: unexpected arguments %v (calibration data goes with --int8 --calib)\n", files)
			return errUsage
		}
		calib = append(calib, files...)
	}
	if err := requireFlags(fs, "model", "out"); err != nil {
		return err
	}
	if err := checkOut("out", *out); err != nil {
		return err
	}
	if *int8 {
		if len(calib) == 0 {
			return errors.New("--int8 needs --calib DATA (or use rssmd calibrate)")
		}
		args := []string{"--model", *modelPath, "--out", *out}
		for _, c := range calib {
			args = append(args, "--data", c)
		}
		return runCalibrate(&Env{Ctx: env.Ctx, Args: args, Stdout: env.Stdout, Stderr: env.Stderr, Log: env.Log})
	}
	if model.IsBundleFile(*modelPath) {
		return fmt.Errorf("%s is already a bundle", *modelPath)
	}
	start := time.Now()
	m, err := model.LoadFolder(*modelPath)
	if err != nil {
		return err
	}
	loadTook := time.Since(start)
	prov, err := provenance(*modelPath)
	if err != nil {
		return err
	}
	if err := model.SaveBundle(m, *out, prov); err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s: %s model, %d parameters, %.1f MB (read the checkpoint in %v)\n",
		*out, bundle.KindFloat32, m.ParamCount(), float64(fi.Size())/1e6, loadTook.Round(time.Millisecond))
	return nil
}

// provenance describes an original model folder for a bundle header.
func provenance(path string) (bundle.Provenance, error) {
	cfg, pt, err := modelFiles(path)
	if err != nil {
		return bundle.Provenance{}, err
	}
	ms, err := sha256File(pt)
	if err != nil {
		return bundle.Provenance{}, err
	}
	cs, err := sha256File(cfg)
	if err != nil {
		return bundle.Provenance{}, err
	}
	abs, _ := filepath.Abs(path)
	return bundle.Provenance{
		SourcePath:   abs,
		ModelSHA256:  ms,
		ConfigSHA256: cs,
		CreatedBy:    "rssmd " + version,
		CreatedAt:    time.Now().UTC().Format(time.RFC3339),
	}, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
