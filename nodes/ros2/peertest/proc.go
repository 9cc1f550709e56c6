package peertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Float is a float32 from a peer's JSON line, where null stands for NaN or ±Inf.
type Float float32

// UnmarshalJSON reads a number, or null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float32
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("peertest: float %q: %w", b, err)
	}
	*f = Float(v)
	return nil
}

// Dim is one std_msgs/MultiArrayDimension.
type Dim struct {
	Label  string `json:"label"`
	Size   uint32 `json:"size"`
	Stride uint32 `json:"stride"`
}

// NodeInfo is one node of a ros_discovery_info sample.
type NodeInfo struct {
	Namespace  string   `json:"namespace"`
	Name       string   `json:"name"`
	ReaderGIDs []string `json:"reader_gids"`
	WriterGIDs []string `json:"writer_gids"`
}

// DiagStatus is one diagnostic_msgs/DiagnosticStatus.
type DiagStatus struct {
	Level      uint8             `json:"level"`
	Name       string            `json:"name"`
	Message    string            `json:"message"`
	HardwareID string            `json:"hardware_id"`
	Values     map[string]string `json:"values"`
}

// Event is one JSON line of a peer. Ev says which fields are set:
//
//	ready: Impl, Participant          matched/unmatched: Remote ("reader"/"writer"), Count, GUID
//	sent: K, SrcNs (+ StampNs, FNV1a for images)
//	sample: SrcNs and the type's fields (Values/Dims; image Width..Head; latent Tick..Anomaly ...)
//	request/reply/reply_ignored: ClientGUID+Seq (Cyclone), WriterGUID/RelatedGUID+Seq (Fast DDS),
//	Success, Message, LatencyNs
//	participant: GID, Nodes           writer/reader (topics): Topic, Type, GUID
type Event struct {
	Ev          string `json:"ev"`
	TNs         int64  `json:"t_ns"` // CLOCK_REALTIME when the peer printed the line
	Impl        string `json:"impl"`
	Participant string `json:"participant"`
	Remote      string `json:"remote"`
	Count       int    `json:"count"`
	GUID        string `json:"guid"`

	K       int64  `json:"k"`
	SrcNs   int64  `json:"src_ns"`   // DDS source timestamp
	StampNs int64  `json:"stamp_ns"` // header.stamp
	FrameID string `json:"frame_id"`

	Dims       []Dim   `json:"dims"`
	DataOffset uint32  `json:"data_offset"`
	N          int     `json:"n"`
	Values     []Float `json:"values"`

	Width       uint32 `json:"width"`
	Height      uint32 `json:"height"`
	Encoding    string `json:"encoding"`
	IsBigendian uint8  `json:"is_bigendian"`
	Step        uint32 `json:"step"`
	Size        int    `json:"size"`
	FNV1a       string `json:"fnv1a"`
	Head        string `json:"head"`
	Format      string `json:"format"`

	Tick        uint64  `json:"tick"`
	Seq         int64   `json:"seq"`
	Deter       []Float `json:"deter"`
	StochMean   []Float `json:"stoch_mean"`
	StochStd    []Float `json:"stoch_std"`
	PriorMean   []Float `json:"prior_mean"`
	PriorStd    []Float `json:"prior_std"`
	KL          Float   `json:"kl"`
	ELBO        Float   `json:"elbo"`
	IsFirst     bool    `json:"is_first"`
	StaleFrame  bool    `json:"stale_frame"`
	StaleAction bool    `json:"stale_action"`
	Anomaly     bool    `json:"anomaly"`
	Decoded     bool    `json:"decoded"`
	MSE         Float   `json:"mse"`
	PSNR        Float   `json:"psnr"`
	ZScore      Float   `json:"zscore"`
	ZScoreKL    Float   `json:"zscore_kl"`

	Status []DiagStatus `json:"status"`

	ClientGUID      string `json:"client_guid"`
	WriterGUID      string `json:"writer_guid"`
	ReplyReaderGUID string `json:"reply_reader_guid"`
	RelatedGUID     string `json:"related_guid"`
	Success         bool   `json:"success"`
	Message         string `json:"message"`
	LatencyNs       int64  `json:"latency_ns"`

	GID   string     `json:"gid"`
	Nodes []NodeInfo `json:"nodes"`
	Topic string     `json:"topic"`
	Type  string     `json:"type"`

	Raw string `json:"-"` // the line as printed
}

