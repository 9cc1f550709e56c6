package rtps

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("RTPS_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testDomain picks a domain unlikely to collide with other tests on the
// machine.
func testDomain() int { return 120 + rand.IntN(100) }

// localConfig discovers only through unicast to 127.0.0.1: no multicast
// needed.
func localConfig(t testing.TB, domain int) Config {
	return Config{DomainID: domain, Range: Off, StaticPeers: []string{"127.0.0.1"}, StaticPeerParticipants: 4,
		Interfaces: nil, LeaseDuration: 3 * time.Second, AnnouncePeriod: 500 * time.Millisecond, Logger: testLogger(t)}
}

func newTestParticipant(t testing.TB, c Config) *Participant {
	t.Helper()
	p, err := NewParticipant(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// payload builds a CDR_LE sample: header, then a uint32 index, then filler.
func payload(i, size int) []byte {
	b := make([]byte, size)
	b[1] = 1
	binary.LittleEndian.PutUint32(b[4:], uint32(i))
	for j := 8; j < size; j++ {
		b[j] = byte(i + j)
	}
	return b
}

type collector struct {
	mu      sync.Mutex
	samples []Sample
	datas   [][]byte
	ch      chan struct{}
}

func newCollector() *collector { return &collector{ch: make(chan struct{}, 1<<16)} }

func (c *collector) on(s Sample) {
	c.mu.Lock()
	d := append([]byte(nil), s.Data...)
	s.Data = d
	c.samples = append(c.samples, s)
	c.datas = append(c.datas, d)
	c.mu.Unlock()
	c.ch <- struct{}{}
}

func (c *collector) wait(t testing.TB, n int, timeout time.Duration) []Sample {
	t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		got := len(c.samples)
		c.mu.Unlock()
		if got >= n {
			c.mu.Lock()
			defer c.mu.Unlock()
			return append([]Sample(nil), c.samples...)
		}
		select {
		case <-c.ch:
		case <-deadline:
			t.Fatalf("received %d of %d samples in %v", got, n, timeout)
		}
	}
}

func waitMatched(t testing.TB, what string, f func() int, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for f() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: matched %d, want %d after %v", what, f(), n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGoToGoDelivery(t *testing.T) {
	for _, rel := range []Reliability{BestEffort, Reliable} {
		name := map[Reliability]string{BestEffort: "best_effort", Reliable: "reliable"}[rel]
		t.Run(name, func(t *testing.T) {
			d := testDomain()
			a := newTestParticipant(t, localConfig(t, d))
			b := newTestParticipant(t, localConfig(t, d))
			q := QoS{Reliability: rel, Depth: 100}
			w, err := a.NewWriter(WriterConfig{Topic: "rt/test", TypeName: "std_msgs::msg::dds_::UInt32_", QoS: q})
			if err != nil {
				t.Fatal(err)
			}
			col := newCollector()
			r, err := b.NewReader(ReaderConfig{Topic: "rt/test", TypeName: "std_msgs::msg::dds_::UInt32_", QoS: q, OnSample: col.on})
			if err != nil {
				t.Fatal(err)
			}
			waitMatched(t, "writer", w.Matched, 1, 5*time.Second)
			waitMatched(t, "reader", r.Matched, 1, 5*time.Second)
			const n = 50
			t0 := time.Unix(1700000000, 5000)
			for i := 0; i < n; i++ {
				if _, err := w.Write(payload(i, 20+i), t0.Add(time.Duration(i)*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Millisecond)
			}
			got := col.wait(t, n, 5*time.Second)
			for i, s := range got[:n] {
				if !bytes.Equal(s.Data, payload(i, 20+i)) || s.Seq != SequenceNumber(i+1) || s.Writer != w.GUID() {
					t.Fatalf("sample %d: seq %d writer %v data %x", i, s.Seq, s.Writer, s.Data)
				}
				if !s.SourceTime.Equal(t0.Add(time.Duration(i) * time.Millisecond)) {
					t.Fatalf("sample %d: source time %v", i, s.SourceTime)
				}
				if s.VendorID != [2]byte{0x01, 0xf0} {
					t.Fatalf("vendor %x", s.VendorID)
				}
			}
		})
	}
}
