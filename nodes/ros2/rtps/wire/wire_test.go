package wire

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"testing"
	"time"
)

var (
	testPrefix = GUIDPrefix{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	testWriter = EntityID{0, 0, 1, EntityKindUserWriterNoKey}
	testReader = EntityID{0, 0, 2, EntityKindUserReaderNoKey}
)

// submessage is implemented by every submessage type.
type submessage interface {
	Append([]byte) []byte
	Unmarshal(SubmessageHeader, []byte) error
}

func TestSubmessageRoundTrip(t *testing.T) {
	snset := SequenceNumberSet{Base: 5}
	snset.Set(5)
	snset.Set(40)
	snset.Set(260)
	fnset := FragmentNumberSet{Base: 3}
	fnset.Set(3)
	fnset.Set(70)
	qos := AppendSentinel(AppendGUIDParam(nil, PID_KEY_HASH, GUID{Prefix: testPrefix, Entity: testWriter}))
	cases := []struct {
		name string
		kind SubmessageKind
		in   submessage
		out  submessage
	}{
		{"data", DATA, &Data{ReaderID: testReader, WriterID: testWriter, SN: 1<<32 + 7, Payload: []byte{0, 1, 0, 0, 9, 9, 9, 9}, LittleEndian: true}, &Data{}},
		{"data padded", DATA, &Data{ReaderID: testReader, WriterID: testWriter, SN: 2, Payload: []byte{0, 1, 0, 1, 9, 9, 9, 0}, LittleEndian: true}, &Data{}},
		{"data+qos", DATA, &Data{ReaderID: testReader, WriterID: testWriter, SN: 3, InlineQoS: qos, Payload: []byte{0, 1, 0, 0}, LittleEndian: true}, &Data{}},
		{"data key only", DATA, &Data{WriterID: testWriter, SN: 3, InlineQoS: qos, LittleEndian: true}, &Data{}},
		{"datafrag", DATA_FRAG, &DataFrag{ReaderID: testReader, WriterID: testWriter, SN: 9, FragmentStart: 2, FragmentsInSubmessage: 2, FragmentSize: 4, SampleSize: 10, Payload: []byte{1, 2, 3, 4, 5, 6}, LittleEndian: true}, &DataFrag{}},
		{"datafrag last short", DATA_FRAG, &DataFrag{WriterID: testWriter, SN: 9, FragmentStart: 3, FragmentsInSubmessage: 1, FragmentSize: 4, SampleSize: 10, InlineQoS: qos, Payload: []byte{9, 10}, LittleEndian: true}, &DataFrag{}},
		{"heartbeat", HEARTBEAT, &Heartbeat{ReaderID: testReader, WriterID: testWriter, FirstSN: 1, LastSN: 1 << 33, Count: 42, Final: true}, &Heartbeat{}},
		{"heartbeat empty", HEARTBEAT, &Heartbeat{WriterID: testWriter, FirstSN: 5, LastSN: 4, Count: 1, Liveliness: true}, &Heartbeat{}},
		{"heartbeatfrag", HEARTBEAT_FRAG, &HeartbeatFrag{ReaderID: testReader, WriterID: testWriter, SN: 77, LastFragmentNum: 700, Count: 3}, &HeartbeatFrag{}},
		{"acknack", ACKNACK, &AckNack{ReaderID: testReader, WriterID: testWriter, State: snset, Count: 9, Final: true}, &AckNack{}},
		{"acknack empty", ACKNACK, &AckNack{ReaderID: testReader, WriterID: testWriter, State: SequenceNumberSet{Base: 1}, Count: 1}, &AckNack{}},
		{"nackfrag", NACK_FRAG, &NackFrag{ReaderID: testReader, WriterID: testWriter, SN: 12, State: fnset, Count: 2}, &NackFrag{}},
		{"gap", GAP, &Gap{ReaderID: testReader, WriterID: testWriter, Start: 3, List: SequenceNumberSet{Base: 10, NumBits: 0}}, &Gap{}},
		{"infots", INFO_TS, &InfoTS{Timestamp: Time{Seconds: 1700000000, Fraction: 1 << 31}}, &InfoTS{}},
		{"infots invalidate", INFO_TS, &InfoTS{Invalidate: true, Timestamp: TimeInvalid}, &InfoTS{}},
		{"infodst", INFO_DST, &InfoDst{Prefix: testPrefix}, &InfoDst{}},
		{"infosrc", INFO_SRC, &InfoSrc{Version: ProtocolVersion24, Vendor: VendorRSSMD, Prefix: testPrefix}, &InfoSrc{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := Header{Version: ProtocolVersion24, Vendor: VendorRSSMD, Prefix: testPrefix}
			msg := c.in.Append(h.Append(nil))
			var r Reader
			if err := r.Reset(msg); err != nil {
				t.Fatal(err)
			}
			if r.Header != h {
				t.Fatalf("header %+v, want %+v", r.Header, h)
			}
			sh, body, ok, err := r.Next()
			if !ok || err != nil {
				t.Fatalf("Next: ok %v err %v", ok, err)
			}
			if sh.Kind != c.kind || len(body)%4 != 0 {
				t.Fatalf("kind 0x%02x len %d, want 0x%02x and a multiple of 4", sh.Kind, len(body), c.kind)
			}
			if err := c.out.Unmarshal(sh, body); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.in, c.out) {
				t.Fatalf("round trip\n got %+v\nwant %+v", c.out, c.in)
			}
			if _, _, ok, _ := r.Next(); ok {
				t.Fatal("a second submessage appeared")
			}
			// Every truncation must fail cleanly, never panic.
			for n := 0; n < len(body); n++ {
				if c.kind == INFO_TS && c.in.(*InfoTS).Invalidate {
					break
				}
				if c.kind == DATA_FRAG && n >= len(body)-3 {
					break // only the submessage padding is missing
				}
				if c.kind == DATA && n >= dataFixed && c.in.(*Data).InlineQoS == nil {
					break // a shorter payload is still a valid DATA
				}
				if err := c.out.Unmarshal(sh, body[:n]); err == nil && c.kind != DATA {
					t.Fatalf("truncated to %d of %d bytes: no error", n, len(body))
				}
			}
		})
	}
}

