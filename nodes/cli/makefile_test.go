package cli

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// `make help` is the index of what a developer does (STYLE.md): variables in the texts are
// expanded and the descriptions start in one column however long a target's name is.
func TestMakeHelp(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("make is not installed")
		}
		t.Skip("make is not installed")
	}
	cmd := exec.Command("make", "-s", "--no-print-directory", "-C", "../..", "help", "DEMO_ADDR=10.0.0.7:8081")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) < 10 {
		t.Fatalf("make help lists %d targets:\n%s", len(lines), out)
	}
	row := regexp.MustCompile(`^  ([a-zA-Z0-9_-]+) +(\S.*)$`)
	col := -1
	for _, l := range lines {
		m := row.FindStringSubmatchIndex(l)
		if m == nil {
			t.Errorf("not a target row: %q", l)
			continue
		}
		if col == -1 {
			col = m[4]
		} else if m[4] != col {
			t.Errorf("description of %q starts at column %d, the first at %d", l[m[2]:m[3]], m[4], col)
		}
		if strings.Contains(l, "$(") {
			t.Errorf("unexpanded variable: %q", l)
		}
	}
	if !strings.Contains(string(out), "live dashboard on 10.0.0.7:8081") {
		t.Errorf("demo's address is not the one given:\n%s", out)
	}
}
