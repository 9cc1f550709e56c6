package calibration

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/model/seqio"
)

// sharedTestdata returns <repo>/../shared/testdata. Outside CI a missing folder skips the
// test; in CI (env CI set) it fails, because CI provides it.
func sharedTestdata(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must provide %s: %v", dir, err)
		}
		t.Skipf("shared test data not present at %s (a fresh clone has none; CI provides it)", dir)
	}
	return dir
}

func readSeqs(t testing.TB, paths ...string) []*model.Sequence {
	t.Helper()
	var out []*model.Sequence
	for _, p := range paths {
		s, err := seqio.ReadSequenceFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}