func TestDataPadding(t *testing.T) {
	// A 7-byte payload is padded to 8 and the options say so.
	b := (&Data{WriterID: testWriter, SN: 1, Payload: []byte{0, 1, 0, 0, 7, 8, 9}}).Append(nil)
	var d Data
	if err := d.Unmarshal(SubmessageHeader{Kind: DATA, Flags: b[1]}, b[4:]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Payload, []byte{0, 1, 0, 1, 7, 8, 9, 0}) || PayloadPadding(d.Payload) != 1 {
		t.Fatalf("payload %x, padding %d", d.Payload, PayloadPadding(d.Payload))
	}
	if PayloadPadding([]byte{0, 1, 0, 3, 1}) != 0 {
		t.Fatal("padding longer than the body accepted")
	}
}

func TestSNSetBits(t *testing.T) {
	s := SequenceNumberSet{Base: 100}
	s.Set(100)
	s.Set(131)
	s.Set(132)
	if !s.Has(100) || !s.Has(131) || !s.Has(132) || s.Has(101) || s.Has(99) || s.Has(133) {
		t.Fatalf("set %+v", s)
	}
	if s.NumBits != 33 || s.Bitmap[0] != 0x80000001 || s.Bitmap[1] != 0x80000000 {
		t.Fatalf("bitmap %+v: want numBits 33, words 80000001 80000000", s)
	}
}

