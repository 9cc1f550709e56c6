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
	name, usage string
	run         func(*Env) error
}

// commands is the table of subcommands, in the order `rssmd help` lists them.
var commands = []command{
	{"demo", "run the built-in demo: sim camera → filter → monitor, live dashboard", runDemo},
	{"filter", "filter a sequence (.npz) through a model: states, statistics, ELBO, rollout", runFilter},
	{"convert", "convert an original model folder into a native bundle (float32 or --int8)", runConvert},
	{"inspect", "print a model's architecture, parameter count and MACs", runInspect},
	{"calibrate", "calibrate int8 activation ranges on recorded data and write an int8 bundle", runCalibrate},
	{"bench", "measure float32 and int8 step latency on this machine", runBench},
	{"run", "run the real-time state estimator (camera/replay → filter → metrics/ROS)", runRun},
	{"devices", "list V4L2 devices and their modes", runDevices},
	{"sim", "the built-in simulated camera: record exploratory episodes for training/calibration", runSim},
	{"report", "draw a PNG of frames and error/KL/ELBO plots from a filter output or recording", runReport},
}

// errUsage marks errors for which usage has already been printed.
var errUsage = errors.New("usage")

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()}))
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
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
	fmt.Fprintln(w, "\nrssmd <command> -h shows a command's flags.")
}

func logLevel() slog.Level {
	if os.Getenv("RSSMD_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// newFlags returns a FlagSet that writes its usage to the command's stderr.
func newFlags(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("rssmd "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
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
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		return errUsage
	}
	return nil
}
