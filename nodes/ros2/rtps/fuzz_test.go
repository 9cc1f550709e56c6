package rtps

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/rtps/wire"
)

// fuzzParticipant is a socketless participant with one local reader and
// one local writer on topic "rt/f", driven directly (no loop goroutine).
func fuzzParticipant(t testing.TB) (*Participant, *Reader) {
	p := newParticipantState(Config{MaxSampleSize: 1 << 20, MaxReassemblyBytes: 4 << 20, HeartbeatPeriod: 100 * time.Millisecond, Logger: testLogger(t)})
	p.ifaces = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}
	p.now = time.Unix(1700000000, 0)
	p.buildSPDP()
	q := QoS{Reliability: Reliable, Depth: 10}
	r := &Reader{depth: 10, queue: make(chan *slot, maxQueue)}
	p.readers[EntityID{0, 0, 1, 4}] = &readerState{pub: r, guid: GUID{Prefix: p.guid.Prefix, Entity: EntityID{0, 0, 1, 4}}, topic: "rt/f", typ: "T", qos: q}
	w := &Writer{}
	p.writers[EntityID{0, 0, 2, 3}] = &writerState{pub: w, guid: GUID{Prefix: p.guid.Prefix, Entity: EntityID{0, 0, 2, 3}}, topic: "rt/f", typ: "T", qos: QoS{Reliability: Reliable, Durability: TransientLocal, Depth: 10}, hist: make([]change, 10)}
	for i := 0; i < 3; i++ {
		p.write(p.writers[EntityID{0, 0, 2, 3}], &writeReq{payload: payload(i, 20000), ts: p.now})
	}
	return p, r
}

// feed runs a fuzz input: datagrams, each preceded by a 2-byte length.
func feed(p *Participant, r *Reader, in []byte) {
	for len(in) >= 2 {
		n := int(binary.LittleEndian.Uint16(in))
		in = in[2:]
		if n > len(in) {
			n = len(in)
		}
		p.handleDatagram(datagram{buf: in[:n], src: netip.MustParseAddrPort("127.0.0.1:9")})
		in = in[n:]
		p.now = p.now.Add(300 * time.Millisecond)
		p.tick()
		for len(r.queue) > 0 { // consume like the callback goroutine
			s := <-r.queue
			r.queued.Add(-1)
			r.qBytes.Add(-int64(len(s.data)))
		}
	}
	if p.reasmBytes < 0 || p.reasmBytes > p.conf.MaxReassemblyBytes {
		panic("reassembly accounting broken")
	}
}

func frame(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(m)))
		out = append(out, m...)
	}
	return out
}

