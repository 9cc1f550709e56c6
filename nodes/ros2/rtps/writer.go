package rtps

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/rtps/wire"
)

// FragmentSize is the payload carried per DATA_FRAG. Samples larger than
// it are fragmented. 8000 bytes keeps each datagram near 8 KiB: a
// 921,600-byte image takes 116 sends instead of 686 with MTU-sized
// fragments (send calls dominate the cost on small ARM boards), while a
// lost datagram costs only 8 KB to resend through NACK_FRAG, and no
// receiver needs buffers beyond the 64 KiB UDP maximum. Over Ethernet the
// kernel splits each into 6 IP fragments.
const FragmentSize = 8000

// WriterConfig configures a Writer.
type WriterConfig struct {
	// Topic is the DDS topic name ("rt/..." for ROS 2 topics).
	Topic string
	// TypeName is the DDS type name ("pkg::msg::dds_::Name_").
	TypeName string
	QoS      QoS
	// UserData is the endpoint USER_DATA ("typehash=RIHS01_...;").
	UserData []byte
}

// Writer publishes samples of one keyless topic. Write may be called from
// any goroutine, including a Reader's OnSample.
type Writer struct {
	p       *Participant
	state   *writerState
	guid    GUID
	matched atomic.Int32
	// peers counts matched readers per remote participant (MatchedParticipant); written on
	// the participant's goroutine, read from any.
	peersMu sync.Mutex
	peers   map[GUIDPrefix]int

	mu   sync.Mutex // one Write at a time uses req/res/done
	req  writeReq
	res  writeRes
	done chan struct{}
}

type writeReq struct {
	payload []byte
	ts      time.Time
	qos     []Parameter
}

type writeRes struct {
	sn  SequenceNumber
	err error
}

// GUID returns the writer's GUID.
func (w *Writer) GUID() GUID { return w.guid }

// Matched returns the number of matched remote readers.
func (w *Writer) Matched() int { return int(w.matched.Load()) }

// MatchedParticipant reports whether a reader of the participant with this GUID prefix is
// matched: a service server answers a client only once the client's reply reader is (a
// reply written before would reach nobody, as the writer is volatile).
func (w *Writer) MatchedParticipant(prefix GUIDPrefix) bool {
	w.peersMu.Lock()
	defer w.peersMu.Unlock()
	return w.peers[prefix] > 0
}

func (w *Writer) peerMatched(prefix GUIDPrefix, d int) {
	w.peersMu.Lock()
	defer w.peersMu.Unlock()
	if w.peers == nil {
		w.peers = map[GUIDPrefix]int{}
	}
	if w.peers[prefix] += d; w.peers[prefix] <= 0 {
		delete(w.peers, prefix)
	}
}

// Write publishes one serialized sample (starting with its 4-byte
// encapsulation header). The payload is copied into the writer's history
// before Write returns; once the history slots have grown to the sample
// size, Write allocates nothing.
func (w *Writer) Write(payload []byte, sourceTime time.Time) (SequenceNumber, error) {
	return w.WriteWith(payload, sourceTime, nil)
}

