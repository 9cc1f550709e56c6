package peertest

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(InNetns(m)) }

// setup builds the peers and requires the private namespace.
func setup(t *testing.T) Peers {
	t.Helper()
	RequireNetns(t)
	p, _ := Build(t)
	return p
}

// peerOnly is setup for tests that exercise only the two peers (no Go RTPS code): -short runs
// (make test-race) leave them to the full run.
func peerOnly(t *testing.T) Peers {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: peer-to-peer interop runs in the full test")
	}
	// These prove the harness (Cyclone DDS and Fast DDS with each other; no rssmd code runs).
	// Their rare failures are the peers' own (Fast DDS 2.9's 3 s heartbeats, asymmetric
	// matching of volatile readers), so they run on demand, not in every CI run; the tests of
	// rssmd's RTPS against each peer (TestRTPS*, ../) always run.
	if os.Getenv("RSSMD_PEER_SELFTEST") == "" {
		t.Skip("peer-to-peer self-test of the harness: RSSMD_PEER_SELFTEST=1 (make test-peers) runs it")
	}
	RequireNetns(t)
	p, _ := Build(t)
	return p
}

// flow is one publisher -> subscriber run between two peers.
type flow struct {
	from, to Impl
	typ      string // float32multiarray or image
	reliable bool
	count    int
	rate     float64
	depth    int // KEEP_LAST depth of both ends; 0: the peers' default (10)
	lossy    bool
}

// syncDelay is how long a publisher waits after the subscriber's side matched before its first
// sample. A reliable volatile reader (Cyclone's, Fast DDS's, nodes/ros2/rtps's) starts at the
// first sample it sees or the first heartbeat; one sent before that may be skipped. Writers
// heartbeat right after matching, but under loss that heartbeat may be lost and Fast DDS only
// repeats it after its 3 s period.
func syncDelay(from Impl, lossy bool) time.Duration {
	if lossy && from.Name == "fastdds" {
		return 4 * time.Second
	}
	return time.Second
}

var testValues = []float32{0.1, -2.5, 3.0e-8, 1e30, 0, float32(math.Pi), -0.0, 65504}

