package main

import (
	"io"
	"strings"
	"testing"
)

// TestRunRejectsBadArgs: stepcount refuses what would make a count meaningless, quoting it.
func TestRunRejectsBadArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-seq", "s.npz", "-n", "5"}, "need -model"},
		{[]string{"-model", "m", "-seq", "s.npz", "-n", "0"}, "need -model"},
		{[]string{"-model", "m", "-seq", "s.npz", "-n", "5", "-mode", "rollout"}, `-mode "rollout"`},
		{[]string{"-model", "/nonexistent.int8.rssm", "-seq", "s.npz", "-n", "5", "-mode", "decode"}, "load /nonexistent.int8.rssm"},
	} {
		err := run(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
