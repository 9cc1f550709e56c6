package peertest

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// A stand-in peer (sh) shows Start parsing lines into typed events, Next skipping others,
// Wait reporting the exit status with stderr, and Kill ending a process that would run on.
func TestProcEvents(t *testing.T) {
	script := `echo '{"ev":"ready","t_ns":1,"impl":"fake","participant":"01"}'
echo 'not json'
echo '{"ev":"sample","t_ns":2,"src_ns":5,"values":[0.5,null,-1e+30],"dims":[{"label":"x","size":3,"stride":3}]}'
echo '{"ev":"reply","t_ns":3,"success":true,"message":"ok \"q\""}'
echo 'boom' >&2
exit 3`
	p := Start(t, "/bin/sh", "-c", script)
	if e := p.Next("ready", 5*time.Second); e.Impl != "fake" || e.Participant != "01" || e.TNs != 1 {
		t.Fatalf("ready event %+v", e)
	}
	s := p.Next("sample", 5*time.Second)
	if s.SrcNs != 5 || len(s.Values) != 3 || s.Values[0] != 0.5 || !math.IsNaN(float64(s.Values[1])) || s.Values[2] != -1e30 {
		t.Fatalf("sample values %v src %d", s.Values, s.SrcNs)
	}
	if len(s.Dims) != 1 || s.Dims[0] != (Dim{"x", 3, 3}) {
		t.Fatalf("dims %+v", s.Dims)
	}
	if r := p.Next("reply", 5*time.Second); !r.Success || r.Message != `ok "q"` {
		t.Fatalf("reply %+v", r)
	}
	err := p.Wait(5 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Wait = %v, want exit status 3 with stderr boom", err)
	}
	if lines := p.Lines(); len(lines) != 4 || lines[1] != "not json" {
		t.Fatalf("lines %q", lines)
	}

	long := Start(t, "/bin/sh", "-c", "echo '{\"ev\":\"ready\"}'; exec sleep 60")
	long.Next("ready", 5*time.Second)
	long.Kill()
	if err := long.Wait(5 * time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("after Kill, Wait = %v, want signal: killed", err)
	}
	if _, err := long.NextErr(t.Context(), "ready", time.Second); err == nil {
		t.Fatal("NextErr on an exited peer returned no error")
	}
}

// Peer output is untrusted text: decoding a line never panics, and null floats become NaN.
func FuzzEventLine(f *testing.F) {
	f.Add([]byte(`{"ev":"sample","values":[1,null],"kl":null,"nodes":[{"name":"x"}]}`))
	f.Add([]byte(`{"ev":"ready","t_ns":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Event
		if json.Unmarshal(b, &e) != nil {
			return
		}
		for _, v := range e.Values {
			_ = float32(v)
		}
	})
}
