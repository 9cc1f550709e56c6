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

// TestPeerCaptures decodes datagrams that Cyclone DDS 0.10.2 (ddsperf -T
// OU) and Fast DDS 2.9.1 (peertest's fastdds-peer publishing a 4x2 rgb8
// image) sent to our participant in a network namespace.
func TestPeerCaptures(t *testing.T) {
	for _, c := range []struct {
		file   string
		vendor VendorID
		want   []string // substrings, one per submessage, in order
	}{
		{"cyclone_sedp.bin", VendorCycloneDD, []string{
			"INFO_DST 01f0", "INFO_TS",
			"DATA 000003c2->000003c7 sn 1 DDSPerfCPUStats CPUStats rel 2 dur 0 hist 0/1",
			"INFO_TS", "DATA 000003c2->000003c7 sn 2 DDSPerfRPingOU OneULong rel 2 dur 0",
			"INFO_TS", "DATA 000003c2->000003c7 sn 3 DDSPerfRDataOU OneULong rel 2 dur 0",
			"HEARTBEAT 000003c2->000003c7 1..3",
			"INFO_TS", "DATA 000004c2->000004c7 sn 1 DDSPerfRPingOU OneULong rel 2 dur 0",
		}},
		{"cyclone_heartbeat.bin", VendorCycloneDD, []string{"INFO_DST 01f0", "HEARTBEAT 000003c2->00000000 1..3 count 1 final false", "HEARTBEAT 000004c2->00000000 1..2 count 1 final false"}},
		{"cyclone_acknack.bin", VendorCycloneDD, []string{"INFO_DST 01f0", "ACKNACK 000003c7->000003c2 base 1 bits 0", "ACKNACK 000004c7->000004c2 base 1 bits 0"}},
		{"cyclone_data.bin", VendorCycloneDD, []string{"INFO_TS", "DATA 00000b03->00000000 sn ", "HEARTBEAT 00000b03->00000000"}},
		// Fast DDS ends each message with a vendor-specific submessage
		// (0x80), which is skipped.
		{"fastdds_spdp.bin", VendorEProsima, []string{"INFO_TS", "DATA 000100c2->000100c7 sn 1 payload 00030000", "0x80"}},
		{"fastdds_sedp.bin", VendorEProsima, []string{"INFO_DST 01f0", "INFO_TS",
			"DATA 000003c2->000003c7 sn 1 rt/img sensor_msgs::msg::dds_::Image_ rel 2 dur 0 hist 0/1", "INFO_TS",
			"DATA 000003c2->000003c7 sn 2 ros_discovery_info rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_ rel 2 dur 1 hist 0/1", "0x80"}},
		// A CDR_LE sensor_msgs/Image: stamp, frame "camera", height 2, width 4,
		// "rgb8", big-endian flag 0, step 12, 24 data bytes.
		{"fastdds_data.bin", VendorEProsima, []string{"INFO_DST 01f0", "INFO_TS",
			"DATA 00000103->00000104 sn 1 payload 00010000cae6166b112652030700000063616d657261000002000000040000000500000072676238000000000c00000018000000", "0x80"}},
		// Fast DDS's pre-emptive ACKNACK has bitmap base 0.
		{"fastdds_acknack.bin", VendorEProsima, []string{"INFO_DST 01f0", "ACKNACK 000004c7->000004c2 base 0 bits 0 count 1 final false", "0x80"}},
		{"fastdds_heartbeat.bin", VendorEProsima, []string{"INFO_DST 01f0", "HEARTBEAT 00000103->00000104 1..0 count 1 final false", "0x80"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			h, got := decodeAll(t, c.file)
			if h.Vendor != c.vendor {
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

func TestFastDDSSPDP(t *testing.T) {
	b, err := os.ReadFile("testdata/fastdds_spdp.bin")
	if err != nil {
		t.Fatal(err)
	}
	var r Reader
	if err := r.Reset(b); err != nil {
		t.Fatal(err)
	}
	r.Next()
	sh, body, _, _ := r.Next()
	var d Data
	if err := d.Unmarshal(sh, body); err != nil {
		t.Fatal(err)
	}
	var pd ParticipantData
	if err := pd.Unmarshal(d.Payload); err != nil {
		t.Fatal(err)
	}
	if pd.Vendor != VendorEProsima || pd.Version != (ProtocolVersion{2, 3}) || pd.GUID.Prefix != r.Header.Prefix ||
		pd.LeaseDuration != (Time{Seconds: 20}) || string(pd.UserData) != "enclave=/;" || len(pd.MetaUnicast) == 0 || len(pd.DefaultUnicast) == 0 {
		t.Fatalf("participant data %+v", pd)
	}
	if ap, _ := pd.MetaUnicast[0].AddrPort(); ap.Addr().String() != "127.0.0.1" || ap.Port() != 7412 {
		t.Fatalf("metatraffic unicast %v: want 127.0.0.1:7412 (participant id 1)", ap)
	}
}
