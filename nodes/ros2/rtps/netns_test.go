package rtps

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// inNetns re-runs the calling test inside a fresh network namespace with
// multicast on loopback, so tests that talk to real DDS peers neither see
// nor disturb the host's network. It returns true in the child, where the
// test goes on; in the parent it waits for the child and returns false.
func inNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv("RTPS_IN_NETNS") == "1" {
		return true
	}
	if _, err := exec.LookPath("unshare"); err != nil || os.Geteuid() != 0 {
		skipOrFail(t, "needs root and unshare(1) for a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFail(t, "needs ip(8) to configure the namespace's loopback")
	}
	script := "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec \"$0\" \"$@\""
	args := []string{"-n", "sh", "-c", script, os.Args[0], "-test.run", "^" + strings.ReplaceAll(t.Name(), "/", "$/^") + "$", "-test.v", "-test.count=1"}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), "RTPS_IN_NETNS=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in a network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("namespace run failed: %v", err)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skip("skipped inside the namespace")
	}
	return false
}

// skipOrFail skips, except under CI=1 where a missing peer is a failure.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}
