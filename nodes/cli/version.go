package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/rssmd/rssmd/armkernels"
)

// runVersion is `rssmd version` (and `rssmd --version`): what a bug report needs to say
// which build ran where.
func runVersion(env *Env) error {
	fs := newFlags(env, "version")
	if err := parse(fs, env.Args); err != nil {
		return err
	}
	bi, _ := debug.ReadBuildInfo()
	writeVersion(env.Stdout, bi, armkernels.Implementations())
	return nil
}

// writeVersion prints the release, the commit the binary was built from (vcs.revision,
// stamped by `go build` in a git checkout), the Go toolchain and the int8 kernel paths this
// CPU can run, the default last.
func writeVersion(w io.Writer, bi *debug.BuildInfo, impls []*armkernels.Kernels) {
	fmt.Fprintf(w, "rssmd %s\n", version)
	commit, modified, when := "unknown (built without VCS information)", "", ""
	goVersion := runtime.Version()
	if bi != nil {
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (with uncommitted changes)"
				}
			case "vcs.time":
				when = ", " + s.Value
			}
		}
	}
	fmt.Fprintf(w, "commit  %s%s%s\n", commit, modified, when)
	fmt.Fprintf(w, "go      %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	names := make([]string, len(impls))
	for i, k := range impls {
		names[i] = k.Name
	}
	def := "none"
	if len(names) > 0 {
		def = names[len(names)-1] // Implementations lists the fastest last; Default picks it
	}
	fmt.Fprintf(w, "kernels %s (default %s; RSSMD_KERNEL picks another)\n", strings.Join(names, ", "), def)
}