func TestBigEndianHeartbeat(t *testing.T) {
	// A HEARTBEAT written big endian (E flag clear), as some vendors do.
	body := []byte{
		0, 0, 0, 0, 0, 0, 1, 3, // reader, writer
		0, 0, 0, 0, 0, 0, 0, 2, // first 2
		0, 0, 0, 1, 0, 0, 0, 5, // last 2^32+5
		0, 0, 0, 7, // count
	}
	var hb Heartbeat
	if err := hb.Unmarshal(SubmessageHeader{Kind: HEARTBEAT, Flags: HeartbeatFlagF}, body); err != nil {
		t.Fatal(err)
	}
	if hb.FirstSN != 2 || hb.LastSN != 1<<32+5 || hb.Count != 7 || !hb.Final {
		t.Fatalf("got %+v", hb)
	}
}

func TestInvalidSubmessages(t *testing.T) {
	var hb Heartbeat
	bad := (&Heartbeat{FirstSN: 5, LastSN: 2}).Append(nil)[4:]
	if err := hb.Unmarshal(SubmessageHeader{Flags: FlagE}, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("last < first-1: %v", err)
	}
	var an AckNack
	b := (&AckNack{State: SequenceNumberSet{Base: 1}}).Append(nil)[4:]
	b[16] = 0xff // numBits 255+ → 0x1ff > 256
	b[17] = 0x01
	if err := an.Unmarshal(SubmessageHeader{Flags: FlagE}, b); !errors.Is(err, ErrInvalid) {
		t.Fatalf("numBits > 256: %v", err)
	}
	var df DataFrag
	b = (&DataFrag{FragmentStart: 3, FragmentsInSubmessage: 2, FragmentSize: 4, SampleSize: 10, Payload: make([]byte, 8)}).Append(nil)[4:]
	if err := df.Unmarshal(SubmessageHeader{Flags: FlagE}, b); !errors.Is(err, ErrInvalid) {
		t.Fatalf("fragments beyond the sample: %v", err)
	}
	var h Header
	if err := h.Unmarshal([]byte("RTPX\x02\x01\x01\x10xxxxxxxxxxxx")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad magic: %v", err)
	}
}

func TestReaderLengthZeroExtendsToEnd(t *testing.T) {
	h := Header{Version: ProtocolVersion24, Prefix: testPrefix}
	msg := (&InfoDst{Prefix: testPrefix}).Append(h.Append(nil))
	msg = (&Data{WriterID: testWriter, SN: 1, Payload: []byte{0, 1, 0, 0, 5, 6, 7, 8}}).Append(msg)
	// Zero the DATA's octetsToNextHeader: it then runs to the end.
	msg[HeaderSize+16+2], msg[HeaderSize+16+3] = 0, 0
	var r Reader
	if err := r.Reset(msg); err != nil {
		t.Fatal(err)
	}
	r.Next()
	sh, body, ok, err := r.Next()
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	var d Data
	if err := d.Unmarshal(sh, body); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Payload, []byte{0, 1, 0, 0, 5, 6, 7, 8}) {
		t.Fatalf("payload %x", d.Payload)
	}
}

func TestTimeConversion(t *testing.T) {
	now := time.Unix(1700000000, 123456789)
	rt := TimeFromGo(now)
	if d := rt.Go().Sub(now); d < -time.Nanosecond || d > time.Nanosecond {
		t.Fatalf("time round trip off by %v", d)
	}
	if got := DurationFromGo(20 * time.Second); got != (Time{Seconds: 20}) {
		t.Fatalf("20 s = %+v", got)
	}
	if got := DurationFromGo(100 * time.Millisecond).Duration(); got != 100*time.Millisecond {
		t.Fatalf("100 ms round trip = %v", got)
	}
}

