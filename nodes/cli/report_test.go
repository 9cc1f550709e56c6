package cli

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model/seqio"
	"github.com/rssmd/rssmd/runtime/report"
)

const reportModel = "../../model/testdata/golden/cnnha-actions"

// decodePNG checks the file is a PNG and returns it.
func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a valid PNG: %v", path, err)
	}
	return img
}

// distinctColours counts colours in a region (a blank region has one).
func distinctColours(img image.Image, r image.Rectangle) int {
	seen := map[[3]uint32]bool{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			seen[[3]uint32{cr, cg, cb}] = true
		}
	}
	return len(seen)
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	seqPath := filepath.Join(reportModel, "seq.npz")
	seq, err := seqio.ReadSequenceFile(seqPath)
	if err != nil {
		t.Fatal(err)
	}
	filtered := filepath.Join(dir, "out.npz")
	env, _, errb := demoEnv(t, "--model", reportModel, "--in", seqPath, "--out", filtered,
		"--rollout-start", "8", "--rollout-horizon", "4")
	if err := runFilter(env); err != nil {
		t.Fatalf("filter: %v\n%s", err, errb)
	}
	recording := filepath.Join(dir, "run.rec")
	env, _, errb = demoEnv(t, "--model", reportModel, "--source", "replay:"+seqPath, "--record", recording,
		"--record-frames", "--metrics-addr", "off", "--rate", "200", "--elbo")
	if err := runRun(env); err != nil {
		t.Fatalf("run: %v\n%s", err, errb)
	}

	for _, tc := range []struct {
		name  string
		args  []string
		steps int
		rows  int // frame rows in the strip
		// plot rows: error and PSNR need the actual frames; KL and ELBO are always there
		// (the run has --elbo)
		plotRows int
	}{
		{"filter output with sequence", []string{"--in", filtered, "--seq", seqPath}, 12, 3, 2},
		{"filter output alone", []string{"--in", filtered, "--width", "800", "--frames", "6"}, 12, 2, 1},
		{"sequence through model", []string{"--in", seqPath, "--model", reportModel, "--rollout", "5"}, seq.T, 3, 2},
		{"recording", []string{"--in", recording}, 0, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".png")
			env, stdout, errb := demoEnv(t, append(tc.args, "--out", out)...)
			if err := runReport(env); err != nil {
				t.Fatalf("report: %v\n%s", err, errb)
			}
			d, err := reportData(tc.args[1], flagValue(tc.args, "--seq"), flagValue(tc.args, "--model"), 5)
			if err != nil {
				t.Fatal(err)
			}
			if tc.steps > 0 && len(d.KL) != tc.steps && len(d.KL)+len(d.Pred)-len(d.Recon) != tc.steps {
				t.Errorf("%d steps of KL, want %d", len(d.KL), tc.steps)
			}
			opt := report.Options{Width: 1200, Frames: 10}
			if w := flagValue(tc.args, "--width"); w != "" {
				opt = report.Options{Width: 800, Frames: 6}
			}
			img := decodePNG(t, out)
			w, h := report.Size(d, opt)
			if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
				t.Errorf("PNG is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
			}
			if !strings.Contains(stdout.String(), "wrote "+out) {
				t.Errorf("stdout: %q", stdout)
			}
			// The strip's first frame cell and the plots are drawn, not blank.
			cell := (opt.Width - 120) / opt.Frames
			if n := distinctColours(img, image.Rect(112, 36, 110+cell, 36+cell-4)); n < 20 {
				t.Errorf("first strip cell has %d colours: not a frame", n)
			}
			if n := distinctColours(img, image.Rect(0, h-430, w, h)); n < 10 {
				t.Errorf("plot area has %d colours: blank", n)
			}
			wantH := 34 + tc.rows*(cell+18) + tc.plotRows*220 + 20
			if h != wantH {
				t.Errorf("height %d, want %d for %d frame rows and %d plot rows", h, wantH, tc.rows, tc.plotRows)
			}
		})
	}
}

func flagValue(args []string, name string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	seqPath := filepath.Join(reportModel, "seq.npz")
	junk := filepath.Join(dir, "junk.bin")
	if err := os.WriteFile(junk, []byte("not a recording at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	badZip := filepath.Join(dir, "bad.npz")
	if err := os.WriteFile(badZip, append([]byte("PK"), bytes.Repeat([]byte{1}, 100)...), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.png")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", out}, "usage"},
		{[]string{"--in", seqPath}, "usage"},
		{[]string{"--in", filepath.Join(dir, "missing.npz"), "--out", out}, "no such file"},
		{[]string{"--in", junk, "--out", out}, "recording"},
		{[]string{"--in", badZip, "--out", out}, "npz"},
		{[]string{"--in", seqPath, "--out", out}, "--model"},
		{[]string{"--in", seqPath, "--model", reportModel, "--rollout", "1000", "--out", out}, "--rollout"},
		{[]string{"--in", seqPath, "--model", reportModel, "--width", "50", "--out", out}, "width"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			env, _, _ := demoEnv(t, tc.args...)
			err := runReport(env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("report %v: %v, want an error about %q", tc.args, err, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed report wrote its output")
	}
}
