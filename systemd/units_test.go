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
	for _, unit := range []string{"rssmd.service", "rssmd-ros2.service"} {
		t.Run(unit, func(t *testing.T) { checkService(t, unit) })
	}
	d := directives(read(t, "rssmd-ros2.service"))
	for _, l := range d {
		if strings.Contains(l, "roscore") {
			t.Errorf("rssmd-ros2.service depends on roscore: %q", l)
		}
		if strings.HasPrefix(l, "RestrictAddressFamilies=") && !strings.Contains(l, "AF_NETLINK") {
			t.Errorf("rssmd-ros2.service: %q blocks netlink, which interface discovery needs", l)
		}
		if strings.HasPrefix(l, "ExecStart=") && !strings.Contains(l, "--ros2") {
			t.Errorf("rssmd-ros2.service does not run the ROS 2 node: %q", l)
		}
	}
}

func checkService(t *testing.T, unit string) {
	d := directives(read(t, unit))
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
		if want == "EnvironmentFile=-/etc/default/rssmd" && unit == "rssmd-ros2.service" {
			want += "-ros2"
		}
		if !has(want) {
			t.Errorf("%s lacks %q", unit, want)
		}
	}
	for _, bad := range []string{"PrivateDevices=yes", "RestrictRealtime=yes", "DynamicUser=yes"} {
		if has(bad) {
			t.Errorf("%s has %q, which breaks cameras or the real-time thread", unit, bad)
		}
	}
}

func TestEnvFile(t *testing.T) {
	for _, f := range []string{"rssmd.env", "rssmd-ros2.env"} {
		for i, l := range directives(read(t, f)) {
			k, v, ok := strings.Cut(l, "=")
			if !ok || k == "" || strings.ContainsAny(k, " \t\"") || (strings.HasPrefix(v, `"`) != strings.HasSuffix(v, `"`)) {
				t.Errorf("%s line %d %q is not KEY=VALUE", f, i+1, l)
			}
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
	for _, u := range []string{"rssmd.service", "roscore.service", "rssmd-ros2.service"} {
		text := strings.ReplaceAll(read(t, u), "/usr/local/bin/rssmd", "/bin/true")
		if _, err := os.Stat("/usr/bin/roscore"); err != nil {
			text = strings.ReplaceAll(text, "/usr/bin/roscore", "/bin/true")
		}
		if err := os.WriteFile(filepath.Join(dir, u), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(sa, "verify", filepath.Join(dir, "rssmd.service"), filepath.Join(dir, "roscore.service"), filepath.Join(dir, "rssmd-ros2.service"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
