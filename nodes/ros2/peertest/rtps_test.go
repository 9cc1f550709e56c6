package peertest

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/cdr"
	"github.com/rssmd/rssmd/nodes/ros2/msg"
	"github.com/rssmd/rssmd/nodes/ros2/rtps"
)

// goParticipant starts rssmd's RTPS participant in the test's namespace (domain 0, lo only).
func goParticipant(t *testing.T) *rtps.Participant {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("RTPS_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := rtps.NewParticipant(context.Background(), rtps.Config{DomainID: 0, Range: rtps.Localhost,
		UserData: []byte("enclave=/;"), Name: "peertest", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func qos(reliable bool, depth int) rtps.QoS {
	q := rtps.QoS{Reliability: rtps.BestEffort, Depth: depth}
	if reliable {
		q.Reliability = rtps.Reliable
	}
	return q
}

var goImpl = Impl{Name: "go-rtps"}

func typeName(typ string) string {
	if typ == "image" {
		return (&msg.Image{}).Type().DDSName
	}
	return (&msg.Float32MultiArray{}).Type().DDSName
}

// goPayload is sample k of typ as `pub` would send it, stamped ts.
func goPayload(typ string, k int64, ts time.Time) ([]byte, Event) {
	ev := Event{Ev: "sent", K: k, SrcNs: ts.UnixNano()}
	if typ == "image" {
		data := Pattern(640, 480, 3, k)
		m := msg.Image{Header: msg.Header{Stamp: msg.TimeOf(ts), FrameID: "camera"}, Height: 480, Width: 640,
			Encoding: "rgb8", Step: 1920, Data: data}
		ev.StampNs, ev.FNV1a = ts.UnixNano(), FNV1a(data)
		return msg.Encode(nil, &m), ev
	}
	n := uint32(len(testValues))
	m := msg.Float32MultiArray{Layout: msg.MultiArrayLayout{Dim: []msg.MultiArrayDimension{{Label: "x", Size: n, Stride: n}}},
		Data: testValues}
	return msg.Encode(nil, &m), ev
}

// sampleEvent decodes a sample the Go reader received into the Event a peer would print.
func sampleEvent(t *testing.T, typ string, s rtps.Sample) Event {
	t.Helper()
	ev := Event{Ev: "sample", SrcNs: s.SourceTime.UnixNano()}
	if typ == "image" {
		var m msg.Image
		if err := msg.Decode(s.Data, &m); err != nil {
			t.Fatalf("sample %d from %v: %v", s.Seq, s.Writer, err)
		}
		ev.StampNs = m.Header.Stamp.Time().UnixNano()
		ev.FrameID, ev.Width, ev.Height, ev.Encoding, ev.Step = m.Header.FrameID, m.Width, m.Height, m.Encoding, m.Step
		ev.Size, ev.FNV1a = len(m.Data), FNV1a(m.Data)
		return ev
	}
	var m msg.Float32MultiArray
	if err := msg.Decode(s.Data, &m); err != nil {
		t.Fatalf("sample %d from %v: %v", s.Seq, s.Writer, err)
	}
	for _, d := range m.Layout.Dim {
		ev.Dims = append(ev.Dims, Dim{d.Label, d.Size, d.Stride})
	}
	for _, v := range m.Data {
		ev.Values = append(ev.Values, Float(v))
	}
	return ev
}

// sampleSink collects a Go reader's samples (copied: Data is only valid in the callback).
type sampleSink struct {
	mu      sync.Mutex
	samples []rtps.Sample
	ch      chan struct{}
}

func newSink() *sampleSink { return &sampleSink{ch: make(chan struct{}, 1<<16)} }

func (s *sampleSink) on(x rtps.Sample) {
	x.Data = append([]byte(nil), x.Data...)
	if x.RelatedSampleIdentity != nil {
		r := *x.RelatedSampleIdentity
		x.RelatedSampleIdentity = &r
	}
	s.mu.Lock()
	s.samples = append(s.samples, x)
	s.mu.Unlock()
	s.ch <- struct{}{}
}

// wait returns the samples once n arrived or timeout passed.
func (s *sampleSink) wait(n int, timeout time.Duration) []rtps.Sample {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got := len(s.samples)
		s.mu.Unlock()
		if got >= n {
			break
		}
		select {
		case <-s.ch:
		case <-deadline:
			s.mu.Lock()
			defer s.mu.Unlock()
			return append([]rtps.Sample(nil), s.samples...)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rtps.Sample(nil), s.samples...)
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

var vendorOf = map[string][2]byte{"cyclone": {0x01, 0x10}, "fastdds": {0x01, 0x0f}}

// A Go rtps.Writer publishes to each peer's sub: small messages and a fragmented 640x480 image,
// reliable and best effort; the peer prints exactly what was sent.
func TestRTPSWriterToPeers(t *testing.T) {
	peers := setup(t)
	for _, im := range peers.Impls() {
		for _, typ := range []string{"float32multiarray", "image"} {
			for _, rel := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/%s", im.Name, typ, reliabilityArg(rel)), func(t *testing.T) {
					f := flow{from: goImpl, to: im, typ: typ, reliable: rel, count: 20, rate: 20}
					if typ == "image" {
						f.count, f.rate = 10, 10
					}
					topicSeq++
					topic := fmt.Sprintf("rt/peertest/g%d_%s", topicSeq, typ)
					sub := Start(t, im.Path, "sub", "--topic", topic, "--type", typ, "--reliability", reliabilityArg(rel),
						"--count", strconv.Itoa(f.count), "--timeout", "40")
					sub.Next("ready", 10*time.Second)
					p := goParticipant(t)
					w, err := p.NewWriter(rtps.WriterConfig{Topic: topic, TypeName: typeName(typ), QoS: qos(rel, 10)})
					if err != nil {
						t.Fatal(err)
					}
					sub.Next("matched", 10*time.Second)
					d := waitFor(t, "Go writer matched "+im.Name+"'s reader", 10*time.Second, func() bool { return w.Matched() > 0 })
					t.Logf("matched (Go side) %v after the peer's match", d)
					time.Sleep(syncDelay(goImpl, false))
					var sent []Event
					tick := time.NewTicker(time.Duration(float64(time.Second) / f.rate))
					for k := int64(0); k < int64(f.count); k++ {
						<-tick.C
						now := time.Now()
						b, ev := goPayload(typ, k, now)
						if _, err := w.Write(b, now); err != nil {
							t.Fatal(err)
						}
						sent = append(sent, ev)
					}
					tick.Stop()
					wait := 10 * time.Second
					if !rel {
						wait = 2 * time.Second
					}
					got := sub.Collect("sample", wait)
					f.check(t, sent, got)
					min := f.count
					if !rel {
						min = f.count - 2
					}
					if len(got) < min {
						t.Fatalf("%s received %d of %d samples from the Go writer, want at least %d; missing k %v", im.Name, len(got), f.count, min, missing(sent, got))
					}
				})
			}
		}
	}
}

