package msg

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needTool skips (or fails under CI=1) when an external tool is missing.
func needTool(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "1" {
		t.Fatalf("%s is required under CI=1", what)
	}
	t.Skipf("%s not available (apt-get install cyclonedds-dev cyclonedds-tools gcc)", what)
}

// TestCycloneBytes serializes the same samples with Cyclone DDS (idlc-generated C types,
// written on a topic and taken back as serialized data) and compares every byte, padding
// and encapsulation options included, with Encode.
func TestCycloneBytes(t *testing.T) {
	idlc, err := exec.LookPath("idlc")
	needTool(t, "idlc (cyclonedds-tools)", err == nil)
	// Any C compiler driver: CI installs g++, whose driver compiles C given -x c.
	var cc string
	for _, name := range []string{"cc", "gcc", "g++"} {
		if p, err := exec.LookPath(name); err == nil {
			cc = p
			break
		}
	}
	needTool(t, "a C compiler (gcc)", cc != "")
	_, err = os.Stat("/usr/include/dds/dds.h")
	needTool(t, "Cyclone DDS headers (cyclonedds-dev)", err == nil)

	dir := t.TempDir()
	src, _ := filepath.Abs("testdata/cyclone")
	run := func(name string, args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		// Loopback only: the check needs no network and must not disturb other DDS peers.
		cmd.Env = append(os.Environ(), `CYCLONEDDS_URI=<General><Interfaces><NetworkInterface name="lo"/></Interfaces></General><Discovery><ParticipantIndex>none</ParticipantIndex></Discovery>`)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
		}
		return out
	}
	run(idlc, filepath.Join(src, "types.idl"))
	run(cc, "-o", "dump", "-I.", "-x", "c", filepath.Join(src, "dump.c"), "types.c", "-x", "none", "-lddsc")
	out := run(filepath.Join(dir, "dump"))

	samples := map[string]Message{
		"Header":                        exact[0].msg,
		"Image":                         exact[1].msg,
		"Float32MultiArray":             exact[2].msg,
		"DiagnosticArray":               exact[3].msg,
		"Trigger_Request":               exact[4].msg,
		"Trigger_Response":              exact[5].msg,
		"Reward":                        exact[6].msg,
		"ParticipantEntitiesInfoIron":   exact[7].msg,
		"ParticipantEntitiesInfoHumble": humbleSample(),
		"LatentState":                   sampleLatent(),
		"Imagine_Response":              sampleImagine(),
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, hx, ok := strings.Cut(sc.Text(), " ")
		m := samples[name]
		if !ok || m == nil {
			t.Fatalf("unexpected line %q", sc.Text())
		}
		want, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatal(err)
		}
		if got := Encode(nil, m); !bytes.Equal(got, want) {
			t.Errorf("%s:\nours    % x\ncyclone % x", name, got, want)
		}
		back := newLike(m)
		if err := Decode(want, back); err != nil {
			t.Errorf("%s: decoding Cyclone's bytes: %v", name, err)
		}
		seen++
	}
	if seen != len(samples) {
		t.Fatalf("Cyclone wrote %d samples, want %d", seen, len(samples))
	}
}

func humbleSample() *ParticipantEntitiesInfo {
	p := *exact[7].msg.(*ParticipantEntitiesInfo)
	p.GidSize = GidSizeHumble
	p.Gid = gid(1, 24)
	return &p
}
