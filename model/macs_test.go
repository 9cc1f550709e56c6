package model_test

import (
	"path/filepath"
	"testing"

	"github.com/rssmd/rssmd/model"
)

// TestWalkerCounts checks parameter and MAC counts against the spec's worked example (§2.3, §6).
func TestWalkerCounts(t *testing.T) {
	td := sharedTestdata(t)
	m, err := model.Load(filepath.Join(td, "models", "walker-wm-synthetic"))
	if err != nil {
		t.Fatal(err)
	}
	c := m.Arch.Count()
	for _, tc := range []struct {
		name      string
		got, want int64
	}{
		{"params", m.ParamCount(), 7_601_980},
		{"encoder MACs", c.Encoder, 14_714_368},
		{"filter step MACs", c.FilterStep, 17_415_680},
		{"prior step MACs", c.PriorStep, 1_884_160},
		{"decode MACs", c.Decode, 24_522_240},
		{"is_terminal MACs", c.Heads, 85_888},
		{"likelihood step MACs", c.Likelihood, 42_023_808},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, spec says %d", tc.name, tc.got, tc.want)
		}
	}
}