func TestLocator(t *testing.T) {
	ap := netip.MustParseAddrPort("192.168.1.7:7411")
	l := LocatorFromAddrPort(ap)
	if l.Kind != LocatorKindUDPv4 || l.Address[12] != 192 || l.Address[15] != 7 {
		t.Fatalf("locator %+v", l)
	}
	got, ok := l.AddrPort()
	if !ok || got != ap {
		t.Fatalf("AddrPort %v %v", got, ok)
	}
	if _, ok := (Locator{Kind: 16, Port: 5}).AddrPort(); ok {
		t.Fatal("shared-memory locator (kind 16) accepted as UDP")
	}
}

func TestParticipantDataRoundTrip(t *testing.T) {
	in := ParticipantData{
		Version: ProtocolVersion24, Vendor: VendorRSSMD,
		GUID:             GUID{Prefix: testPrefix, Entity: EntityIDParticipant},
		DomainID:         7,
		HasDomainID:      true,
		DefaultUnicast:   []Locator{LocatorFromAddrPort(netip.MustParseAddrPort("127.0.0.1:9161"))},
		MetaUnicast:      []Locator{LocatorFromAddrPort(netip.MustParseAddrPort("127.0.0.1:9160"))},
		MetaMulticast:    []Locator{LocatorFromAddrPort(netip.MustParseAddrPort("239.255.0.1:9150"))},
		BuiltinEndpoints: DISC_BUILTIN_ENDPOINT_PARTICIPANT_ANNOUNCER | DISC_BUILTIN_ENDPOINT_SUBSCRIPTIONS_DETECTOR,
		LeaseDuration:    Time{Seconds: 20},
		UserData:         []byte("enclave=/;"),
		EntityName:       "rssmd",
	}
	var out ParticipantData
	if err := out.Unmarshal(in.Append(nil)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("\n got %+v\nwant %+v", out, in)
	}
}

func TestEndpointDataRoundTripAndDefaults(t *testing.T) {
	in := EndpointData{
		Version: ProtocolVersion24, Vendor: VendorRSSMD,
		GUID:        GUID{Prefix: testPrefix, Entity: testWriter},
		Participant: GUID{Prefix: testPrefix, Entity: EntityIDParticipant},
		Topic:       "rt/rssmd/latent", Type: "std_msgs::msg::dds_::Float32MultiArray_",
		Reliability: ReliableReliability, MaxBlockingTime: Time{Fraction: 1 << 30},
		Durability: TransientLocalDurability, History: KeepLastHistory, Depth: 10,
		UserData: []byte("typehash=RIHS01_0599f6f85b4bfca379873a0b4375a0aca022156bd2d7021275d116ed1fa8bfe0;"),
		Unicast:  []Locator{LocatorFromAddrPort(netip.MustParseAddrPort("10.0.0.2:7411"))},
	}
	var out EndpointData
	if err := out.Unmarshal(in.Append(nil), true); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("\n got %+v\nwant %+v", out, in)
	}
	// Only the required fields: a reader defaults to BEST_EFFORT, a writer
	// to RELIABLE.
	min := AppendSentinel(AppendStringParam(AppendStringParam(AppendGUIDParam([]byte{0, 3, 0, 0}, PID_ENDPOINT_GUID, in.GUID), PID_TOPIC_NAME, "t"), PID_TYPE_NAME, "T"))
	if err := out.Unmarshal(min, false); err != nil || out.Reliability != BestEffortReliability || out.Durability != VolatileDurability || out.Depth != 1 {
		t.Fatalf("reader defaults %+v %v", out, err)
	}
	if err := out.Unmarshal(min, true); err != nil || out.Reliability != ReliableReliability {
		t.Fatalf("writer defaults %+v %v", out, err)
	}
	// An unknown must-understand parameter invalidates the data; an unknown
	// vendor-specific one does not.
	mu := AppendSentinel(AppendUint32Param(min[:len(min)-4:len(min)-4], 0x4099, 1))
	if err := out.Unmarshal(mu, true); !errors.Is(err, ErrInvalid) {
		t.Fatalf("must-understand: %v", err)
	}
	vs := AppendSentinel(AppendUint32Param(min[:len(min)-4:len(min)-4], 0xc099, 1))
	if err := out.Unmarshal(vs, true); err != nil {
		t.Fatalf("vendor-specific: %v", err)
	}
}