// seedSession is a remote participant X discovering us, announcing a
// writer on rt/f and sending it a fragmented sample, heartbeats, a gap and
// an ACKNACK for our writer.
func seedSession(our GUIDPrefix) []byte {
	x := GUIDPrefix{0x01, 0x10, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}
	h := wire.Header{Version: wire.ProtocolVersion24, Vendor: wire.VendorCycloneDD, Prefix: x}
	loc := wire.LocatorFromAddrPort(netip.MustParseAddrPort("127.0.0.1:7999"))
	pd := wire.ParticipantData{GUID: GUID{Prefix: x, Entity: wire.EntityIDParticipant}, MetaUnicast: []wire.Locator{loc},
		DefaultUnicast: []wire.Locator{loc}, BuiltinEndpoints: builtinEndpoints, LeaseDuration: wire.Time{Seconds: 10}}
	spdp := (&wire.Data{WriterID: wire.EntityIDSPDPBuiltinParticipantAnnouncer, SN: 1, Payload: pd.Append(nil)}).Append(h.Append(nil))
	wg := GUID{Prefix: x, Entity: EntityID{0, 0, 7, 3}}
	ed := wire.EndpointData{GUID: wg, Topic: "rt/f", Type: "T", Reliability: wire.ReliableReliability, Depth: 10}
	sedp := (&wire.Data{WriterID: wire.EntityIDSEDPBuiltinPublicationsAnnouncer, SN: 1, Payload: ed.Append(nil)}).Append(h.Append(nil))
	rd := wire.EndpointData{GUID: GUID{Prefix: x, Entity: EntityID{0, 0, 8, 4}}, Topic: "rt/f", Type: "T", Reliability: wire.ReliableReliability, Durability: wire.TransientLocalDurability, Depth: 10}
	sedp2 := (&wire.Data{WriterID: wire.EntityIDSEDPBuiltinSubscriptionsAnnouncer, SN: 1, Payload: rd.Append(nil)}).Append(h.Append(nil))
	sample := payload(5, 20)
	frag := func(f uint32) []byte {
		return (&wire.DataFrag{WriterID: wg.Entity, SN: 2, FragmentStart: f, FragmentsInSubmessage: 1, FragmentSize: 8, SampleSize: 20, Payload: sample[(f-1)*8 : min(f*8, 20)]}).Append(h.Append(nil))
	}
	data := (&wire.Data{WriterID: wg.Entity, SN: 1, Payload: payload(1, 12)}).Append((&wire.InfoTS{Timestamp: wire.Time{Seconds: 5}}).Append(h.Append(nil)))
	hb := (&wire.Heartbeat{WriterID: wg.Entity, FirstSN: 1, LastSN: 4, Count: 1}).Append(h.Append(nil))
	gap := (&wire.Gap{WriterID: wg.Entity, Start: 3, List: wire.SequenceNumberSet{Base: 4}}).Append(h.Append(nil))
	var set wire.SequenceNumberSet
	set.Base = 1
	set.Set(1)
	set.Set(2)
	ack := (&wire.AckNack{ReaderID: EntityID{0, 0, 8, 4}, WriterID: EntityID{0, 0, 2, 3}, State: set, Count: 1}).Append((&wire.InfoDst{Prefix: our}).Append(h.Append(nil)))
	nf := (&wire.NackFrag{ReaderID: EntityID{0, 0, 8, 4}, WriterID: EntityID{0, 0, 2, 3}, SN: 2, State: wire.FragmentNumberSet{Base: 1, NumBits: 2, Bitmap: [8]uint32{0xc0000000}}, Count: 1}).Append(h.Append(nil))
	return frame(spdp, sedp, sedp2, frag(1), data, hb, frag(3), frag(2), gap, ack, nf, hb)
}

func TestFuzzSeedSession(t *testing.T) {
	p, r := fuzzParticipant(t)
	var got []Sample
	for _, m := range [][]byte{seedSession(p.guid.Prefix)} {
		for len(m) >= 2 {
			n := int(binary.LittleEndian.Uint16(m))
			p.handleDatagram(datagram{buf: m[2 : 2+n]})
			m = m[2+n:]
			for len(r.queue) > 0 {
				s := <-r.queue
				got = append(got, s.s)
			}
		}
	}
	// The seed must reach deep states: discovery, matching, delivery of
	// the fragmented sample in order after the DATA.
	if len(p.participants) != 1 || p.readers[EntityID{0, 0, 1, 4}].proxies == nil || p.writers[EntityID{0, 0, 2, 3}].proxies == nil {
		t.Fatalf("session did not match: %d participants", len(p.participants))
	}
	if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 || string(got[1].Data) != string(payload(5, 20)) {
		t.Fatalf("delivered %d samples: %+v", len(got), got)
	}
	if st := p.Stats(); st.SamplesResent != 2 || st.MalformedDropped != 0 || st.NackFragsReceived != 1 || st.GapsReceived != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// FuzzParticipantInput feeds datagram sequences to a participant's receive
// path: SPDP, SEDP, reliability and reassembly must never panic and keep
// the reassembly budget.
func FuzzParticipantInput(f *testing.F) {
	p, _ := fuzzParticipant(f)
	f.Add(seedSession(p.guid.Prefix))
	files, _ := filepath.Glob("wire/testdata/*.bin")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(frame(b))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, r := fuzzParticipant(t)
		feed(p, r, in)
	})
}
