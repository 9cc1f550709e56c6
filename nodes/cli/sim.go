package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/sim"
)

// runSim implements `rssmd sim`: the built-in simulated arm camera. With
// --record DIR it writes episodes driven by exploratory actions in the .npz
// sequence contract (image uint8 (T,64,64,3) preprocessed as at run time,
// pre_action float32 (T,2) with row 0 zeros, is_first, is_terminal), named
// 0.npz, 1.npz, … as a dataset folder is (spec §5). Episode i uses seed S+i.
// With --disturb-every it records test data for anomaly detection instead.
func runSim(env *Env) error {
	fs := newFlags(env, "sim")
	dir := fs.String("record", "", "write episodes into this folder (required)")
	episodes := fs.Int("episodes", 100, "number of episodes")
	length := fs.Int("length", 100, "frames per episode")
	seed := fs.Uint64("seed", 1, "seed of episode 0 (episode i uses seed+i)")
	width := fs.Int("width", 320, "camera width in pixels")
	height := fs.Int("height", 240, "camera height in pixels")
	format := fs.String("format", "YUYV", "camera pixel format: YUYV or RGB24")
	rate := fs.Float64("rate", 50, "frames per simulated second (the demo's tick rate)")
	every := fs.Int("disturb-every", 0, "inject a disturbance every N frames (cycling occlude, dim, shove, brighten) and write their ground truth as the disturbed array; 0: none (training data)")
	dlen := fs.Int("disturb-frames", 25, "frames each disturbance lasts")
	if err := parse(fs, env.Args); err != nil {
		return err
	}
	if err := requireFlags(fs, "record"); err != nil {
		return err
	}
	if *episodes < 1 || *episodes > 1_000_000 {
		return fmt.Errorf("--episodes %d out of range 1..1000000", *episodes)
	}
	if !(*rate > 0 && *rate <= 1000) {
		return fmt.Errorf("--rate %v out of range (0, 1000]", *rate)
	}
	if *every < 0 || *every > 1_000_000 || *dlen < 1 || (*every > 0 && *dlen >= *every) {
		return fmt.Errorf("--disturb-every %d / --disturb-frames %d: want 0 <= frames < every", *every, *dlen)
	}
	var script sim.Script
	if *every > 0 {
		script = sim.Periodic([]sim.Kind{sim.Occlude, sim.Dim, sim.ShoveArm, sim.Brighten},
			uint64(*every), uint64(*every), uint64(*dlen), *length / *every)
	}
	pf, err := frame.ParsePixelFormat(*format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	w, err := sim.NewWorld(sim.WorldConfig{Width: *width, Height: *height, Format: pf, DT: 1 / *rate})
	if err != nil {
		return err
	}
	pre, err := frame.NewPreprocessor(sim.PreprocessConfig(w.Config()))
	if err != nil {
		return fmt.Errorf("preprocessor: %w", err)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	start := time.Now()
	for i := range *episodes {
		if err := env.Ctx.Err(); err != nil {
			return err
		}
		ep, err := sim.RecordEpisode(w, pre, *seed+uint64(i), *length, script)
		if err != nil {
			return fmt.Errorf("episode %d: %w", i, err)
		}
		if err := ep.WriteNPZ(filepath.Join(*dir, fmt.Sprintf("%d.npz", i))); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stdout, "recorded %d episodes of %d frames (%dx%d %v, %g Hz) into %s in %v\n",
		*episodes, *length, *width, *height, pf, *rate, *dir, time.Since(start).Round(time.Millisecond))
	return nil
}
