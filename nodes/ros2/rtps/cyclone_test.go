package rtps

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ddsperf's keyless topics: struct OneULong { unsigned long seq; },
// "R" reliable and "U" (ddsperf -u) best effort.
const (
	ddsperfTopic   = "DDSPerfRDataOU"
	ddsperfBETopic = "DDSPerfUDataOU"
	ddsperfType    = "OneULong"
)

func needDDSPerf(t *testing.T) string {
	path, err := exec.LookPath("ddsperf")
	if err != nil {
		skipOrFail(t, "ddsperf (Debian cyclonedds-tools) is not installed")
	}
	return path
}

func oneULong(seq uint32) []byte {
	b := []byte{0, 1, 0, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[4:], seq)
	return b
}

// startDDSPerf runs ddsperf and collects its output lines.
func startDDSPerf(t *testing.T, args ...string) (*exec.Cmd, func() []string) {
	cmd := exec.Command(needDDSPerf(t), args...)
	cmd.Env = append(os.Environ(), "CYCLONEDDS_URI=")
	if dir := os.Getenv("RTPS_CYCLONE_TRACE"); dir != "" {
		cmd.Env = append(cmd.Env, fmt.Sprintf("CYCLONEDDS_URI=<Tracing><Verbosity>finest</Verbosity><OutputFile>%s/cyclone-%d.log</OutputFile></Tracing>", dir, time.Now().UnixNano()))
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
}

func cycloneConfig(t *testing.T) Config {
	c := Config{DomainID: 0, UserData: []byte("enclave=/;"), Name: "rssmd-test", Logger: testLogger(t)}
	if dir := os.Getenv("RTPS_CAPTURE"); dir != "" {
		// Save received datagrams: the source of wire/testdata.
		var n atomic.Int64
		c.captured = func(b []byte) {
			os.WriteFile(fmt.Sprintf("%s/%s-%04d.bin", dir, t.Name()[:4], n.Add(1)), b, 0o644)
		}
	}
	return c
}

// TestCycloneReceivesOurSamples: ddsperf's subscriber (Cyclone DDS 0.10)
// discovers our participant and writer by multicast SPDP and receives
// every sample, reliable and best effort.
func TestCycloneReceivesOurSamples(t *testing.T) {
	needDDSPerf(t)
	for _, rel := range []Reliability{Reliable, BestEffort} {
		name := map[Reliability]string{BestEffort: "best_effort", Reliable: "reliable"}[rel]
		t.Run(name, func(t *testing.T) {
			if !inNetns(t) {
				return
			}
			args := []string{"-D", "5", "-T", "OU", "-1"}
			topic := ddsperfTopic
			if rel == BestEffort {
				args, topic = append(args, "-u"), ddsperfBETopic
			}
			cmd, lines := startDDSPerf(t, append(args, "sub")...)
			p := newTestParticipant(t, cycloneConfig(t))
			w, err := p.NewWriter(WriterConfig{Topic: topic, TypeName: ddsperfType, QoS: QoS{Reliability: rel, Depth: 100}})
			if err != nil {
				t.Fatal(err)
			}
			waitMatched(t, "writer", w.Matched, 1, 3*time.Second)
			// We matched its reader; give it a moment to match our writer
			// (a volatile reader gets nothing written before that).
			time.Sleep(time.Second)
			const n = 500
			for i := 1; i <= n; i++ {
				if _, err := w.Write(oneULong(uint32(i)), time.Now()); err != nil {
					t.Fatal(err)
				}
				if i%50 == 0 {
					time.Sleep(10 * time.Millisecond)
				}
			}
			cmd.Wait()
			// ddsperf prints per-second lines "... size 4 total N lost L ...".
			re := regexp.MustCompile(`total (\d+) lost (\d+)`)
			total, lost := 0, -1
			for _, l := range lines() {
				if m := re.FindStringSubmatch(l); m != nil {
					total, _ = strconv.Atoi(m[1])
					lost, _ = strconv.Atoi(m[2])
				}
			}
			if total != n || lost != 0 {
				t.Fatalf("ddsperf received %d samples, lost %d; want %d and 0\n%v", total, lost, n, lines())
			}
			t.Logf("ddsperf received all %d samples; our stats %+v", total, p.Stats())
		})
	}
}

// TestWeReceiveCycloneSamples: our reliable reader receives ddsperf's
// publisher, in order, with Cyclone's vendor id.
func TestWeReceiveCycloneSamples(t *testing.T) {
	needDDSPerf(t)
	if !inNetns(t) {
		return
	}
	p := newTestParticipant(t, cycloneConfig(t))
	col := newCollector()
	r, err := p.NewReader(ReaderConfig{Topic: ddsperfTopic, TypeName: ddsperfType, QoS: QoS{Reliability: Reliable, Depth: 100}, OnSample: col.on})
	if err != nil {
		t.Fatal(err)
	}
	startDDSPerf(t, "-D", "4", "-T", "OU", "pub", "200Hz")
	waitMatched(t, "reader", r.Matched, 1, 3*time.Second)
	got := col.wait(t, 200, 5*time.Second)
	first := binary.LittleEndian.Uint32(got[0].Data[4:])
	for i, s := range got {
		if s.VendorID != [2]byte{0x01, 0x10} || len(s.Data) != 8 || s.Data[1] != 1 {
			t.Fatalf("sample %d: vendor %x data %x", i, s.VendorID, s.Data)
		}
		if v := binary.LittleEndian.Uint32(s.Data[4:]); v != first+uint32(i) || s.Seq != got[0].Seq+SequenceNumber(i) {
			t.Fatalf("sample %d: ddsperf seq %d, rtps seq %d: not in order", i, v, s.Seq)
		}
		if s.SourceTime.IsZero() || time.Since(s.SourceTime) > time.Minute {
			t.Fatalf("source time %v", s.SourceTime)
		}
	}
	if st := p.Stats(); st.ParticipantsDiscovered != 1 {
		t.Fatalf("stats %+v", st)
	}
	_ = context.Background
}