// Each peer's pub reaches a Go rtps.Reader, which decodes exactly what was sent and sees the
// peer's vendor id.
func TestRTPSPeersToReader(t *testing.T) {
	peers := setup(t)
	for _, im := range peers.Impls() {
		for _, typ := range []string{"float32multiarray", "image"} {
			for _, rel := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/%s", im.Name, typ, reliabilityArg(rel)), func(t *testing.T) {
					f := flow{from: im, to: goImpl, typ: typ, reliable: rel, count: 20, rate: 20}
					if typ == "image" {
						f.count, f.rate = 10, 10
					}
					topicSeq++
					topic := fmt.Sprintf("rt/peertest/r%d_%s", topicSeq, typ)
					p := goParticipant(t)
					sink := newSink()
					r, err := p.NewReader(rtps.ReaderConfig{Topic: topic, TypeName: typeName(typ), QoS: qos(rel, 10), OnSample: sink.on})
					if err != nil {
						t.Fatal(err)
					}
					args := []string{"pub", "--topic", topic, "--type", typ, "--reliability", reliabilityArg(rel), "--count", strconv.Itoa(f.count),
						"--rate", fmt.Sprint(f.rate), "--wait-readers", "1", "--go-on-stdin", "--timeout", "30", "--linger", "10"}
					if typ == "image" {
						args = append(args, "--width", "640", "--height", "480", "--encoding", "rgb8")
					} else {
						args = append(args, "--values", valuesArg())
					}
					pub := Start(t, im.Path, args...)
					waitFor(t, "Go reader matched "+im.Name+"'s writer", 10*time.Second, func() bool { return r.Matched() > 0 })
					time.Sleep(syncDelay(im, false))
					pub.Go()
					sent := pub.Collect("sent", 30*time.Second)
					if err := pub.Wait(15 * time.Second); err != nil {
						t.Fatal(err)
					}
					wait := 5 * time.Second
					if !rel {
						wait = time.Second
					}
					samples := sink.wait(f.count, wait)
					var got []Event
					for _, s := range samples {
						if s.VendorID != vendorOf[im.Name] {
							t.Fatalf("sample from %s has vendor id %x, want %x", im.Name, s.VendorID, vendorOf[im.Name])
						}
						got = append(got, sampleEvent(t, typ, s))
					}
					f.check(t, sent, got)
					min := f.count
					if !rel {
						min = f.count - 2
					}
					if len(got) < min {
						st := p.Stats()
						t.Fatalf("Go reader received %d of %d samples from %s, want at least %d; missing k %v; Go participant: %d lost, %d dropped (queue full)",
							len(got), f.count, im.Name, min, missing(sent, got), st.SamplesLost, st.SamplesDroppedSlow)
					}
				})
			}
		}
	}
}

