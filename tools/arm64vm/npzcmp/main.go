// Command npzcmp compares the float arrays of two .npz files written by
// `rssmd filter` (the arm64 guest's output against the amd64 host's) and
// fails when they differ by more than a bound. It owns the pass/fail decision
// of `make test-arm64-system` about numerics; the bound is explained in
// docs/arm64.md.
//
//	npzcmp [-rel 1e-3] [-exact] want.npz got.npz
//
// For every array in want, got must hold the same name, shape and dtype, and
// max|got-want| must not exceed rel·max(max|want|, 1e-6) (scaled by the array's
// own magnitude: ELBO terms are in the thousands, std values near 0.1).
// -exact demands bit-identical values (two arm64 kernel paths, same epilogue).
// Exit status: 0 pass, 1 outputs differ, 2 bad usage or unreadable files.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"

	"github.com/rssmd/rssmd/model/seqio"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errDiffer marks a comparison that ran and failed (exit 1, not 2).
var errDiffer = errors.New("outputs differ")

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("npzcmp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rel := fs.Float64("rel", 1e-3, "allowed max |got-want| as a fraction of max |want| per array")
	exact := fs.Bool("exact", false, "require bit-identical arrays")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "usage: npzcmp [-rel R] [-exact] want.npz got.npz")
		return 2
	}
	if !(*rel >= 0) {
		fmt.Fprintf(stderr, "npzcmp: -rel %v must be >= 0\n", *rel)
		return 2
	}
	want, err := readFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "npzcmp:", err)
		return 2
	}
	got, err := readFile(fs.Arg(1))
	if err != nil {
		fmt.Fprintln(stderr, "npzcmp:", err)
		return 2
	}
	tol := *rel
	if *exact {
		tol = 0
	}
	if err := compare(want, got, tol, stdout); err != nil {
		fmt.Fprintf(stderr, "npzcmp: %s vs %s: %v\n", fs.Arg(0), fs.Arg(1), err)
		if errors.Is(err, errDiffer) {
			return 1
		}
		return 2
	}
	return 0
}

func readFile(path string) (map[string]*seqio.Array, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	arrs, err := seqio.ReadArrays(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return arrs, nil
}

// compare prints one line per array of want and returns an error wrapping
// errDiffer when any array is missing from got, differs in shape, or exceeds
// tol (relative to the array's largest magnitude; 0 means bit-identical).
func compare(want, got map[string]*seqio.Array, tol float64, w io.Writer) error {
	if len(want) == 0 {
		return fmt.Errorf("%w: the reference holds no arrays", errDiffer)
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	var bad []string
	for _, n := range names {
		a, b := want[n], got[n]
		switch {
		case b == nil:
			fmt.Fprintf(w, "%-16s missing\n", n)
			bad = append(bad, n)
			continue
		case !slices.Equal(a.Shape, b.Shape) || a.Dtype != b.Dtype:
			fmt.Fprintf(w, "%-16s shape %v %s vs %v %s\n", n, a.Shape, a.Dtype, b.Shape, b.Dtype)
			bad = append(bad, n)
			continue
		}
		d := diff(a, b)
		ok := d.ok(tol)
		verdict := "ok"
		if !ok {
			verdict = "FAIL"
			bad = append(bad, n)
		}
		fmt.Fprintf(w, "%-16s %-12v max|want| %-10.4g max|diff| %-10.3g rel %-10.3g differing %d/%d  %s\n",
			n, a.Shape, d.scale, d.maxAbs, d.rel(), d.differing, d.n, verdict)
	}
	if len(bad) > 0 {
		if tol == 0 {
			return fmt.Errorf("%w: %d arrays not bit-identical: %v", errDiffer, len(bad), bad)
		}
		return fmt.Errorf("%w: %d arrays beyond %.3g of their largest magnitude: %v", errDiffer, len(bad), tol, bad)
	}
	return nil
}

// delta summarises how far one array is from its reference.
type delta struct {
	n, differing  int
	scale, maxAbs float64
	nanMismatch   bool
}

// minScale keeps all-zero arrays from demanding a zero difference under a
// relative bound.
const minScale = 1e-6

func (d delta) rel() float64 { return d.maxAbs / math.Max(d.scale, minScale) }

func (d delta) ok(tol float64) bool {
	if d.nanMismatch {
		return false
	}
	if tol == 0 {
		return d.differing == 0
	}
	return d.rel() <= tol
}

func diff(a, b *seqio.Array) delta {
	var d delta
	if a.U8 != nil || b.U8 != nil {
		d.n = len(a.U8)
		for i := range a.U8 {
			x, y := float64(a.U8[i]), float64(b.U8[i])
			d.scale = math.Max(d.scale, x)
			if x != y {
				d.differing++
				d.maxAbs = math.Max(d.maxAbs, math.Abs(x-y))
			}
		}
		return d
	}
	d.n = len(a.F32)
	for i := range a.F32 {
		x, y := float64(a.F32[i]), float64(b.F32[i])
		if math.IsNaN(x) || math.IsNaN(y) {
			// NaN must match NaN; a NaN on one side is never within bounds.
			if math.IsNaN(x) != math.IsNaN(y) {
				d.nanMismatch = true
				d.differing++
			}
			continue
		}
		if !math.IsInf(x, 0) {
			d.scale = math.Max(d.scale, math.Abs(x))
		}
		if math.Float32bits(a.F32[i]) != math.Float32bits(b.F32[i]) {
			d.differing++
			if math.IsInf(x, 0) || math.IsInf(y, 0) {
				d.nanMismatch = true
				continue
			}
			d.maxAbs = math.Max(d.maxAbs, math.Abs(x-y))
		}
	}
	return d
}
