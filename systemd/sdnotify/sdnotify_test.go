package sdnotify

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listen opens the unix datagram socket systemd would own.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	addr := &net.UnixAddr{Name: name, Net: "unixgram"}
	if name[0] == '@' {
		addr.Name = "\x00" + name[1:]
	}
	c, err := net.ListenUnixgram("unixgram", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func recv(t *testing.T, c *net.UnixConn, within time.Duration) (string, bool) {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(within))
	n, err := c.Read(buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

func TestNotify(t *testing.T) {
	for _, name := range []string{filepath.Join(t.TempDir(), "notify"), "@rssmd-test-" + t.Name()} {
		srv := listen(t, name)
		n, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			send func() error
			want string
		}{
			{func() error { return n.Ready("model loaded, camera up, node registered") }, "READY=1\nSTATUS=model loaded, camera up, node registered"},
			{func() error { return n.Status("20.0 Hz") }, "STATUS=20.0 Hz"},
			{n.Stopping, "STOPPING=1"},
		}
		for _, tt := range tests {
			if err := tt.send(); err != nil {
				t.Fatal(err)
			}
			if got, ok := recv(t, srv, time.Second); !ok || got != tt.want {
				t.Errorf("%s: got %q, want %q", name, got, tt.want)
			}
		}
		if err := n.Send("STATUS=a\nREADY=1"); err == nil {
			t.Error("a newline inside a line was sent")
		}
		n.Close()
	}
}

func TestNoSocketIsNoop(t *testing.T) {
	n, err := New("")
	if err != nil || n.Enabled() || n.Ready("x") != nil {
		t.Fatalf("no-op notifier: %v", err)
	}
	if _, err := NewWatchdog(n, time.Second); !errors.Is(err, ErrNoWatchdog) {
		t.Errorf("watchdog without socket: %v", err)
	}
	if _, err := New("relative/path"); err == nil {
		t.Error("relative socket accepted")
	}
	if _, err := New(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("absent socket accepted")
	}
}

func TestWatchdogInterval(t *testing.T) {
	tests := []struct {
		env     map[string]string
		want    time.Duration
		wantErr bool
	}{
		{map[string]string{}, 0, false},
		{map[string]string{"WATCHDOG_USEC": "2000000"}, 2 * time.Second, false},
		{map[string]string{"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "42"}, 2 * time.Second, false},
		{map[string]string{"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "7"}, 0, false},
		{map[string]string{"WATCHDOG_USEC": "x"}, 0, true},
		{map[string]string{"WATCHDOG_USEC": "0"}, 0, true},
		{map[string]string{"WATCHDOG_USEC": "1", "WATCHDOG_PID": "p"}, 0, true},
	}
	for _, tt := range tests {
		got, err := WatchdogInterval(func(k string) string { return tt.env[k] }, 42)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%v: %v, %v; want %v (err %v)", tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestWatchdogKicksOnlyWhileTicking: kicks follow completed ticks and stop when the loop
// stalls.
func TestWatchdogKicksOnlyWhileTicking(t *testing.T) {
	name := filepath.Join(t.TempDir(), "notify")
	srv := listen(t, name)
	n, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	w, err := NewWatchdog(n, 40*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { w.Run(stop); close(done) }()
	defer func() { close(stop); <-done }()

	// Stalled from the start: nothing is sent.
	if got, ok := recv(t, srv, 100*time.Millisecond); ok {
		t.Fatalf("kick %q without ticks", got)
	}
	// Ticking: WATCHDOG=1 arrives.
	tickStop := make(chan struct{})
	go func() {
		for {
			select {
			case <-tickStop:
				return
			default:
				w.Tick()
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	got, ok := recv(t, srv, time.Second)
	if !ok || !strings.Contains(got, "WATCHDOG=1") {
		t.Fatalf("no kick while ticking: %q", got)
	}
	close(tickStop)
	time.Sleep(30 * time.Millisecond)
	for { // drain kicks for ticks before the stall
		if _, ok := recv(t, srv, 50*time.Millisecond); !ok {
			break
		}
	}
	if got, ok := recv(t, srv, 150*time.Millisecond); ok {
		t.Errorf("kick %q after the loop stalled", got)
	}
	if w.Kicks() == 0 {
		t.Error("Kicks not counted")
	}
	if a := testing.AllocsPerRun(100, w.Tick); a != 0 {
		t.Errorf("Tick allocates %v", a)
	}
}