// Proc is a running peer: its JSON lines arrive as Events, its stderr is kept for failure
// messages, and the test's cleanup kills it if it is still running.
type Proc struct {
	Name   string
	Events <-chan Event // closed when stdout closes

	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	done   chan struct{}
	err    error
	mu     sync.Mutex
	stderr bytes.Buffer
	lines  []string
}

// Start runs the peer program bin with args. ROS_DOMAIN_ID and the rest of the environment
// are inherited.
func Start(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	name := bin[strings.LastIndexByte(bin, '/')+1:] + " " + strings.Join(args, " ")
	cmd := exec.Command(bin, args...)
	p := &Proc{Name: name, t: t, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = lockedWriter{p}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	events := make(chan Event, 100000)
	p.Events = events
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			line := sc.Text()
			var ev Event
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				ev = Event{Ev: "bad_json", Message: err.Error()}
			}
			ev.Raw = line
			p.mu.Lock()
			p.lines = append(p.lines, line)
			p.mu.Unlock()
			events <- ev
		}
		close(events)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, p.Stderr())
		}
	})
	return p
}

type lockedWriter struct{ p *Proc }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stderr.Write(b)
}

// Stderr returns what the peer wrote to stderr so far.
func (p *Proc) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// Go releases a `pub --go-on-stdin`, which waits for a line on stdin before its first sample.
func (p *Proc) Go() {
	if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
		p.t.Errorf("%s: release: %v", p.Name, err)
	}
}

// Kill sends SIGKILL (a crash: no DDS goodbye, remotes must notice through the lease).
func (p *Proc) Kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
}

// Stop asks the peer to end cleanly (SIGTERM): it deletes its entities, which tells remotes.
func (p *Proc) Stop() {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
}

// Wait waits for the peer to exit and returns its exit error, with stderr in the message.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
		<-p.done
		return fmt.Errorf("%s: still running after %v, killed; stderr: %s", p.Name, timeout, p.Stderr())
	}
	if p.err != nil {
		return fmt.Errorf("%s: %w; stderr: %s", p.Name, p.err, strings.TrimSpace(p.Stderr()))
	}
	return nil
}

// Next returns the next event named ev, skipping others, or fails t after timeout.
func (p *Proc) Next(ev string, timeout time.Duration) Event {
	p.t.Helper()
	e, err := p.NextErr(context.Background(), ev, timeout)
	if err != nil {
		p.t.Fatal(err)
	}
	return e
}

// NextErr is Next returning an error instead of failing the test.
func (p *Proc) NextErr(ctx context.Context, ev string, timeout time.Duration) (Event, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-p.Events:
			if !ok {
				return Event{}, fmt.Errorf("%s exited before %q: %v; stderr: %s", p.Name, ev, p.Wait(time.Second), p.Stderr())
			}
			if e.Ev == ev {
				return e, nil
			}
		case <-timer.C:
			return Event{}, fmt.Errorf("%s: no %q within %v; stderr: %s", p.Name, ev, timeout, p.Stderr())
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// Collect returns every event named ev until the peer exits or timeout passes.
func (p *Proc) Collect(ev string, timeout time.Duration) []Event {
	var out []Event
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-p.Events:
			if !ok {
				return out
			}
			if e.Ev == ev {
				out = append(out, e)
			}
		case <-timer.C:
			return out
		}
	}
}

// Lines returns every stdout line so far, for failure messages.
func (p *Proc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}
