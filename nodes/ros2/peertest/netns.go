package peertest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// netnsEnv marks a test binary that InNetns has re-executed inside a fresh network namespace.
const netnsEnv = "RSSMD_PEERTEST_NETNS"

// netnsProblem says why tests are not running inside a prepared namespace ("" when they are).
var netnsProblem = "peertest.InNetns was not called from TestMain"

// InNetns runs the tests of m inside a fresh network namespace, so DDS discovery traffic,
// multicast and injected loss stay private to the test binary. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(peertest.InNetns(m)) }
//
// The first call re-executes the test binary under `unshare -n` and returns its exit code; in
// the child it brings lo up with multicast and a route for 224.0.0.0/4, then runs m. Where that
// is impossible (not root, no unshare) the tests run as they are and RequireNetns skips them
// (fails under CI=1).
func InNetns(m *testing.M) int {
	if os.Getenv(netnsEnv) == "1" {
		netnsProblem = setupLoopback()
		return m.Run()
	}
	if err := canUnshare(); err != nil {
		netnsProblem = err.Error()
		return m.Run()
	}
	args := append([]string{"-n", "--", os.Args[0]}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "peertest: unshare -n: %v\n", err)
		return 1
	}
	return 0
}

func canUnshare() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root (uid %d): a network namespace needs root", os.Geteuid())
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (apt-get install util-linux iproute2)", tool)
		}
	}
	// A quick probe: containers without CAP_SYS_ADMIN refuse unshare even to root.
	if out, err := exec.Command("unshare", "-n", "true").CombinedOutput(); err != nil {
		return fmt.Errorf("unshare -n true: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// setupLoopback prepares lo in the new namespace for RTPS: up, multicast, and a route for the
// multicast range (SPDP's 239.255.0.1) so discovery works with no other interface.
func setupLoopback() string {
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "set", "lo", "multicast", "on"},
		{"route", "add", "224.0.0.0/4", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Sprintf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return ""
}

// RequireNetns skips t (fails it under CI=1) unless the test binary runs inside the namespace
// InNetns prepared.
func RequireNetns(t testing.TB) {
	t.Helper()
	if netnsProblem != "" {
		Unavailable(t, "no private network namespace: %s", netnsProblem)
	}
}

// SetLoss drops pct percent of the packets leaving through lo (in both directions, since every
// loopback packet leaves once) until t ends. It uses netem where the kernel has it
// (`tc qdisc add dev lo root netem loss pct%`) and otherwise an nftables rule with a random
// number per packet (`numgen random mod 100 < pct drop`), which kernels without sch_netem
// still have. It returns which one it used.
func SetLoss(t testing.TB, pct int) string {
	t.Helper()
	RequireNetns(t)
	if pct <= 0 || pct >= 100 {
		t.Fatalf("SetLoss: pct %d outside 1..99", pct)
	}
	var tried []string
	if _, err := exec.LookPath("tc"); err == nil {
		out, err := exec.Command("tc", "qdisc", "add", "dev", "lo", "root", "netem", "loss", fmt.Sprintf("%d%%", pct)).CombinedOutput()
		if err == nil {
			t.Cleanup(func() { exec.Command("tc", "qdisc", "del", "dev", "lo", "root").Run() })
			return "netem"
		}
		tried = append(tried, fmt.Sprintf("tc netem: %v: %s", err, strings.TrimSpace(string(out))))
	} else {
		tried = append(tried, "tc not found")
	}
	if _, err := exec.LookPath("nft"); err == nil {
		rules := fmt.Sprintf(`table inet peertest_loss {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "lo" numgen random mod 100 < %d drop
  }
}
`, pct)
		cmd := exec.Command("nft", "-f", "-")
		cmd.Stdin = strings.NewReader(rules)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Cleanup(func() { exec.Command("nft", "delete", "table", "inet", "peertest_loss").Run() })
			return "nftables"
		}
		tried = append(tried, fmt.Sprintf("nft: %v: %s", err, strings.TrimSpace(string(out))))
	} else {
		tried = append(tried, "nft not found")
	}
	Unavailable(t, "cannot inject loss: %s", strings.Join(tried, "; "))
	return ""
}
