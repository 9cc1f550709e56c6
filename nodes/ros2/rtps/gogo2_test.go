package rtps

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// lossy drops a fraction of outgoing datagrams (deterministic seed).
func lossy(frac float64, seed uint64) func() bool {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed+1))
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64() < frac
	}
}

func pair(t *testing.T, ca, cb func(*Config)) (*Participant, *Participant) {
	d := testDomain()
	c1, c2 := localConfig(t, d), localConfig(t, d)
	if ca != nil {
		ca(&c1)
	}
	if cb != nil {
		cb(&c2)
	}
	return newTestParticipant(t, c1), newTestParticipant(t, c2)
}

const testType = "sensor_msgs::msg::dds_::Image_"

func TestReliableWithLoss(t *testing.T) {
	drop := func(c *Config) { c.dropOutgoing = lossy(0.2, 7) }
	a, b := pair(t, drop, func(c *Config) { c.dropOutgoing = lossy(0.2, 9) })
	q := QoS{Reliability: Reliable, Depth: 1000}
	w, err := a.NewWriter(WriterConfig{Topic: "rt/lossy", TypeName: testType, QoS: q})
	if err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	r, err := b.NewReader(ReaderConfig{Topic: "rt/lossy", TypeName: testType, QoS: q, OnSample: col.on})
	if err != nil {
		t.Fatal(err)
	}
	waitMatched(t, "writer", w.Matched, 1, 10*time.Second)
	waitMatched(t, "reader", r.Matched, 1, 10*time.Second)
	const n = 300
	for i := 0; i < n; i++ {
		if _, err := w.Write(payload(i, 64), time.Now()); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	got := col.wait(t, n, 20*time.Second)
	for i, s := range got {
		if s.Seq != SequenceNumber(i+1) || !bytes.Equal(s.Data, payload(i, 64)) {
			t.Fatalf("sample %d: seq %d (in order, none lost, no duplicate expected)", i, s.Seq)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if len(col.samples) != n {
		t.Fatalf("%d samples delivered, want exactly %d", len(col.samples), n)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.DatagramsDropped == 0 || sa.SamplesResent == 0 || sb.AckNacksSent == 0 {
		t.Fatalf("loss not exercised: writer %+v reader %+v", sa, sb)
	}
	t.Logf("dropped %d+%d datagrams, resent %d samples, %d gaps", sa.DatagramsDropped, sb.DatagramsDropped, sa.SamplesResent, sa.GapsSent)
}

func TestFragmentedImages(t *testing.T) {
	for _, tc := range []struct {
		name string
		rel  Reliability
		loss float64
	}{{"best_effort", BestEffort, 0}, {"reliable", Reliable, 0}, {"reliable_lossy", Reliable, 0.05}} {
		t.Run(tc.name, func(t *testing.T) {
			var drop func(*Config)
			if tc.loss > 0 {
				drop = func(c *Config) { c.dropOutgoing = lossy(tc.loss, 3) }
			}
			a, b := pair(t, drop, nil)
			q := QoS{Reliability: tc.rel, Depth: 4}
			w, err := a.NewWriter(WriterConfig{Topic: "rt/image", TypeName: testType, QoS: q})
			if err != nil {
				t.Fatal(err)
			}
			col := newCollector()
			r, err := b.NewReader(ReaderConfig{Topic: "rt/image", TypeName: testType, QoS: q, OnSample: col.on})
			if err != nil {
				t.Fatal(err)
			}
			waitMatched(t, "writer", w.Matched, 1, 10*time.Second)
			waitMatched(t, "reader", r.Matched, 1, 10*time.Second)
			const size = 921600 + 60 // 640x480 rgb8 plus a header
			const n = 3
			for i := 0; i < n; i++ {
				if _, err := w.Write(payload(i, size), time.Now()); err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond) // let a best-effort receiver keep up
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("writer stats %+v", a.Stats())
					t.Logf("reader stats %+v", b.Stats())
				}
			})
			got := col.wait(t, n, 20*time.Second)
			for i, s := range got {
				if !bytes.Equal(s.Data, payload(int(s.Seq)-1, size)) {
					t.Fatalf("sample %d (seq %d) differs after reassembly", i, s.Seq)
				}
			}
			st := b.Stats()
			if st.FragmentsReceived < 116*n || st.ReassemblyBytes != 0 {
				t.Fatalf("fragments received %d (want >= %d), reassembly bytes left %d", st.FragmentsReceived, 116*n, st.ReassemblyBytes)
			}
			if tc.loss > 0 && b.Stats().NackFragsSent == 0 && b.Stats().AckNacksSent == 0 {
				t.Fatal("no NACK_FRAG/ACKNACK under loss")
			}
		})
	}
}

func TestReassemblyBounds(t *testing.T) {
	a, b := pair(t, nil, func(c *Config) { c.MaxSampleSize = 100000 })
	q := QoS{Reliability: BestEffort, Depth: 4}
	w, _ := a.NewWriter(WriterConfig{Topic: "rt/big", TypeName: testType, QoS: q})
	col := newCollector()
	r, _ := b.NewReader(ReaderConfig{Topic: "rt/big", TypeName: testType, QoS: q, OnSample: col.on})
	waitMatched(t, "writer", w.Matched, 1, 10*time.Second)
	waitMatched(t, "reader", r.Matched, 1, 10*time.Second)
	w.Write(payload(0, 200000), time.Now()) // over MaxSampleSize: dropped
	w.Write(payload(1, 50000), time.Now())  // fragmented, within bounds
	got := col.wait(t, 1, 5*time.Second)
	if got[0].Seq != 2 || len(got[0].Data) != 50000 {
		t.Fatalf("got seq %d len %d", got[0].Seq, len(got[0].Data))
	}
	if st := b.Stats(); st.ReassemblyDropped == 0 || st.ReassemblyBytes != 0 {
		t.Fatalf("oversized sample: dropped %d, bytes held %d", st.ReassemblyDropped, st.ReassemblyBytes)
	}
}

func TestLateJoiningTransientLocalReader(t *testing.T) {
	a, b := pair(t, nil, nil)
	q := QoS{Reliability: Reliable, Durability: TransientLocal, Depth: 5}
	w, _ := a.NewWriter(WriterConfig{Topic: "rt/latched", TypeName: testType, QoS: q})
	// Written before any reader exists; depth 5 keeps the last five.
	for i := 0; i < 8; i++ {
		w.Write(payload(i, 32), time.Now())
	}
	time.Sleep(700 * time.Millisecond) // the participants discover each other meanwhile
	col := newCollector()
	r, err := b.NewReader(ReaderConfig{Topic: "rt/latched", TypeName: testType, QoS: q, OnSample: col.on})
	if err != nil {
		t.Fatal(err)
	}
	got := col.wait(t, 5, 5*time.Second)
	for i, s := range got {
		if s.Seq != SequenceNumber(4+i) || !bytes.Equal(s.Data, payload(3+i, 32)) {
			t.Fatalf("sample %d: seq %d, want %d", i, s.Seq, 4+i)
		}
	}
	// A volatile reader joining now gets nothing old, only new samples.
	col2 := newCollector()
	r2, _ := b.NewReader(ReaderConfig{Topic: "rt/latched", TypeName: testType, QoS: QoS{Reliability: Reliable, Depth: 5}, OnSample: col2.on})
	waitMatched(t, "volatile reader", r2.Matched, 1, 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	w.Write(payload(8, 32), time.Now())
	got2 := col2.wait(t, 1, 5*time.Second)
	if got2[0].Seq != 9 {
		t.Fatalf("volatile late joiner first got seq %d, want 9", got2[0].Seq)
	}
	_ = r
}

func TestLeaseExpiryRemovesParticipant(t *testing.T) {
	a, b := pair(t, nil, nil)
	q := QoS{Reliability: Reliable}
	w, _ := a.NewWriter(WriterConfig{Topic: "rt/lease", TypeName: testType, QoS: q})
	b.NewReader(ReaderConfig{Topic: "rt/lease", TypeName: testType, QoS: q})
	waitMatched(t, "writer", w.Matched, 1, 10*time.Second)
	// Silence b without its goodbye: drop everything it sends, as if the
	// host vanished. a must drop it after the 3 s lease.
	b.call(func() { b.conf.dropOutgoing = func() bool { return true } })
	start := time.Now()
	waitMatched(t, "writer after lease", func() int { return 1 - w.Matched() }, 1, 6*time.Second)
	if el := time.Since(start); el < 2*time.Second {
		t.Fatalf("unmatched after %v, before the 3 s lease could expire", el)
	}
	if st := a.Stats(); st.ParticipantsLost != 1 || st.ParticipantsCurrent != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCloseAnnouncesDeparture(t *testing.T) {
	a, b := pair(t, nil, nil)
	q := QoS{Reliability: Reliable}
	w, _ := a.NewWriter(WriterConfig{Topic: "rt/bye", TypeName: testType, QoS: q})
	b.NewReader(ReaderConfig{Topic: "rt/bye", TypeName: testType, QoS: q})
	waitMatched(t, "writer", w.Matched, 1, 10*time.Second)
	start := time.Now()
	b.Close()
	waitMatched(t, "writer after close", func() int { return 1 - w.Matched() }, 1, 2*time.Second)
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v: the dispose was not acted on", el)
	}
}

func TestQoSMismatchDoesNotMatch(t *testing.T) {
	cases := []struct {
		name string
		w, r QoS
		typ  string
		want int
	}{
		{"best effort writer, reliable reader", QoS{Reliability: BestEffort}, QoS{Reliability: Reliable}, testType, 0},
		{"volatile writer, transient-local reader", QoS{Reliability: Reliable}, QoS{Reliability: Reliable, Durability: TransientLocal}, testType, 0},
		{"other type", QoS{Reliability: Reliable}, QoS{Reliability: Reliable}, "other::Type_", 0},
		{"reliable writer, best effort reader", QoS{Reliability: Reliable}, QoS{Reliability: BestEffort}, testType, 1},
	}
	a, b := pair(t, nil, nil)
	for i, c := range cases {
		topic := "rt/qos" + string(rune('a'+i))
		w, _ := a.NewWriter(WriterConfig{Topic: topic, TypeName: testType, QoS: c.w})
		col := newCollector()
		r, _ := b.NewReader(ReaderConfig{Topic: topic, TypeName: c.typ, QoS: c.r, OnSample: col.on})
		if c.want == 1 {
			waitMatched(t, c.name, w.Matched, 1, 10*time.Second)
			w.Write(payload(1, 16), time.Now())
			col.wait(t, 1, 5*time.Second)
		}
		_ = r
	}
	// The positive case matched, so discovery of every endpoint is done.
	time.Sleep(300 * time.Millisecond)
	st := a.Stats()
	if st.EndpointsMatched != 1 {
		t.Fatalf("writer side matched %d endpoints, want 1 (only the compatible pair)", st.EndpointsMatched)
	}
	if st := b.Stats(); st.EndpointsMatched != 1 {
		t.Fatalf("reader side matched %d endpoints, want 1", st.EndpointsMatched)
	}
}

func TestRelatedSampleIdentityRoundTrip(t *testing.T) {
	a, b := pair(t, nil, nil)
	q := QoS{Reliability: Reliable}
	w, _ := a.NewWriter(WriterConfig{Topic: "rr/svcReply", TypeName: testType, QoS: q})
	col := newCollector()
	r, _ := b.NewReader(ReaderConfig{Topic: "rr/svcReply", TypeName: testType, QoS: q, OnSample: col.on})
	waitMatched(t, "reader", r.Matched, 1, 10*time.Second)
	waitMatched(t, "writer", w.Matched, 1, 10*time.Second)
	req := SampleIdentity{Writer: GUID{Prefix: GUIDPrefix{1, 2, 3}, Entity: EntityID{0, 0, 9, 3}}, SN: 42}
	w.WriteWith(payload(0, 12), time.Now(), []Parameter{RelatedSampleIdentity(req)})
	w.Write(payload(1, 12), time.Now())
	got := col.wait(t, 2, 5*time.Second)
	if got[0].RelatedSampleIdentity == nil || *got[0].RelatedSampleIdentity != req {
		t.Fatalf("related sample identity %+v, want %+v", got[0].RelatedSampleIdentity, req)
	}
	if got[1].RelatedSampleIdentity != nil {
		t.Fatal("inline QoS of the first write leaked into the second")
	}
}

// A slow callback: small samples queue beyond the depth (a repair burst
// must not be cut to the depth), large ones stop at the byte budget.
func TestSlowCallbackQueue(t *testing.T) {
	a, b := pair(t, nil, nil)
	q := QoS{Reliability: Reliable, Depth: 100}
	w, _ := a.NewWriter(WriterConfig{Topic: "rt/slow", TypeName: testType, QoS: q})
	release := make(chan struct{})
	col := newCollector()
	r, _ := b.NewReader(ReaderConfig{Topic: "rt/slow", TypeName: testType, QoS: QoS{Reliability: Reliable, Depth: 2},
		OnSample: func(s Sample) { <-release; col.on(s) }})
	waitMatched(t, "writer", w.Matched, 1, 10*time.Second)
	waitMatched(t, "reader", r.Matched, 1, 10*time.Second)
	for i := 0; i < 50; i++ {
		w.Write(payload(i, 100), time.Now())
	}
	time.Sleep(300 * time.Millisecond)
	for i := 0; i < 12; i++ {
		w.Write(payload(100+i, 1<<20), time.Now())
	}
	time.Sleep(time.Second)
	close(release)
	time.Sleep(500 * time.Millisecond)
	col.mu.Lock()
	got := len(col.samples)
	col.mu.Unlock()
	dropped := b.Stats().SamplesDroppedSlow
	// 50 small + 8 MiB of 1 MiB samples fit (the first of them may wait in
	// the callback itself).
	if got < 50+7 || got > 50+9 || int(dropped) != 62-got {
		t.Fatalf("delivered %d, dropped %d: want all 50 small and about 8 of the 12 large ones", got, dropped)
	}
}
