package systemd

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// directives returns the unit's "Key=Value" lines (comments and sections dropped).
func directives(text string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == '[' {
			continue
		}
		out = append(out, l)
	}
	return out
}

func TestServiceDirectives(t *testing.T) {
	d := directives(read(t, "rssmd.service"))
	has := func(l string) bool {
		for _, x := range d {
			if x == l {
				return true
			}
		}
		return false
	}
	for _, want := range []string{
		"Type=notify", "NotifyAccess=main", "EnvironmentFile=-/etc/default/rssmd", "Restart=on-failure",
		"WatchdogSec=5", "User=rssmd", "SupplementaryGroups=video", "DevicePolicy=closed",
		"DeviceAllow=char-video4linux rw", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"LimitRTPRIO=90", "LimitMEMLOCK=256M",
	} {
		if !has(want) {
			t.Errorf("rssmd.service lacks %q", want)
		}
	}
	for _, bad := range []string{"PrivateDevices=yes", "RestrictRealtime=yes", "DynamicUser=yes"} {
		if has(bad) {
			t.Errorf("rssmd.service has %q, which breaks cameras or the real-time thread", bad)
		}
	}
}

func TestEnvFile(t *testing.T) {
	for i, l := range directives(read(t, "rssmd.env")) {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\"") || (strings.HasPrefix(v, `"`) != strings.HasSuffix(v, `"`)) {
			t.Errorf("rssmd.env line %d %q is not KEY=VALUE", i+1, l)
		}
	}
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify on copies of the units whose
// ExecStart points at an executable that exists here (verify checks it).
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze missing in CI (apt install systemd)")
		}
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	for _, u := range []string{"rssmd.service", "roscore.service"} {
		text := strings.ReplaceAll(read(t, u), "/usr/local/bin/rssmd", "/bin/true")
		if _, err := os.Stat("/usr/bin/roscore"); err != nil {
			text = strings.ReplaceAll(text, "/usr/bin/roscore", "/bin/true")
		}
		if err := os.WriteFile(filepath.Join(dir, u), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(sa, "verify", filepath.Join(dir, "rssmd.service"), filepath.Join(dir, "roscore.service"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