// With 10% of packets dropped for 30 s, reliable topics lose nothing in either direction:
// a Go writer (ROS default depth 10) to both peers, and both peers' writers to Go readers.
// The peers' writers keep 200 samples: Fast DDS repairs once per 3 s heartbeat (see
// TestPeersInteropUnderLoss).
func TestRTPSReliableUnderLoss(t *testing.T) {
	peers := setup(t)
	if testing.Short() {
		t.Skip("-short: a 30 s soak (runs in the full test)")
	}
	how := SetLoss(t, 10)
	const rate, dur = 20, 30 * time.Second
	n := int(rate * dur / time.Second)
	p := goParticipant(t)
	topic := "rt/peertest/soak_go"
	var subs []*Proc
	for _, im := range peers.Impls() {
		// No count: the subscriber also sees the warm-up samples below, and ends on its timeout.
		subs = append(subs, Start(t, im.Path, "sub", "--topic", topic, "--count", "1000000", "--timeout", "60"))
	}
	w, err := p.NewWriter(rtps.WriterConfig{Topic: topic, TypeName: typeName("float32multiarray"), QoS: qos(true, 10)})
	if err != nil {
		t.Fatal(err)
	}
	var sinks []*sampleSink
	var pubs []*Proc
	var readers []*rtps.Reader
	for _, im := range peers.Impls() {
		sink := newSink()
		tp := "rt/peertest/soak_" + im.Name
		// Depth 200 like the writers: a gap repaired after a 3 s Fast DDS heartbeat releases
		// ~60 samples at once, more than a KEEP_LAST(10) reader holds (DDS readers too).
		r, err := p.NewReader(rtps.ReaderConfig{Topic: tp, TypeName: typeName("float32multiarray"), QoS: qos(true, 200), OnSample: sink.on})
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, r)
		sinks = append(sinks, sink)
		pubs = append(pubs, Start(t, im.Path, "pub", "--topic", tp, "--values", valuesArg(), "--count", strconv.Itoa(n),
			"--rate", strconv.Itoa(rate), "--depth", "200", "--wait-readers", "1", "--go-on-stdin", "--timeout", "90", "--linger", "20"))
	}
	waitFor(t, "Go writer matched both peers", 20*time.Second, func() bool { return w.Matched() >= 2 })
	for _, s := range subs {
		s.Next("matched", 20*time.Second)
	}
	for i, r := range readers {
		waitFor(t, "Go reader matched "+peers.Impls()[i].Name, 20*time.Second, func() bool { return r.Matched() > 0 })
	}
	time.Sleep(syncDelay(Impl{Name: "fastdds"}, true))
	for _, pub := range pubs {
		pub.Go()
	}
	// A volatile reliable reader owes nothing sent before it synchronised with the writer
	// (Cyclone starts at the first HEARTBEAT it hears, which 10% loss can delay past sample 1):
	// warm up until every peer has received something, then count.
	tick := time.NewTicker(time.Second / rate)
	warm := make(chan struct{})
	go func() {
		for _, s := range subs {
			s.Next("sample", 30*time.Second)
		}
		close(warm)
	}()
