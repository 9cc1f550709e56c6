// Package cli implements the rssmd command and its subcommands. Each subcommand lives in its
// own file and is a plain function of its arguments and output streams, so tests call it
// directly.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Env is what a subcommand gets: its arguments, output streams and a context cancelled on
// SIGINT or SIGTERM.
type Env struct {
	Ctx    context.Context
	Args   []string
	Stdout io.Writer
	Stderr io.Writer
	Log    *slog.Logger
}

type command struct {
	// name is the subcommand; usage its one line in `rssmd help`; synopsis its arguments,
	// shown first by `rssmd <command> -h`.
	name, usage, synopsis string
	run                   func(*Env) error
}

// commands is the table of subcommands, in the order `rssmd help` lists them.
var commands = []command{
	{"demo", "run the built-in demo: sim camera → filter → monitor, live dashboard", "[--duration D] [--addr HOST:PORT] [flags]", runDemo},
	{"filter", "filter a sequence (.npz) through a model: states, statistics, ELBO, rollout", "--model PATH --in SEQ.npz --out OUT.npz [flags]", runFilter},
	{"convert", "convert an original model folder into a native bundle (float32 or --int8)", "--model DIR --out MODEL.rssm [--int8 --calib SEQ.npz...]", runConvert},
	{"inspect", "print a model's architecture, parameter count and MACs", "[--json] PATH (a model folder, a .pt inside one, or a bundle)", runInspect},
	{"calibrate", "calibrate int8 activation ranges on recorded data and write an int8 bundle", "--model PATH --out MODEL.int8.rssm [--data] SEQ.npz... [flags]", runCalibrate},
	{"bench", "measure float32 and int8 step latency on this machine", "--model PATH [flags]", runBench},
	{"run", "run the real-time state estimator (camera/replay → filter → metrics/ROS)", "--model PATH --source v4l2:/dev/videoN|replay:FILE.npz|ros [flags] [--ros|--ros2]", runRun},
	{"devices", "list V4L2 devices and their modes", "[--glob PATTERN]", runDevices},
	{"sim", "the built-in simulated camera: record exploratory episodes for training/calibration", "--record DIR [flags]", runSim},
	{"report", "draw a PNG of frames and error/KL/ELBO plots from a filter output or recording", "--in FILE --out REPORT.png [--seq SEQ.npz | --model PATH] [flags]", runReport},
	{"version", "print the version, commit, Go version and the int8 kernels this CPU runs", "", runVersion},
}

// commandByName indexes commands for the flag usage (filled in init: the table refers to
// the commands, which refer to newFlags).
var commandByName = map[string]*command{}

func init() {
	for i := range commands {
		commandByName[commands[i].name] = &commands[i]
	}
}

// errUsage marks errors for which usage has already been printed.
var errUsage = errors.New("usage")

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()}))
	// Packages that log through slog.Default (armkernels' kernel choice) or the log package
	// then write in the same format to the same place.
	slog.SetDefault(logger)
	if len(args) == 2 && args[0] == "help" {
		// `rssmd help filter` is `rssmd filter -h`, on stdout.
		args = []string{args[1], "-h"}
		stderr = stdout
	}
	switch {
	case len(args) == 0:
		usage(stderr)
		return 2
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		usage(stdout)
		return 0
	case args[0] == "--version" || args[0] == "-version" || args[0] == "-v":
		args = []string{"version"}
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := c.run(&Env{Ctx: ctx, Args: args[1:], Stdout: stdout, Stderr: stderr, Log: logger.With("cmd", c.name)})
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "rssmd %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "rssmd: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: rssmd <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nrssmd help <command> (or rssmd <command> -h) shows a command's flags; rssmd --version the build.")
}

func logLevel() slog.Level {
	if os.Getenv("RSSMD_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// newFlags returns a FlagSet that writes its usage to the command's stderr, led by the
// command's synopsis and description.
func newFlags(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("rssmd "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := fs.Output()
		if c, ok := commandByName[name]; ok {
			fmt.Fprintf(w, "usage: %s\n\n%s\n", strings.TrimSpace("rssmd "+name+" "+c.synopsis), c.usage)
		}
		if hasFlags(fs) {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// requireFlags says which of the named flags were left empty (then the usage), or returns nil.
func requireFlags(fs *flag.FlagSet, names ...string) error {
	var missing []string
	for _, n := range names {
		if f := fs.Lookup(n); f != nil && (f.Value.String() == "" || f.Value.String() == "[]") {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	fmt.Fprintf(fs.Output(), "%s: missing %s\n\n", fs.Name(), strings.Join(missing, ", "))
	fs.Usage()
	return errUsage
}

// checkOut fails when path cannot be written — its folder is missing or read-only, or path
// is a folder — so that a long run does not end by failing to save its result.
func checkOut(flagName, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("--%s %s is a folder; want a file path", flagName, path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--%s %s: folder %s does not exist", flagName, path, dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("--%s %s: %s is not a folder", flagName, path, dir)
	}
	f, err := os.CreateTemp(dir, ".rssmd-write-check-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("--%s %s: cannot write in %s: %w", flagName, path, dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// parse parses flags and turns flag errors into errUsage (the FlagSet already printed them).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments: %v (%s -h lists the flags)\n", fs.Name(), fs.Args(), fs.Name())
		return errUsage
	}
	return nil
}

// parseFiles parses flags mixed with file arguments, as a shell glob gives them: the values
// after a list flag (`--data a.npz b.npz`) belong to it, and other arguments (anywhere) are
// returned as files.
func parseFiles(fs *flag.FlagSet, args []string, lists ...string) (files []string, err error) {
	args = spreadLists(fs, args, lists...)
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return files, nil
		}
		files, args = append(files, rest[0]), rest[1:]
	}
}

// spreadLists rewrites `--data a b --out c` as `--data a --data b --out c` for the named
// repeatable flags.
func spreadLists(fs *flag.FlagSet, args []string, lists ...string) []string {
	var out []string
	cur := "" // the list flag further plain arguments belong to
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) < 2 || a[0] != '-' {
			if cur != "" {
				out = append(out, "--"+cur)
			}
			out = append(out, a)
			continue
		}
		out = append(out, a)
		name, _, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		cur = ""
		f := fs.Lookup(name)
		if f == nil || inline {
			if f != nil && slices.Contains(lists, name) {
				cur = name
			}
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) { // the flag's own value
			i++
			out = append(out, args[i])
		}
		if slices.Contains(lists, name) {
			cur = name
		}
	}
	return out
}
