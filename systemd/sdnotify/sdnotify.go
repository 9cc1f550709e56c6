// Package sdnotify owns rssmd's side of the systemd service protocol: READY=1, STATUS=,
// STOPPING=1 and WATCHDOG=1 datagrams sent to $NOTIFY_SOCKET (sd_notify(3)), and a watchdog
// kicker that the tick loop feeds after completed ticks, so that systemd restarts rssmd when
// the loop stalls rather than when the process merely lives.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Notifier sends notifications; the zero-value-like result of New without a socket is a
// no-op, so callers need no "under systemd?" checks.
type Notifier struct {
	mu   sync.Mutex
	conn *net.UnixConn
}

// New connects to socket ($NOTIFY_SOCKET; "" gives a no-op Notifier). An abstract socket is
// written "@name", as systemd does.
func New(socket string) (*Notifier, error) {
	if socket == "" {
		return &Notifier{}, nil
	}
	if socket[0] != '/' && socket[0] != '@' {
		return nil, fmt.Errorf("sdnotify: NOTIFY_SOCKET %q is neither a path nor an abstract name", socket)
	}
	addr := &net.UnixAddr{Name: socket, Net: "unixgram"}
	if socket[0] == '@' {
		addr.Name = "\x00" + socket[1:]
	}
	c, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return nil, fmt.Errorf("sdnotify: %w", err)
	}
	return &Notifier{conn: c}, nil
}

// Enabled reports whether notifications go anywhere.
func (n *Notifier) Enabled() bool { return n.conn != nil }

// Send sends state lines ("READY=1", "STATUS=…") in one datagram.
func (n *Notifier) Send(lines ...string) error {
	if n.conn == nil {
		return nil
	}
	for _, l := range lines {
		if strings.ContainsRune(l, '\n') {
			return fmt.Errorf("sdnotify: newline in %q", l)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := n.conn.Write([]byte(strings.Join(lines, "\n"))); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// Ready tells systemd start-up is complete (Type=notify), with a status line.
func (n *Notifier) Ready(status string) error { return n.Send("READY=1", "STATUS="+status) }

// Status updates the status line systemctl status shows.
func (n *Notifier) Status(status string) error { return n.Send("STATUS=" + status) }

// Stopping tells systemd shutdown began.
func (n *Notifier) Stopping() error { return n.Send("STOPPING=1") }

// Close closes the socket.
func (n *Notifier) Close() error {
	if n.conn == nil {
		return nil
	}
	return n.conn.Close()
}

// WatchdogInterval reads WATCHDOG_USEC and WATCHDOG_PID (sd_watchdog_enabled(3)): the
// interval at which systemd expects a kick, or 0 when the watchdog is off or meant for
// another process.
func WatchdogInterval(getenv func(string) string, pid int) (time.Duration, error) {
	us := getenv("WATCHDOG_USEC")
	if us == "" {
		return 0, nil
	}
	if p := getenv("WATCHDOG_PID"); p != "" {
		wp, err := strconv.Atoi(p)
		if err != nil {
			return 0, fmt.Errorf("sdnotify: WATCHDOG_PID %q: %w", p, err)
		}
		if wp != pid {
			return 0, nil
		}
	}
	v, err := strconv.ParseUint(us, 10, 63)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("sdnotify: WATCHDOG_USEC %q is not a positive integer", us)
	}
	return time.Duration(v) * time.Microsecond, nil
}

// Watchdog forwards progress to systemd's watchdog: the tick loop calls Tick after each
// completed tick (cheap: one atomic add), and Run sends WATCHDOG=1 every interval/2 only if a
// tick completed since the last kick. A stalled loop therefore stops the kicks and systemd
// restarts the service, although every other goroutine is alive.
type Watchdog struct {
	// Progress, if set, replaces Tick: a counter that grows while the loop runs (the tick
	// loop's Stats().Ticks, which also grows while the camera is silent). Set before Run.
	Progress func() uint64

	n        *Notifier
	interval time.Duration
	ticks    atomic.Uint64
	kicks    atomic.Uint64
}

// ErrNoWatchdog is returned by NewWatchdog when systemd asked for none.
var ErrNoWatchdog = errors.New("sdnotify: no watchdog requested")

// NewWatchdog returns a watchdog kicking n every interval/2.
func NewWatchdog(n *Notifier, interval time.Duration) (*Watchdog, error) {
	if interval <= 0 || !n.Enabled() {
		return nil, ErrNoWatchdog
	}
	return &Watchdog{n: n, interval: interval}, nil
}

// Tick records a completed tick. Safe from any goroutine; it never blocks or allocates.
func (w *Watchdog) Tick() {
	if w != nil {
		w.ticks.Add(1)
	}
}

// Kicks is the number of WATCHDOG=1 sent.
func (w *Watchdog) Kicks() uint64 { return w.kicks.Load() }

// Run kicks until stop is closed.
func (w *Watchdog) Run(stop <-chan struct{}) {
	t := time.NewTicker(w.interval / 2)
	defer t.Stop()
	var seen uint64
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			now := w.ticks.Load()
			if w.Progress != nil {
				now = w.Progress()
			}
			if now != seen {
				seen = now
				if w.n.Send("WATCHDOG=1") == nil {
					w.kicks.Add(1)
				}
			}
		}
	}
}