func valuesArg() string {
	s := make([]string, len(testValues))
	for i, v := range testValues {
		s[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	return strings.Join(s, ",")
}

func reliabilityArg(r bool) string {
	if r {
		return "reliable"
	}
	return "best_effort"
}

var topicSeq int

// run publishes f.count samples from f.from to f.to and returns what was sent and received,
// plus the time from the subscriber's start to its first match.
func (f flow) run(t *testing.T) (sent, got []Event) {
	t.Helper()
	topicSeq++
	topic := fmt.Sprintf("rt/peertest/t%d_%s", topicSeq, f.typ)
	rel := reliabilityArg(f.reliable)
	// The publisher lingers until every sample is acknowledged (at most 20 s: Fast DDS repairs
	// once per 3 s heartbeat, a 900 KB image under loss can take a few rounds).
	budget := time.Duration(float64(f.count)/f.rate*float64(time.Second)) + 30*time.Second
	depth := "10"
	if f.depth > 0 {
		depth = strconv.Itoa(f.depth)
	}
	sub := Start(t, f.to.Path, "sub", "--topic", topic, "--type", f.typ, "--reliability", rel, "--depth", depth,
		"--count", strconv.Itoa(f.count), "--timeout", strconv.Itoa(int(budget.Seconds())))
	ready := sub.Next("ready", 10*time.Second)
	args := []string{"pub", "--topic", topic, "--type", f.typ, "--reliability", rel, "--depth", depth, "--count", strconv.Itoa(f.count),
		"--rate", fmt.Sprint(f.rate), "--wait-readers", "1", "--go-on-stdin", "--timeout", strconv.Itoa(int(budget.Seconds())), "--linger", "20"}
	if f.typ == "image" {
		args = append(args, "--width", "640", "--height", "480", "--encoding", "rgb8")
	} else {
		args = append(args, "--values", valuesArg())
	}
	pub := Start(t, f.from.Path, args...)
	m := sub.Next("matched", 15*time.Second)
	t.Logf("%s sub matched %s's writer %.0f ms after starting", f.to.Name, f.from.Name, float64(m.TNs-ready.TNs)/1e6)
	time.Sleep(syncDelay(f.from, f.lossy))
	pub.Go()
	sent = pub.Collect("sent", budget)
	if err := pub.Wait(25 * time.Second); err != nil {
		t.Fatal(err)
	}
	if len(sent) != f.count {
		t.Fatalf("%s pub sent %d samples, want %d", f.from.Name, len(sent), f.count)
	}
	wait := 5 * time.Second
	if !f.reliable {
		wait = 2 * time.Second
	}
	got = sub.Collect("sample", wait)
	sub.Stop()
	return sent, got
}

// match pairs each received sample with the sent one of the same source timestamp (RTPS
// timestamps have 2^-32 s resolution, so within 1 us) and checks its content.
func (f flow) check(t *testing.T, sent, got []Event) {
	t.Helper()
	next := 0
	for _, g := range got {
		i := next
		for i < len(sent) && abs(sent[i].SrcNs-g.SrcNs) > 1000 {
			i++
		}
		if i == len(sent) {
			t.Fatalf("received a sample with source time %d that was not sent after sample %d (out of order or invented)", g.SrcNs, next)
		}
		next = i + 1
		s := sent[i]
		switch f.typ {
		case "float32multiarray":
			if len(g.Values) != len(testValues) {
				t.Fatalf("sample %d: %d values, sent %d", s.K, len(g.Values), len(testValues))
			}
			for j, v := range g.Values {
				if math.Float32bits(float32(v)) != math.Float32bits(testValues[j]) && !(v == 0 && testValues[j] == 0) {
					t.Fatalf("sample %d value %d = %g, sent %g", s.K, j, v, testValues[j])
				}
			}
			if len(g.Dims) != 1 || g.Dims[0] != (Dim{"x", uint32(len(testValues)), uint32(len(testValues))}) {
				t.Fatalf("sample %d layout %+v", s.K, g.Dims)
			}
		case "image":
			want := FNV1a(Pattern(640, 480, 3, s.K))
			if s.FNV1a != want {
				t.Fatalf("%s sent sample %d with fnv1a %s, the pattern gives %s", f.from.Name, s.K, s.FNV1a, want)
			}
			if g.FNV1a != want || g.Size != 640*480*3 || g.Width != 640 || g.Height != 480 || g.Step != 1920 || g.Encoding != "rgb8" {
				t.Fatalf("sample %d received as %dx%d %s step %d size %d fnv1a %s, want 640x480 rgb8 step 1920 size 921600 fnv1a %s",
					s.K, g.Width, g.Height, g.Encoding, g.Step, g.Size, g.FNV1a, want)
			}
			if g.StampNs != s.StampNs || g.FrameID != "camera" {
				t.Fatalf("sample %d header stamp %d frame %q, sent %d \"camera\"", s.K, g.StampNs, g.FrameID, s.StampNs)
			}
		}
	}
}

// missing lists the k of each sent sample that was not received.
func missing(sent, got []Event) []int64 {
	var out []int64
	for _, s := range sent {
		found := false
		for _, g := range got {
			found = found || abs(s.SrcNs-g.SrcNs) <= 1000
		}
		if !found {
			out = append(out, s.K)
		}
	}
	return out
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func pairs(p Peers) [][2]Impl {
	c, f := p.Impls()[0], p.Impls()[1]
	return [][2]Impl{{c, f}, {f, c}}
}

// Cyclone -> Fast DDS and Fast DDS -> Cyclone on ROS-shaped topics: the IDL and both peers
// agree on the wire, for a small message and a fragmented 900 KB image.
func TestPeersInterop(t *testing.T) {
	p := peerOnly(t)
	for _, pr := range pairs(p) {
		for _, typ := range []string{"float32multiarray", "image"} {
			for _, rel := range []bool{true, false} {
				f := flow{from: pr[0], to: pr[1], typ: typ, reliable: rel, count: 20, rate: 20}
				if typ == "image" {
					f.count, f.rate = 10, 10
				}
				t.Run(fmt.Sprintf("%s_to_%s/%s/%s", pr[0].Name, pr[1].Name, typ, reliabilityArg(rel)), func(t *testing.T) {
					sent, got := f.run(t)
					f.check(t, sent, got)
					// Best effort on a clean loopback may miss a sample sent while the reader's
					// side is still matching; reliable may not.
					min := f.count
					if !rel {
						min = f.count - 2
					}
					if len(got) < min {
						t.Fatalf("received %d of %d samples, want at least %d; missing k %v", len(got), f.count, min, missing(sent, got))
					}
				})
			}
		}
	}
}

// The same flows with 10% of all packets dropped (discovery included): reliable topics lose
// nothing, best effort loses some (which also proves the loss is real).
//
// The reliable writers keep 250 samples (5 s at 50 Hz): Fast DDS heartbeats every 3 s by
// default, and a KEEP_LAST(10) writer at 50 Hz overwrites samples before a lossy link has
// repaired them (measured: fastdds -> cyclone delivered 50 of 100 with depth 10). That is DDS
// semantics, not a defect, and rssmd's readers will see the same from Fast DDS publishers.
func TestPeersInteropUnderLoss(t *testing.T) {
	p := peerOnly(t)
	how := SetLoss(t, 10)
	t.Logf("10%% loss on lo via %s", how)
	var beSent, beGot int
	for _, pr := range pairs(p) {
		for _, c := range []flow{
			{typ: "float32multiarray", reliable: true, count: 100, rate: 50, depth: 250},
			{typ: "float32multiarray", reliable: false, count: 100, rate: 50},
			{typ: "image", reliable: true, count: 10, rate: 5, depth: 20},
		} {
			f := c
			f.from, f.to, f.lossy = pr[0], pr[1], true
			t.Run(fmt.Sprintf("%s_to_%s/%s/%s", f.from.Name, f.to.Name, f.typ, reliabilityArg(f.reliable)), func(t *testing.T) {
				sent, got := f.run(t)
				f.check(t, sent, got)
				// Fast DDS 2.9.1 -> Cyclone 0.10.2 is the one pair that loses reliable samples
				// under loss, with the writer reporting them acknowledged: 0-13% in 4 of 6 runs,
				// while Fast DDS -> Fast DDS and Fast DDS -> nodes/ros2/rtps lose none. A defect
				// between the two DDSs, recorded here (README.md), not hidden.
				thirdParty := f.from.Name == "fastdds" && f.to.Name == "cyclone"
				if f.reliable && len(got) != f.count && !(thirdParty && len(got) >= f.count*8/10) {
					t.Fatalf("reliable under 10%% loss: received %d of %d; missing k %v", len(got), f.count, missing(sent, got))
				}
				if f.reliable && len(got) != f.count {
					t.Logf("known Fast DDS -> Cyclone defect: received %d of %d; missing k %v", len(got), f.count, missing(sent, got))
				}
				if !f.reliable {
					beSent += f.count
					beGot += len(got)
					if len(got) < f.count/2 {
						t.Fatalf("best effort under 10%% loss: received %d of %d", len(got), f.count)
					}
				}
				t.Logf("received %d of %d", len(got), f.count)
			})
		}
	}
	// Cyclone -> Fast DDS best effort loses less than 10% (measured: 82% delivered at 50% loss,
	// as if samples reached Fast DDS twice); the other direction shows the loss.
	if beGot >= beSent {
		t.Fatalf("best effort received all %d samples under 10%% loss: the loss is not applied", beSent)
	}
}

// serve-trigger and call-trigger of each peer follow their RMW's request/reply conventions
// (README.md): Cyclone's header is echoed, Fast DDS's reply names the client's reply reader.
func TestPeersTrigger(t *testing.T) {
	p := peerOnly(t)
	for _, loss := range []bool{false, true} {
		for _, im := range p.Impls() {
			name := im.Name
			if loss {
				name += "/loss10"
			}
			t.Run(name, func(t *testing.T) {
				if loss {
					SetLoss(t, 10)
				}
				svc := fmt.Sprintf("/peertest/reset_%s_%v", im.Name, loss)
				serve := Start(t, im.Path, "serve-trigger", "--service", svc, "--count", "1", "--message", "reset done", "--success", "true", "--timeout", "30")
				call := Start(t, im.Path, "call-trigger", "--service", svc, "--timeout", "30")
				req := call.Next("request", 30*time.Second)
				got := serve.Next("request", 30*time.Second)
				rep := call.Next("reply", 30*time.Second)
				if !rep.Success || rep.Message != "reset done" {
					t.Fatalf("reply success=%v message=%q, want true \"reset done\"", rep.Success, rep.Message)
				}
				switch im.Name {
				case "cyclone":
					if req.ClientGUID == "" || got.ClientGUID != req.ClientGUID || rep.ClientGUID != req.ClientGUID || got.Seq != 1 || rep.Seq != 1 {
						t.Fatalf("request header sent %s/1, server saw %s/%d, reply echoed %s/%d", req.ClientGUID, got.ClientGUID, got.Seq, rep.ClientGUID, rep.Seq)
					}
				case "fastdds":
					if got.WriterGUID != req.WriterGUID || got.Seq != req.Seq || got.ReplyReaderGUID != req.ReplyReaderGUID {
						t.Fatalf("request identity %s/%d reader %s, server saw %s/%d reader %s", req.WriterGUID, req.Seq, req.ReplyReaderGUID, got.WriterGUID, got.Seq, got.ReplyReaderGUID)
					}
					if rep.RelatedGUID != req.ReplyReaderGUID || rep.Seq != req.Seq {
						t.Fatalf("reply related identity %s/%d, want the reply reader %s and request seq %d", rep.RelatedGUID, rep.Seq, req.ReplyReaderGUID, req.Seq)
					}
				}
				if err := call.Wait(10 * time.Second); err != nil {
					t.Fatal(err)
				}
				if err := serve.Wait(10 * time.Second); err != nil {
					t.Fatal(err)
				}
				t.Logf("round trip %.2f ms", float64(rep.LatencyNs)/1e6)
			})
		}
	}
}

// Each peer sees the other's node on ros_discovery_info and its writer in DCPSPublication,
// as `ros2 node list` and `ros2 topic list -t` would.
func TestPeersGraph(t *testing.T) {
	p := peerOnly(t)
	for _, pr := range pairs(p) {
		talker, viewer := pr[0], pr[1]
		t.Run(talker.Name+"_seen_by_"+viewer.Name, func(t *testing.T) {
			topic := "rt/peertest/graph_" + talker.Name
			pub := Start(t, talker.Path, "pub", "--topic", topic, "--values", "1", "--count", "0", "--timeout", "30",
				"--node", "talker_"+talker.Name, "--namespace", "/peertest")
			ready := pub.Next("ready", 10*time.Second)
			nodes := Start(t, viewer.Path, "nodes", "--expect", "talker_"+talker.Name, "--timeout", "15")
			var part Event
			for part.GID != ready.Participant {
				part = nodes.Next("participant", 15*time.Second)
			}
			if len(part.Nodes) != 1 || part.Nodes[0].Name != "talker_"+talker.Name || part.Nodes[0].Namespace != "/peertest" || len(part.Nodes[0].WriterGIDs) != 1 {
				t.Fatalf("participant %s announced %+v, want one node /peertest/talker_%s with one writer", part.GID, part.Nodes, talker.Name)
			}
			if w := part.Nodes[0].WriterGIDs[0]; w[:24] != ready.Participant[:24] {
				t.Fatalf("writer gid %s is not of participant %s", w, ready.Participant)
			}
			if err := nodes.Wait(20 * time.Second); err != nil {
				t.Fatal(err)
			}
			topics := Start(t, viewer.Path, "topics", "--expect", topic, "--timeout", "15")
			var w Event
			for w.Topic != topic {
				w = topics.Next("writer", 15*time.Second)
			}
			if w.Type != "std_msgs::msg::dds_::Float32MultiArray_" || w.GUID != part.Nodes[0].WriterGIDs[0] {
				t.Fatalf("writer on %s: type %s guid %s, want std_msgs::msg::dds_::Float32MultiArray_ %s", topic, w.Type, w.GUID, part.Nodes[0].WriterGIDs[0])
			}
			if err := topics.Wait(20 * time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
}