// WriteWith is Write with inline QoS parameters, e.g. the
// PID_FASTDDS_RELATED_SAMPLE_IDENTITY a Fast DDS service client needs on a
// reply (see RelatedSampleIdentity).
func (w *Writer) WriteWith(payload []byte, sourceTime time.Time, inlineQoS []Parameter) (SequenceNumber, error) {
	if len(payload) < 4 {
		return 0, fmt.Errorf("rtps: Write: payload of %d bytes has no encapsulation header", len(payload))
	}
	if len(payload) > 1<<30 {
		return 0, fmt.Errorf("rtps: Write: payload of %d bytes is too large", len(payload))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.req = writeReq{payload: payload, ts: sourceTime, qos: inlineQoS}
	select {
	case w.p.writeCh <- w:
	case <-w.p.done:
		return 0, ErrClosed
	}
	select {
	case <-w.done:
	case <-w.p.done:
		return 0, ErrClosed
	}
	w.req = writeReq{}
	return w.res.sn, w.res.err
}

// RelatedSampleIdentity returns the inline QoS parameter that marks a
// service reply as answering request (Fast DDS 2.x reads 0x800f: the
// request writer's GUID and sequence number).
func RelatedSampleIdentity(request SampleIdentity) Parameter {
	b := wire.AppendSampleIdentityParam(nil, wire.PID_FASTDDS_RELATED_SAMPLE_IDENTITY, request)
	return Parameter{ID: wire.PID_FASTDDS_RELATED_SAMPLE_IDENTITY, Value: b[4:]}
}

// NewWriter creates a writer and announces it on SEDP.
func (p *Participant) NewWriter(c WriterConfig) (*Writer, error) {
	if c.Topic == "" || c.TypeName == "" {
		return nil, fmt.Errorf("%w: writer needs Topic and TypeName (got %q, %q)", ErrConfig, c.Topic, c.TypeName)
	}
	if err := c.QoS.check("writer " + c.Topic); err != nil {
		return nil, err
	}
	w := &Writer{p: p, done: make(chan struct{}, 1)}
	err := p.call(func() {
		p.nextKey++
		e := EntityID{byte(p.nextKey >> 16), byte(p.nextKey >> 8), byte(p.nextKey), wire.EntityKindUserWriterNoKey}
		ws := &writerState{pub: w, guid: GUID{Prefix: p.guid.Prefix, Entity: e}, topic: c.Topic, typ: c.TypeName,
			qos: c.QoS, userData: append([]byte(nil), c.UserData...), hist: make([]change, c.QoS.Depth)}
		w.state, w.guid = ws, ws.guid
		p.writers[e] = ws
		p.announceEndpoint(p.pubs, ws.guid, c.Topic, c.TypeName, c.QoS, ws.userData)
		for _, re := range p.remote {
			if !re.writer && compatible(re.data, c.Topic, c.TypeName, c.QoS, true) {
				p.addReaderProxy(ws, re.data.GUID, re.locs, re.data.Reliability == wire.ReliableReliability, re.data.Durability >= wire.TransientLocalDurability)
			}
		}
		p.log.Info("writer created", "topic", c.Topic, "type", c.TypeName, "guid", ws.guid.String())
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// change is one history slot; its buffers are reused.
type change struct {
	sn   SequenceNumber
	ts   wire.Time
	data []byte
	qos  []byte // inline QoS with sentinel; empty when none
}

// readerProxy is a matched remote reader (§8.4.7, ReaderProxy).
type readerProxy struct {
	guid     GUID
	locs     []netip.AddrPort
	reliable bool
	start    SequenceNumber // first sequence number relevant to it
	acked    SequenceNumber // everything <= acked is acknowledged
	heard    bool           // an ACKNACK arrived
	ackCount int32
	nfCount  int32
	lastHB   time.Time
	hbEvery  time.Duration
}

// writerState is a local writer as the loop sees it (§8.4.7).
type writerState struct {
	pub      *Writer // nil for the SEDP announcers
	guid     GUID
	topic    string
	typ      string
	qos      QoS
	userData []byte
	meta     bool // builtin: metatraffic socket
	keepAll  bool
	hist     []change // ring
	head, n  int
	lastSN   SequenceNumber
	proxies  []*readerProxy
	hbCount  int32
}

func (ws *writerState) firstSN() SequenceNumber { return ws.lastSN - SequenceNumber(ws.n) + 1 }

func (ws *writerState) get(sn SequenceNumber) *change {
	first := ws.firstSN()
	if sn < first || sn > ws.lastSN {
		return nil
	}
	return &ws.hist[(ws.head+int(sn-first))%len(ws.hist)]
}

// add takes the next history slot, evicting the oldest when KEEP_LAST is
// full.
func (ws *writerState) add(payload []byte, ts wire.Time) *change {
	if ws.n == len(ws.hist) {
		if ws.keepAll {
			grown := make([]change, 2*len(ws.hist))
			for i := 0; i < ws.n; i++ {
				grown[i] = ws.hist[(ws.head+i)%len(ws.hist)]
			}
			ws.hist, ws.head = grown, 0
		} else {
			ws.head = (ws.head + 1) % len(ws.hist)
			ws.n--
		}
	}
	c := &ws.hist[(ws.head+ws.n)%len(ws.hist)]
	ws.n++
	ws.lastSN++
	c.sn, c.ts = ws.lastSN, ts
	c.data = append(c.data[:0], payload...)
	c.qos = c.qos[:0]
	return c
}

// write runs on the loop for Writer.WriteWith.
func (p *Participant) write(ws *writerState, req *writeReq) (SequenceNumber, error) {
	c := ws.add(req.payload, wire.TimeFromGo(req.ts))
	if len(req.qos) > 0 {
		for _, q := range req.qos {
			c.qos = wire.AppendParam(c.qos, q.ID, q.Value)
		}
		c.qos = wire.AppendSentinel(c.qos)
	}
	p.stats.samplesSent.Add(1)
	for _, rp := range ws.proxies {
		p.sendChange(ws, rp, c, true)
	}
	return c.sn, nil
}

// publish adds a change to a builtin writer and sends it.
func (p *Participant) publish(ws *writerState, payload []byte, ts wire.Time, qos []byte) {
	c := ws.add(payload, ts)
	c.qos = append(c.qos, qos...)
	for _, rp := range ws.proxies {
		p.sendChange(ws, rp, c, true)
	}
}

// msgTo starts a datagram to one reader: header, INFO_DST, INFO_TS.
func (p *Participant) msgTo(prefix GUIDPrefix, ts wire.Time) []byte {
	b := p.header()
	b = (&wire.InfoDst{Prefix: prefix}).Append(b)
	if ts != wire.TimeZero {
		b = (&wire.InfoTS{Timestamp: ts}).Append(b)
	}
	return b
}

// sendChange sends one change to one reader, fragmented when large; hb
// piggybacks a final HEARTBEAT for reliable readers.
func (p *Participant) sendChange(ws *writerState, rp *readerProxy, c *change, hb bool) {
	if len(rp.locs) == 0 {
		return
	}
	if len(c.data) > FragmentSize {
		nf := (len(c.data) + FragmentSize - 1) / FragmentSize
		for f := 1; f <= nf; f++ {
			p.sendFragment(ws, rp, c, uint32(f))
		}
		if hb && rp.reliable {
			p.sendHeartbeat(ws, rp, true)
		}
		return
	}
	b := p.msgTo(rp.guid.Prefix, c.ts)
	d := wire.Data{ReaderID: rp.guid.Entity, WriterID: ws.guid.Entity, SN: c.sn, Payload: c.data}
	if len(c.qos) > 0 {
		d.InlineQoS = c.qos
	}
	b = d.Append(b)
	if hb && rp.reliable {
		b = p.appendHeartbeat(b, ws, rp, true)
	}
	p.sendAll(b, rp.locs, ws.meta)
}

func (p *Participant) sendFragment(ws *writerState, rp *readerProxy, c *change, f uint32) {
	off := int(f-1) * FragmentSize
	if off >= len(c.data) {
		return
	}
	end := min(off+FragmentSize, len(c.data))
	b := p.msgTo(rp.guid.Prefix, c.ts)
	d := wire.DataFrag{ReaderID: rp.guid.Entity, WriterID: ws.guid.Entity, SN: c.sn, FragmentStart: f,
		FragmentsInSubmessage: 1, FragmentSize: FragmentSize, SampleSize: uint32(len(c.data)), Payload: c.data[off:end]}
	if len(c.qos) > 0 {
		d.InlineQoS = c.qos
	}
	b = d.Append(b)
	p.stats.fragmentsSent.Add(1)
	p.sendAll(b, rp.locs, ws.meta)
}

func (p *Participant) appendHeartbeat(b []byte, ws *writerState, rp *readerProxy, final bool) []byte {
	ws.hbCount++
	first := max(ws.firstSN(), rp.start)
	p.stats.heartbeatsSent.Add(1)
	return (&wire.Heartbeat{ReaderID: rp.guid.Entity, WriterID: ws.guid.Entity, FirstSN: max(first, 1),
		LastSN: ws.lastSN, Count: ws.hbCount, Final: final}).Append(b)
}

func (p *Participant) sendHeartbeat(ws *writerState, rp *readerProxy, final bool) {
	b := p.msgTo(rp.guid.Prefix, wire.TimeZero)
	b = p.appendHeartbeat(b, ws, rp, final)
	p.sendAll(b, rp.locs, ws.meta)
}

// sendGap tells the reader [lo, hi] will never come (a GAP).
func (p *Participant) sendGap(ws *writerState, rp *readerProxy, lo, hi SequenceNumber) {
	b := p.msgTo(rp.guid.Prefix, wire.TimeZero)
	b = (&wire.Gap{ReaderID: rp.guid.Entity, WriterID: ws.guid.Entity, Start: lo, List: wire.SequenceNumberSet{Base: hi + 1}}).Append(b)
	p.stats.gapsSent.Add(1)
	p.sendAll(b, rp.locs, ws.meta)
}

func (p *Participant) addReaderProxy(ws *writerState, g GUID, locs []netip.AddrPort, remoteReliable, remoteTL bool) {
	for _, rp := range ws.proxies {
		if rp.guid == g {
			rp.locs = locs
			return
		}
	}
	rp := &readerProxy{guid: g, locs: locs, reliable: remoteReliable && ws.qos.Reliability == Reliable, start: 1, hbEvery: p.conf.HeartbeatPeriod}
	if ws.qos.Durability == Volatile || !remoteTL {
		// Only a transient-local writer and reader pair carries history
		// (DDS 2.2.3.4): anything else starts with the next sample.
		rp.start = ws.lastSN + 1
	}
	rp.acked = rp.start - 1
	ws.proxies = append(ws.proxies, rp)
	if ws.pub != nil {
		ws.pub.matched.Add(1)
		ws.pub.peerMatched(g.Prefix, 1)
		p.stats.endpointsMatched.Add(1)
		p.log.Debug("reader matched", "writer", ws.guid.String(), "reader", g.String(), "reliable", rp.reliable)
	}
	if rp.start <= ws.lastSN {
		// Push the history now rather than wait for a NACK round trip.
		for sn := max(ws.firstSN(), rp.start); sn <= ws.lastSN; sn++ {
			p.sendChange(ws, rp, ws.get(sn), false)
		}
	}
	if rp.reliable {
		p.sendHeartbeat(ws, rp, false)
		rp.lastHB = p.now
	}
}

func (p *Participant) removeReaderProxies(ws *writerState, match func(GUID) bool) {
	kept := ws.proxies[:0]
	for _, rp := range ws.proxies {
		if !match(rp.guid) {
			kept = append(kept, rp)
			continue
		}
		if ws.pub != nil {
			ws.pub.matched.Add(-1)
			ws.pub.peerMatched(rp.guid.Prefix, -1)
			p.stats.endpointsUnmatched.Add(1)
		}
	}
	clear(ws.proxies[len(kept):])
	ws.proxies = kept
}

func (ws *writerState) proxy(g GUID) *readerProxy {
	for _, rp := range ws.proxies {
		if rp.guid == g {
			return rp
		}
	}
	return nil
}

// onAckNack handles a reader's acknowledgement (§8.4.9, reliable StatefulWriter):
// resend what it lacks, GAP what we no longer have.
func (p *Participant) onAckNack(rc *recvContext, m *wire.AckNack) {
	ws := p.writers[m.WriterID]
	if ws == nil {
		return
	}
	rp := ws.proxy(GUID{Prefix: rc.src, Entity: m.ReaderID})
	if rp == nil || !rp.reliable {
		return
	}
	if rp.heard && m.Count <= rp.ackCount {
		return // duplicate or reordered
	}
	rp.heard, rp.ackCount, rp.hbEvery = true, m.Count, p.conf.HeartbeatPeriod
	base := m.State.Base
	if base-1 > rp.acked {
		rp.acked = min(base-1, ws.lastSN)
	}
	avail := max(ws.firstSN(), rp.start)
	var gapLo, gapHi SequenceNumber
	flushGap := func() {
		if gapLo != 0 {
			p.sendGap(ws, rp, gapLo, gapHi)
			gapLo = 0
		}
	}
	resent := false
	for i := uint32(0); i < m.State.NumBits; i++ {
		sn := base + SequenceNumber(i)
		if !m.State.Has(sn) || sn > ws.lastSN || sn < 1 {
			continue
		}
		if sn < avail {
			if gapLo != 0 && sn == gapHi+1 {
				gapHi = sn
			} else {
				flushGap()
				gapLo, gapHi = sn, sn
			}
			continue
		}
		flushGap()
		p.sendChange(ws, rp, ws.get(sn), false)
		p.stats.samplesResent.Add(1)
		resent = true
	}
	flushGap()
	if m.State.NumBits > 0 && base >= 1 && base < avail {
		// It still waits for samples older than anything we hold.
		p.sendGap(ws, rp, base, avail-1)
		resent = true
	}
	if resent || m.State.NumBits == 0 && base <= ws.lastSN && !m.Final {
		p.sendHeartbeat(ws, rp, false)
		rp.lastHB = p.now
	}
}

// onNackFrag resends requested fragments (§8.4.9, NACK_FRAG handling).
func (p *Participant) onNackFrag(rc *recvContext, m *wire.NackFrag) {
	ws := p.writers[m.WriterID]
	if ws == nil {
		return
	}
	rp := ws.proxy(GUID{Prefix: rc.src, Entity: m.ReaderID})
	if rp == nil || !rp.reliable || m.Count <= rp.nfCount && rp.nfCount != 0 {
		return
	}
	rp.nfCount = m.Count
	c := ws.get(m.SN)
	if c == nil || m.SN < rp.start {
		if m.SN >= 1 && m.SN <= ws.lastSN {
			p.sendGap(ws, rp, m.SN, m.SN)
		}
		return
	}
	for i := uint32(0); i < m.State.NumBits; i++ {
		if f := m.State.Base + i; m.State.Has(f) {
			p.sendFragment(ws, rp, c, f)
		}
	}
}

// writerTick sends periodic HEARTBEATs to reliable readers that have not
// acknowledged everything, backing off while they stay silent.
func (p *Participant) writerTick(ws *writerState) {
	if ws.qos.Reliability != Reliable {
		return
	}
	for _, rp := range ws.proxies {
		if !rp.reliable {
			continue
		}
		pending := max(rp.acked+1, rp.start, ws.firstSN()) <= ws.lastSN
		if !pending && rp.heard {
			continue
		}
		if p.now.Sub(rp.lastHB) < rp.hbEvery {
			continue
		}
		p.sendHeartbeat(ws, rp, false)
		rp.lastHB = p.now
		rp.hbEvery = min(2*rp.hbEvery, 8*p.conf.HeartbeatPeriod)
	}
}
