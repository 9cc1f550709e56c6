package wire

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// decodeAll renders every submessage of a captured datagram as text, so a
// test can compare against the values expected from Cyclone DDS.
func decodeAll(t *testing.T, name string) (Header, []string) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var r Reader
	if err := r.Reset(b); err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		sh, body, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return r.Header, out
		}
		var s string
		switch sh.Kind {
		case DATA:
			var d Data
			if err := d.Unmarshal(sh, body); err != nil {
				t.Fatal(err)
			}
			s = fmt.Sprintf("DATA %s->%s sn %d", d.WriterID, d.ReaderID, d.SN)
			switch d.WriterID {
			case EntityIDSEDPBuiltinPublicationsAnnouncer, EntityIDSEDPBuiltinSubscriptionsAnnouncer:
				var ed EndpointData
				if err := ed.Unmarshal(d.Payload, d.WriterID == EntityIDSEDPBuiltinPublicationsAnnouncer); err != nil {
					t.Fatal(err)
				}
				s += fmt.Sprintf(" %s %s rel %d dur %d hist %d/%d", ed.Topic, ed.Type, ed.Reliability, ed.Durability, ed.History, ed.Depth)
			default:
				s += fmt.Sprintf(" payload %x", d.Payload)
			}
		case HEARTBEAT:
			var m Heartbeat
			if err := m.Unmarshal(sh, body); err != nil {
				t.Fatal(err)
			}
			s = fmt.Sprintf("HEARTBEAT %s->%s %d..%d count %d final %v", m.WriterID, m.ReaderID, m.FirstSN, m.LastSN, m.Count, m.Final)
		case ACKNACK:
			var m AckNack
			if err := m.Unmarshal(sh, body); err != nil {
				t.Fatal(err)
			}
			s = fmt.Sprintf("ACKNACK %s->%s base %d bits %d count %d final %v", m.ReaderID, m.WriterID, m.State.Base, m.State.NumBits, m.Count, m.Final)
		case INFO_DST:
			var m InfoDst
			if err := m.Unmarshal(sh, body); err != nil {
				t.Fatal(err)
			}
			s = fmt.Sprintf("INFO_DST %x", m.Prefix[:2])
		case INFO_TS:
			var m InfoTS
			if err := m.Unmarshal(sh, body); err != nil {
				t.Fatal(err)
			}
			s = "INFO_TS"
		default:
			s = fmt.Sprintf("0x%02x", byte(sh.Kind))
		}
		out = append(out, s)
	}
}

// TestCycloneCaptures decodes datagrams Cyclone DDS 0.10.2 (ddsperf -T OU)
// sent to our participant in a network namespace.
func TestCycloneCaptures(t *testing.T) {
	for _, c := range []struct {
		file string
		want []string // substrings, one per submessage, in order
	}{
		{"cyclone_sedp.bin", []string{
			"INFO_DST 01f0", "INFO_TS",
			"DATA 000003c2->000003c7 sn 1 DDSPerfCPUStats CPUStats rel 2 dur 0 hist 0/1",
			"INFO_TS", "DATA 000003c2->000003c7 sn 2 DDSPerfRPingOU OneULong rel 2 dur 0",
			"INFO_TS", "DATA 000003c2->000003c7 sn 3 DDSPerfRDataOU OneULong rel 2 dur 0",
			"HEARTBEAT 000003c2->000003c7 1..3",
			"INFO_TS", "DATA 000004c2->000004c7 sn 1 DDSPerfRPingOU OneULong rel 2 dur 0",
		}},
		{"cyclone_heartbeat.bin", []string{"INFO_DST 01f0", "HEARTBEAT 000003c2->00000000 1..3 count 1 final false", "HEARTBEAT 000004c2->00000000 1..2 count 1 final false"}},
		{"cyclone_acknack.bin", []string{"INFO_DST 01f0", "ACKNACK 000003c7->000003c2 base 1 bits 0", "ACKNACK 000004c7->000004c2 base 1 bits 0"}},
		{"cyclone_data.bin", []string{"INFO_TS", "DATA 00000b03->00000000 sn ", "HEARTBEAT 00000b03->00000000"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			h, got := decodeAll(t, c.file)
			if h.Vendor != VendorCycloneDD {
				t.Fatalf("vendor %x", h.Vendor)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d submessages, want %d:\n%s", len(got), len(c.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.Contains(got[i], c.want[i]) {
					t.Fatalf("submessage %d: %q does not contain %q\nall:\n%s", i, got[i], c.want[i], strings.Join(got, "\n"))
				}
			}
		})
	}
}