warmup:
	for k := int64(-1); ; k-- {
		select {
		case <-warm:
			break warmup
		case <-tick.C:
			b, _ := goPayload("float32multiarray", k, time.Now())
			if _, err := w.Write(b, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	var sent []Event
	for k := int64(0); k < int64(n); k++ {
		<-tick.C
		now := time.Now()
		b, ev := goPayload("float32multiarray", k, now)
		if _, err := w.Write(b, now); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, ev)
	}
	tick.Stop()
	for i, im := range peers.Impls() {
		var got []Event
		for _, e := range subs[i].Collect("sample", 70*time.Second) {
			if e.SrcNs >= sent[0].SrcNs-1000 { // the counted samples, not the warm-up
				got = append(got, e)
			}
		}
		if len(got) != n {
			t.Errorf("Go writer -> %s under 10%% loss (%s): %d of %d samples arrived; missing k %v", im.Name, how, len(got), n, missing(sent, got))
		}
		(flow{from: goImpl, to: im, typ: "float32multiarray"}).check(t, sent, got)
		psent := pubs[i].Collect("sent", 60*time.Second)
		if err := pubs[i].Wait(30 * time.Second); err != nil {
			t.Fatal(err)
		}
		samples := sinks[i].wait(n, 10*time.Second)
		var gotr []Event
		for _, s := range samples {
			gotr = append(gotr, sampleEvent(t, "float32multiarray", s))
		}
		if len(gotr) != n || len(psent) != n {
			st := p.Stats()
			t.Errorf("%s writer -> Go reader under 10%% loss: %d of %d samples arrived (%d sent); missing k %v; Go participant: %d lost (writer no longer had them), %d dropped (callback queue full)",
				im.Name, len(gotr), n, len(psent), missing(psent, gotr), st.SamplesLost, st.SamplesDroppedSlow)
		}
		(flow{from: im, to: goImpl, typ: "float32multiarray"}).check(t, psent, gotr)
	}
}

// A late joiner is matched within 2 s both ways: a peer started next to a running Go writer,
// and a Go participant started next to a running peer writer.
func TestRTPSLateJoiner(t *testing.T) {
	peers := setup(t)
	for _, im := range peers.Impls() {
		t.Run(im.Name+"_joins_go", func(t *testing.T) {
			p := goParticipant(t)
			topic := "rt/peertest/late_" + im.Name
			if _, err := p.NewWriter(rtps.WriterConfig{Topic: topic, TypeName: typeName("float32multiarray"), QoS: qos(true, 10)}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * time.Second) // past the Go participant's first announcements
			sub := Start(t, im.Path, "sub", "--topic", topic, "--timeout", "20")
			ready := sub.Next("ready", 10*time.Second)
			m := sub.Next("matched", 10*time.Second)
			d := time.Duration(m.TNs - ready.TNs)
			t.Logf("%s matched the Go writer %v after its participant was up", im.Name, d)
			if d > 2*time.Second {
				t.Fatalf("%s matched the Go writer after %v, want within 2 s", im.Name, d)
			}
		})
		t.Run("go_joins_"+im.Name, func(t *testing.T) {
			topic := "rt/peertest/late2_" + im.Name
			pub := Start(t, im.Path, "pub", "--topic", topic, "--values", "1", "--count", "0", "--rate", "5", "--timeout", "30")
			pub.Next("ready", 10*time.Second)
			time.Sleep(3 * time.Second)
			p := goParticipant(t)
			r, err := p.NewReader(rtps.ReaderConfig{Topic: topic, TypeName: typeName("float32multiarray"), QoS: qos(true, 10), OnSample: func(rtps.Sample) {}})
			if err != nil {
				t.Fatal(err)
			}
			d := waitFor(t, "Go reader matched "+im.Name+"'s running writer", 10*time.Second, func() bool { return r.Matched() > 0 })
			t.Logf("Go reader matched %s's writer %v after starting", im.Name, d)
			if d > 2*time.Second {
				t.Fatalf("Go reader matched %s's writer after %v, want within 2 s", im.Name, d)
			}
		})
	}
}

// A peer killed with SIGKILL (no goodbye) is dropped after its lease: Cyclone announces 10 s,
// Fast DDS 20 s, and it announces every few seconds, so the drop comes between lease-5 s and
// lease+3 s after the kill.
func TestRTPSLeaseExpiry(t *testing.T) {
	peers := setup(t)
	if testing.Short() {
		t.Skip("-short: waits for 10 s and 20 s leases (runs in the full test)")
	}
	lease := map[string]time.Duration{"cyclone": 10 * time.Second, "fastdds": 20 * time.Second}
	for _, im := range peers.Impls() {
		t.Run(im.Name, func(t *testing.T) {
			t.Parallel()
			topic := "rt/peertest/lease_" + im.Name
			p := goParticipant(t)
			r, err := p.NewReader(rtps.ReaderConfig{Topic: topic, TypeName: typeName("float32multiarray"), QoS: qos(true, 10), OnSample: func(rtps.Sample) {}})
			if err != nil {
				t.Fatal(err)
			}
			pub := Start(t, im.Path, "pub", "--topic", topic, "--values", "1", "--count", "0", "--rate", "5", "--timeout", "60")
			waitFor(t, "Go reader matched "+im.Name, 10*time.Second, func() bool { return r.Matched() > 0 })
			time.Sleep(time.Second)
			pub.Kill()
			d := waitFor(t, "Go reader dropped the killed "+im.Name, lease[im.Name]+5*time.Second, func() bool { return r.Matched() == 0 })
			t.Logf("killed %s dropped %v after SIGKILL (lease %v)", im.Name, d, lease[im.Name])
			if d < lease[im.Name]-5*time.Second || d > lease[im.Name]+3*time.Second {
				t.Fatalf("killed %s dropped after %v, want within [lease-5 s, lease+3 s] of its %v lease", im.Name, d, lease[im.Name])
			}
		})
	}
}

// rssmd's side of std_srvs/Trigger, written here over rtps as README.md describes, answers
// each peer's call-trigger: Cyclone's request header is echoed in the payload, Fast DDS's
// request identity goes back as a related sample identity (PID 0x800f).
func TestRTPSTriggerServer(t *testing.T) {
	peers := setup(t)
	for _, im := range peers.Impls() {
		t.Run(im.Name, func(t *testing.T) {
			p := goParticipant(t)
			svc := "/peertest/go_reset_" + im.Name
			w, err := p.NewWriter(rtps.WriterConfig{Topic: "rr" + svc + "Reply", TypeName: (&msg.TriggerResponse{}).Type().DDSName, QoS: qos(true, 10)})
			if err != nil {
				t.Fatal(err)
			}
			type req struct {
				s       rtps.Sample
				guid    uint64
				seq     int64
				decoded error
			}
			reqs := make(chan req, 10)
			_, err = p.NewReader(rtps.ReaderConfig{Topic: "rq" + svc + "Request", TypeName: (&msg.TriggerRequest{}).Type().DDSName, QoS: qos(true, 10),
				OnSample: func(s rtps.Sample) {
					var d cdr.Decoder
					rq := req{s: s}
					rq.decoded = d.Reset(s.Data)
					if s.VendorID == vendorOf["cyclone"] {
						rq.guid, rq.seq = d.Uint64(), d.Int64()
					}
					d.Uint8()
					if rq.decoded == nil {
						rq.decoded = d.Err()
					}
					var e cdr.Encoder
					e.Reset(nil)
					var params []rtps.Parameter
					if s.VendorID == vendorOf["cyclone"] {
						e.Uint64(rq.guid)
						e.Int64(rq.seq)
					} else {
						id := rtps.SampleIdentity{Writer: s.Writer, SN: s.Seq}
						if s.RelatedSampleIdentity != nil && s.RelatedSampleIdentity.Writer != (rtps.GUID{}) {
							id.Writer = s.RelatedSampleIdentity.Writer
						}
						params = append(params, rtps.RelatedSampleIdentity(id))
					}
					e.Bool(true)
					e.String("reset by go")
					// Reply only once the client's reply reader is matched (the peers wait
					// for both halves before asking, so this is quick).
					for i := 0; i < 200 && w.Matched() == 0; i++ {
						time.Sleep(10 * time.Millisecond)
					}
					if _, err := w.WriteWith(e.Finish(), time.Now(), params); err != nil {
						rq.decoded = err
					}
					reqs <- rq
				}})
			if err != nil {
				t.Fatal(err)
			}
			call := Start(t, im.Path, "call-trigger", "--service", svc, "--timeout", "20")
			sentReq := call.Next("request", 20*time.Second)
			var got req
			select {
			case got = <-reqs:
			case <-time.After(20 * time.Second):
				t.Fatalf("Go service saw no request from %s; stderr: %s", im.Name, call.Stderr())
			}
			if got.decoded != nil {
				t.Fatalf("request from %s: %v (payload % x)", im.Name, got.decoded, got.s.Data)
			}
			switch im.Name {
			case "cyclone":
				if fmt.Sprintf("%016x", got.guid) != sentReq.ClientGUID || got.seq != 1 {
					t.Fatalf("Cyclone request header %016x/%d, client sent %s/1", got.guid, got.seq, sentReq.ClientGUID)
				}
			case "fastdds":
				wg := got.s.Writer.Bytes()
				if hex.EncodeToString(wg[:]) != sentReq.WriterGUID || int64(got.s.Seq) != sentReq.Seq {
					t.Fatalf("Fast DDS request from %x/%d, client says %s/%d", wg, got.s.Seq, sentReq.WriterGUID, sentReq.Seq)
				}
				if got.s.RelatedSampleIdentity == nil {
					t.Fatalf("Fast DDS request carried no related sample identity (its reply reader %s)", sentReq.ReplyReaderGUID)
				}
				rg := got.s.RelatedSampleIdentity.Writer.Bytes()
				if hex.EncodeToString(rg[:]) != sentReq.ReplyReaderGUID {
					t.Fatalf("Fast DDS request's related identity names %x, client's reply reader is %s", rg, sentReq.ReplyReaderGUID)
				}
			}
			rep := call.Next("reply", 20*time.Second)
			if !rep.Success || rep.Message != "reset by go" {
				t.Fatalf("%s got reply success=%v %q", im.Name, rep.Success, rep.Message)
			}
			if err := call.Wait(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s call-trigger -> Go service round trip %.2f ms", im.Name, float64(rep.LatencyNs)/1e6)
		})
	}
}
