package cli

import (
	"fmt"
	"path/filepath"

	"github.com/rssmd/rssmd/runtime/capture"
	"github.com/rssmd/rssmd/runtime/frame"
)

// runDevices is `rssmd devices`: the V4L2 video nodes and the modes each offers, marking the
// ones rssmd can preprocess.
func runDevices(env *Env) error {
	fs := newFlags(env, "devices")
	glob := fs.String("glob", "/dev/video*", "device nodes to list")
	if err := parse(fs, env.Args); err != nil {
		return err
	}
	paths, err := filepath.Glob(*glob)
	if err != nil {
		return fmt.Errorf("--glob: %w", err)
	}
	if len(paths) == 0 {
		fmt.Fprintf(env.Stdout, "no V4L2 devices match %s\n", *glob)
		return nil
	}
	for _, p := range paths {
		modes, err := capture.ListModes(p)
		if err != nil {
			fmt.Fprintf(env.Stdout, "%s: %v\n", p, err)
			continue
		}
		fmt.Fprintf(env.Stdout, "%s:\n", p)
		for _, m := range modes {
			mark := "  (not supported by rssmd)"
			if m.Supported != frame.FormatInvalid {
				mark = ""
			}
			fmt.Fprintf(env.Stdout, "  %v%s\n", m, mark)
		}
	}
	return nil
}
