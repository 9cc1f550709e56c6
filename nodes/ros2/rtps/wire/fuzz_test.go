package wire

import (
	"os"
	"path/filepath"
	"testing"
)

func addCaptures(f *testing.F) [][]byte {
	files, _ := filepath.Glob("testdata/*.bin")
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// decodeDatagram decodes every submessage and discovery payload it finds,
// as the participant's receive path does.
func decodeDatagram(b []byte) {
	var r Reader
	if r.Reset(b) != nil {
		return
	}
	for {
		sh, body, ok, err := r.Next()
		if !ok || err != nil {
			return
		}
		switch sh.Kind {
		case DATA:
			var d Data
			if d.Unmarshal(sh, body) == nil {
				ParseInlineQoS(d.InlineQoS, d.LittleEndian, r.Header.Vendor)
				var pd ParticipantData
				pd.Unmarshal(d.Payload)
				var ed EndpointData
				ed.Unmarshal(d.Payload, true)
			}
		case DATA_FRAG:
			var d DataFrag
			if d.Unmarshal(sh, body) == nil {
				end := d.Offset() + len(d.Payload)
				if end > int(d.SampleSize) {
					panic("DATA_FRAG payload beyond the sample size")
				}
			}
		case HEARTBEAT:
			var m Heartbeat
			m.Unmarshal(sh, body)
		case HEARTBEAT_FRAG:
			var m HeartbeatFrag
			m.Unmarshal(sh, body)
		case ACKNACK:
			var m AckNack
			if m.Unmarshal(sh, body) == nil {
				for sn := m.State.Base; sn < m.State.Base+SequenceNumber(m.State.NumBits); sn++ {
					m.State.Has(sn)
				}
			}
		case NACK_FRAG:
			var m NackFrag
			m.Unmarshal(sh, body)
		case GAP:
			var m Gap
			m.Unmarshal(sh, body)
		case INFO_TS:
			var m InfoTS
			m.Unmarshal(sh, body)
		case INFO_DST:
			var m InfoDst
			m.Unmarshal(sh, body)
		case INFO_SRC:
			var m InfoSrc
			m.Unmarshal(sh, body)
		}
	}
}

func FuzzDatagram(f *testing.F) {
	for _, b := range addCaptures(f) {
		f.Add(b)
	}
	h := Header{Version: ProtocolVersion24, Vendor: VendorRSSMD, Prefix: testPrefix}
	msg := (&InfoTS{Timestamp: Time{Seconds: 5}}).Append(h.Append(nil))
	msg = (&DataFrag{WriterID: testWriter, SN: 1, FragmentStart: 1, FragmentsInSubmessage: 1, FragmentSize: 4, SampleSize: 9, Payload: []byte{0, 1, 0, 0}}).Append(msg)
	msg = (&Heartbeat{WriterID: testWriter, FirstSN: 1, LastSN: 3, Count: 1}).Append(msg)
	msg = (&AckNack{WriterID: testWriter, State: SequenceNumberSet{Base: 1, NumBits: 40, Bitmap: [8]uint32{0xf0000000, 1}}, Count: 1}).Append(msg)
	msg = (&NackFrag{WriterID: testWriter, SN: 1, State: FragmentNumberSet{Base: 1, NumBits: 3, Bitmap: [8]uint32{0xe0000000}}}).Append(msg)
	msg = (&Gap{WriterID: testWriter, Start: 1, List: SequenceNumberSet{Base: 3}}).Append(msg)
	f.Add(msg)
	f.Fuzz(func(t *testing.T, b []byte) { decodeDatagram(b) })
}

func FuzzParameterList(f *testing.F) {
	for _, b := range addCaptures(f) {
		if len(b) > HeaderSize+32+4 {
			f.Add(b[HeaderSize+32+4:]) // roughly where a SPDP payload starts
		}
	}
	ed := EndpointData{Topic: "rt/x", Type: "T", Depth: 3, UserData: []byte("typehash=;")}
	f.Add(ed.Append(nil))
	f.Add((&ParticipantData{UserData: []byte("enclave=/;"), EntityName: "n"}).Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var pd ParticipantData
		if pd.Unmarshal(b) == nil {
			// What decodes must encode and decode to the same value.
			var again ParticipantData
			if err := again.Unmarshal(pd.Append(nil)); err != nil {
				t.Fatalf("re-decoding %+v: %v", pd, err)
			}
		}
		var ed EndpointData
		if ed.Unmarshal(b, false) == nil {
			var again EndpointData
			if err := again.Unmarshal(ed.Append(nil), false); err != nil {
				t.Fatalf("re-decoding %+v: %v", ed, err)
			}
		}
		if len(b) > 4 {
			ParseInlineQoS(b[4:], b[1]&1 == 1, VendorEProsima)
		}
	})
}