func TestInlineQoS(t *testing.T) {
	rel := SampleIdentity{Writer: GUID{Prefix: testPrefix, Entity: testWriter}, SN: 1<<32 + 3}
	b := AppendSampleIdentityParam(nil, PID_FASTDDS_RELATED_SAMPLE_IDENTITY, rel)
	b = AppendParam(b, PID_STATUS_INFO, []byte{0, 0, 0, StatusInfoDisposed | StatusInfoUnregistered})
	b = AppendGUIDParam(b, PID_KEY_HASH, rel.Writer)
	b = AppendSentinel(b)
	info, err := ParseInlineQoS(b, true, VendorEProsima)
	if err != nil {
		t.Fatal(err)
	}
	if !info.HasRelated || info.Related != rel || info.StatusInfo != 3 || !info.HasKeyHash || info.KeyHash != rel.Writer.Bytes() {
		t.Fatalf("got %+v", info)
	}
	// Vendor-specific 0x800f from Cyclone means nothing to us.
	if info, _ := ParseInlineQoS(b, true, VendorCycloneDD); info.HasRelated {
		t.Fatal("0x800f from Cyclone taken as related sample identity")
	}
}

// TestCycloneSPDP decodes an SPDP announcement captured from Cyclone DDS
// 0.10.2 ddsperf in a network namespace with only loopback.
func TestCycloneSPDP(t *testing.T) {
	msg, err := os.ReadFile("testdata/cyclone_spdp.bin")
	if err != nil {
		t.Fatal(err)
	}
	var r Reader
	if err := r.Reset(msg); err != nil {
		t.Fatal(err)
	}
	if r.Header.Vendor != VendorCycloneDD || r.Header.Version != (ProtocolVersion{2, 1}) {
		t.Fatalf("header %+v", r.Header)
	}
	var kinds []SubmessageKind
	var pd ParticipantData
	for {
		sh, body, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		kinds = append(kinds, sh.Kind)
		if sh.Kind == DATA {
			var d Data
			if err := d.Unmarshal(sh, body); err != nil {
				t.Fatal(err)
			}
			if d.WriterID != EntityIDSPDPBuiltinParticipantAnnouncer || d.SN != 1 {
				t.Fatalf("DATA %+v", d)
			}
			if err := pd.Unmarshal(d.Payload); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !reflect.DeepEqual(kinds, []SubmessageKind{INFO_TS, DATA}) {
		t.Fatalf("submessages %v", kinds)
	}
	want := netip.MustParseAddrPort("127.0.0.1:59309")
	if pd.Vendor != VendorCycloneDD || pd.GUID.Prefix != r.Header.Prefix || pd.GUID.Entity != EntityIDParticipant ||
		pd.LeaseDuration != (Time{Seconds: 10}) || pd.BuiltinEndpoints != 0xfc3f || !pd.HasDomainID || pd.DomainID != 0 ||
		len(pd.MetaUnicast) != 1 || len(pd.DefaultUnicast) != 1 || !bytes.HasPrefix(pd.UserData, []byte("DDSPerf:0:")) {
		t.Fatalf("participant data %+v", pd)
	}
	if ap, _ := pd.DefaultUnicast[0].AddrPort(); ap != want {
		t.Fatalf("default unicast %v, want %v", ap, want)
	}
	if ap, _ := pd.MetaMulticast[0].AddrPort(); ap != netip.MustParseAddrPort("239.255.0.1:7400") {
		t.Fatalf("metatraffic multicast %v", ap)
	}
	if pd.EntityName != "" {
		t.Fatalf("entity name %q: Cyclone sends its name vendor-specific (0x8007), not PID_ENTITY_NAME", pd.EntityName)
	}
}
