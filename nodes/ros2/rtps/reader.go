package rtps

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/rtps/wire"
)

// ReaderConfig configures a Reader.
type ReaderConfig struct {
	Topic    string
	TypeName string
	QoS      QoS
	UserData []byte
	// OnSample is called for each sample, in order per writer for reliable
	// readers, on the reader's own goroutine (it may call Writer.Write).
	// When it falls more than QoS.Depth samples and 8 MiB behind, newer
	// samples are dropped and counted (Stats.SamplesDroppedSlow).
	OnSample func(Sample)
}

// Sample is one received sample.
type Sample struct {
	// Data is the serialized payload with its encapsulation header; valid
	// only during the callback.
	Data       []byte
	Writer     GUID
	Seq        SequenceNumber
	SourceTime time.Time
	// VendorID of the writing participant: Cyclone DDS 0x0110, Fast DDS
	// 0x010f.
	VendorID [2]byte
	// RelatedSampleIdentity is set when the sample carried one (a service
	// reply from Fast DDS).
	RelatedSampleIdentity *SampleIdentity
}

// Reader receives samples of one keyless topic.
type Reader struct {
	p        *Participant
	guid     GUID
	matched  atomic.Int32
	onSample func(Sample)
	depth    int
	queue    chan *slot
	queued   atomic.Int64 // samples waiting for the callback
	qBytes   atomic.Int64 // their bytes
	mu       sync.Mutex   // guards free, shared by the loop and run
	free     []*slot      // LIFO: only as many buffers grow as bursts need
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// Callback queue bounds: a reader always queues QoS.Depth samples; beyond
// that it queues while the backlog stays under queueBytes, so a burst of
// small samples released by a repair (Fast DDS heartbeats every 3 s) is
// not cut to the depth, while images stay bounded.
const (
	maxQueue   = 4096
	queueBytes = 8 << 20
)

type slot struct {
	data    []byte
	s       Sample
	related SampleIdentity
}

// GUID returns the reader's GUID.
func (r *Reader) GUID() GUID { return r.guid }

// Matched returns the number of matched remote writers.
func (r *Reader) Matched() int { return int(r.matched.Load()) }

func (r *Reader) run() {
	defer r.wg.Done()
	for s := range r.queue {
		if r.onSample != nil {
			r.onSample(s.s)
		}
		r.qBytes.Add(-int64(len(s.data)))
		r.queued.Add(-1)
		s.s = Sample{}
		r.mu.Lock()
		r.free = append(r.free, s)
		r.mu.Unlock()
	}
}

func (r *Reader) stop() {
	r.stopOnce.Do(func() { close(r.queue) })
	r.wg.Wait()
}

// enqueue copies a delivered sample into a slot for the callback
// goroutine; no allocation once the slots have grown.
func (r *Reader) enqueue(d *delivery) bool {
	n, b := r.queued.Load(), r.qBytes.Load()
	if n >= maxQueue || n >= int64(r.depth) && b+int64(len(d.data)) > queueBytes {
		return false
	}
	var s *slot
	r.mu.Lock()
	if k := len(r.free); k > 0 {
		s = r.free[k-1]
		r.free = r.free[:k-1]
	}
	r.mu.Unlock()
	if s == nil {
		s = &slot{}
	}
	s.data = append(s.data[:0], d.data...)
	if pad := wire.PayloadPadding(s.data); pad > 0 {
		// Hand out the payload as it was written: without the padding
		// and with the options' padding bits clear.
		s.data = s.data[:len(s.data)-pad]
		s.data[3] &^= 3
	}
	s.s = Sample{Data: s.data, Writer: d.writer, Seq: d.sn, SourceTime: d.ts.Go(), VendorID: d.vendor}
	if d.info.HasRelated {
		s.related = d.info.Related
		s.s.RelatedSampleIdentity = &s.related
	}
	r.queued.Add(1)
	r.qBytes.Add(int64(len(s.data)))
	r.queue <- s
	return true
}

// NewReader creates a reader and announces it on SEDP.
func (p *Participant) NewReader(c ReaderConfig) (*Reader, error) {
	if c.Topic == "" || c.TypeName == "" {
		return nil, fmt.Errorf("%w: reader needs Topic and TypeName (got %q, %q)", ErrConfig, c.Topic, c.TypeName)
	}
	if err := c.QoS.check("reader " + c.Topic); err != nil {
		return nil, err
	}
	r := &Reader{p: p, onSample: c.OnSample, depth: c.QoS.Depth, queue: make(chan *slot, maxQueue)}
	r.wg.Add(1)
	go r.run()
	err := p.call(func() {
		p.nextKey++
		e := EntityID{byte(p.nextKey >> 16), byte(p.nextKey >> 8), byte(p.nextKey), wire.EntityKindUserReaderNoKey}
		rs := &readerState{pub: r, guid: GUID{Prefix: p.guid.Prefix, Entity: e}, topic: c.Topic, typ: c.TypeName, qos: c.QoS}
		r.guid = rs.guid
		p.readers[e] = rs
		p.announceEndpoint(p.subs, rs.guid, c.Topic, c.TypeName, c.QoS, append([]byte(nil), c.UserData...))
		for _, re := range p.remote {
			if re.writer && compatible(re.data, c.Topic, c.TypeName, c.QoS, false) {
				vendor := wire.VendorUnknown
				if rp := p.participants[re.data.GUID.Prefix]; rp != nil {
					vendor = rp.data.Vendor
				}
				p.addWriterProxy(rs, re.data.GUID, re.locs, re.data.Reliability == wire.ReliableReliability, vendor)
			}
		}
		p.log.Info("reader created", "topic", c.Topic, "type", c.TypeName, "guid", rs.guid.String())
	})
	if err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

// delivery is a sample ready for a reader.
type delivery struct {
	data   []byte
	writer GUID
	sn     SequenceNumber
	ts     wire.Time
	vendor wire.VendorID
	info   wire.InlineInfo
}

// readerState is a local reader as the loop sees it (§8.4.10).
type readerState struct {
	pub      *Reader
	internal func(*delivery) // SEDP detectors handle data on the loop
	guid     GUID
	topic    string
	typ      string
	qos      QoS
	meta     bool
	proxies  []*writerProxy
}

type snRange struct{ lo, hi SequenceNumber } // [lo, hi)

type pendingSample struct {
	data []byte
	ts   wire.Time
	info wire.InlineInfo
}

// partial is a sample being reassembled from DATA_FRAGs.
type partial struct {
	buf      []byte
	fragSize int
	nfrags   uint32
	got      []uint64
	count    uint32
	ts       wire.Time
	qos      []byte
	le       bool
	created  time.Time
}

func (pt *partial) has(f uint32) bool { return pt.got[(f-1)/64]&(1<<((f-1)%64)) != 0 }

// writerProxy is a matched remote writer (§8.4.10, WriterProxy).
type writerProxy struct {
	r        *readerState
	guid     GUID
	vendor   wire.VendorID
	locs     []netip.AddrPort
	reliable bool
	synced   bool
	next     SequenceNumber // reliable: next to deliver
	highest  SequenceNumber // best effort: last delivered
	pending  map[SequenceNumber]*pendingSample
	gaps     []snRange
	frags    map[SequenceNumber]*partial
	spare    []byte
	hbSeen   bool
	hbCount  int32
	hbfCount int32
	ackCount int32
	nfCount  int32
	lastAck  time.Time
	// unsyncedSince is when the first sample waited for a HEARTBEAT.
	unsyncedSince time.Time
}

const (
	maxPending    = 1024 // out-of-order samples kept per writer
	maxGaps       = 256
	maxPartials   = 8 // samples in reassembly per writer
	partialMaxAge = 5 * time.Second
	// unsyncedMaxWait bounds how long samples from a reliable writer wait
	// for its first HEARTBEAT (writers send one on matching, and answer the
	// pre-emptive ACKNACKs readerTick repeats every second). Fast DDS 2.9
	// heartbeats only every 3 s: with the matching heartbeat lost (10%
	// loss), a shorter wait started past sample 1 and lost it.
	unsyncedMaxWait = 5 * time.Second
)

func (p *Participant) addWriterProxy(rs *readerState, g GUID, locs []netip.AddrPort, remoteReliable bool, vendor wire.VendorID) {
	for _, wp := range rs.proxies {
		if wp.guid == g {
			wp.locs = locs
			return
		}
	}
	wp := &writerProxy{r: rs, guid: g, vendor: vendor, locs: locs, reliable: remoteReliable && rs.qos.Reliability == Reliable,
		pending: map[SequenceNumber]*pendingSample{}, frags: map[SequenceNumber]*partial{}}
	rs.proxies = append(rs.proxies, wp)
	p.byWriter[g] = append(p.byWriter[g], wp)
	if rs.pub != nil {
		rs.pub.matched.Add(1)
		p.stats.endpointsMatched.Add(1)
		p.log.Debug("writer matched", "reader", rs.guid.String(), "writer", g.String(), "reliable", wp.reliable)
	}
	if wp.reliable {
		// A pre-emptive ACKNACK, sent before any HEARTBEAT, makes the
		// writer heartbeat us.
		p.sendAckNack(wp, 0, true)
	}
}

func (p *Participant) removeWriterProxies(rs *readerState, match func(GUID) bool) {
	kept := rs.proxies[:0]
	for _, wp := range rs.proxies {
		if !match(wp.guid) {
			kept = append(kept, wp)
			continue
		}
		for _, pt := range wp.frags {
			p.dropPartial(pt)
		}
		list := p.byWriter[wp.guid]
		for i, x := range list {
			if x == wp {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(p.byWriter, wp.guid)
		} else {
			p.byWriter[wp.guid] = list
		}
		if rs.pub != nil {
			rs.pub.matched.Add(-1)
			p.stats.endpointsUnmatched.Add(1)
		}
	}
	clear(rs.proxies[len(kept):])
	rs.proxies = kept
}

func (p *Participant) onData(rc *recvContext, m *wire.Data) {
	if m.WriterID == wire.EntityIDSPDPBuiltinParticipantAnnouncer {
		p.onSPDP(rc, m)
		return
	}
	for _, wp := range p.byWriter[GUID{Prefix: rc.src, Entity: m.WriterID}] {
		if m.ReaderID != wire.EntityIDUnknown && m.ReaderID != wp.r.guid.Entity {
			continue
		}
		payload := m.Payload
		if m.Key && wp.r.internal == nil {
			payload = nil // keyless topics: a key-only change carries no sample
		}
		p.receive(wp, rc, m.SN, payload, m.InlineQoS, m.LittleEndian)
	}
}

// receive applies the reader's ordering rules to one complete sample.
func (p *Participant) receive(wp *writerProxy, rc *recvContext, sn SequenceNumber, data, qos []byte, le bool) {
	info, err := wire.ParseInlineQoS(qos, le, rc.vendor)
	if err != nil {
		p.stats.malformed.Add(1)
		return
	}
	// A scratch delivery on the participant: a local one would escape to
	// the heap through the internal callback.
	d := &p.dvRecv
	*d = delivery{data: data, writer: wp.guid, sn: sn, ts: rc.ts, vendor: wp.vendor, info: info}
	if !rc.hasTS {
		d.ts = wire.TimeZero
	}
	if !wp.reliable {
		if sn <= wp.highest {
			p.stats.samplesDuplicate.Add(1)
			return
		}
		wp.highest = sn
		p.deliver(wp, d)
		return
	}
	if !wp.synced {
		if sn != 1 {
			// Wait for the HEARTBEAT that says where the writer's history
			// starts: samples sent before we matched the writer (it may
			// match us first) would otherwise be skipped.
			if len(wp.pending) == 0 {
				wp.unsyncedSince = p.now
			}
			p.storePending(wp, d)
			return
		}
		wp.synced, wp.next = true, 1 // nothing can precede the first sample
	}
	if sn < wp.next || wp.pending[sn] != nil {
		p.stats.samplesDuplicate.Add(1)
		return
	}
	if sn == wp.next {
		wp.next++
		p.deliver(wp, d)
		p.drain(wp)
		return
	}
	p.storePending(wp, d)
}

func (p *Participant) storePending(wp *writerProxy, d *delivery) {
	if len(wp.pending) >= maxPending || wp.pending[d.sn] != nil {
		return // it will be asked for again
	}
	ps := &pendingSample{ts: d.ts, info: d.info}
	if d.data != nil {
		ps.data = append([]byte(nil), d.data...)
	}
	wp.pending[d.sn] = ps
}

// drain delivers what became in order and skips what GAPs declared
// irrelevant.
func (p *Participant) drain(wp *writerProxy) {
	for {
		if ps := wp.pending[wp.next]; ps != nil {
			delete(wp.pending, wp.next)
			d := &p.dvDrain
			*d = delivery{data: ps.data, writer: wp.guid, sn: wp.next, ts: ps.ts, vendor: wp.vendor, info: ps.info}
			wp.next++
			p.deliver(wp, d)
			continue
		}
		moved := false
		for _, g := range wp.gaps {
			if g.lo <= wp.next && wp.next < g.hi {
				wp.next, moved = g.hi, true
			}
		}
		if !moved {
			break
		}
	}
	kept := wp.gaps[:0]
	for _, g := range wp.gaps {
		if g.hi > wp.next {
			kept = append(kept, g)
		}
	}
	wp.gaps = kept
	for sn := range wp.pending {
		if sn < wp.next {
			delete(wp.pending, sn)
		}
	}
	for sn, pt := range wp.frags {
		if sn < wp.next {
			delete(wp.frags, sn)
			p.dropPartial(pt)
		}
	}
}

func (p *Participant) deliver(wp *writerProxy, d *delivery) {
	p.stats.samplesReceived.Add(1)
	if wp.r.internal != nil {
		wp.r.internal(d)
		return
	}
	if d.data == nil {
		return
	}
	if !wp.r.pub.enqueue(d) {
		p.stats.samplesDroppedSlow.Add(1)
	}
}

func (p *Participant) onDataFrag(rc *recvContext, m *wire.DataFrag) {
	for _, wp := range p.byWriter[GUID{Prefix: rc.src, Entity: m.WriterID}] {
		if m.ReaderID != wire.EntityIDUnknown && m.ReaderID != wp.r.guid.Entity {
			continue
		}
		p.onFragment(wp, rc, m)
	}
}

// onFragment adds fragments to a partial sample; memory is bounded by
// MaxSampleSize per sample and MaxReassemblyBytes in all.
func (p *Participant) onFragment(wp *writerProxy, rc *recvContext, m *wire.DataFrag) {
	sn := m.SN
	if wp.reliable && wp.synced && sn < wp.next || wp.pending[sn] != nil || !wp.reliable && sn <= wp.highest {
		p.stats.samplesDuplicate.Add(1)
		return
	}
	pt := wp.frags[sn]
	if pt == nil {
		size := int(m.SampleSize)
		if size > p.conf.MaxSampleSize || p.reasmBytes+size > p.conf.MaxReassemblyBytes || len(wp.frags) >= maxPartials {
			p.stats.reassemblyDropped.Add(1)
			return
		}
		pt = &partial{fragSize: int(m.FragmentSize), created: p.now, ts: rc.ts}
		pt.nfrags = uint32((size + pt.fragSize - 1) / pt.fragSize)
		if cap(wp.spare) >= size {
			pt.buf, wp.spare = wp.spare[:size], nil
		} else {
			pt.buf = make([]byte, size)
		}
		pt.got = make([]uint64, (pt.nfrags+63)/64)
		wp.frags[sn] = pt
		p.reasmBytes += size
		p.stats.reassemblyBytes.Store(uint64(p.reasmBytes))
	}
	if len(pt.buf) != int(m.SampleSize) || pt.fragSize != int(m.FragmentSize) {
		p.stats.malformed.Add(1) // inconsistent with earlier fragments
		return
	}
	copy(pt.buf[m.Offset():], m.Payload)
	for i := uint32(0); i < uint32(m.FragmentsInSubmessage); i++ {
		f := m.FragmentStart + i
		if f > pt.nfrags || pt.has(f) {
			continue
		}
		pt.got[(f-1)/64] |= 1 << ((f - 1) % 64)
		pt.count++
	}
	if m.InlineQoS != nil && pt.qos == nil {
		pt.qos, pt.le = append([]byte(nil), m.InlineQoS...), m.LittleEndian
	}
	if pt.count < pt.nfrags {
		return
	}
	delete(wp.frags, sn)
	p.reasmBytes -= len(pt.buf)
	p.stats.reassemblyBytes.Store(uint64(p.reasmBytes))
	rc2 := *rc
	rc2.ts, rc2.hasTS = pt.ts, pt.ts != wire.TimeZero
	p.receive(wp, &rc2, sn, pt.buf, pt.qos, pt.le)
	wp.spare = pt.buf // receive copied what it kept
}

func (p *Participant) dropPartial(pt *partial) {
	p.reasmBytes -= len(pt.buf)
	p.stats.reassemblyBytes.Store(uint64(p.reasmBytes))
}

func (p *Participant) onHeartbeat(rc *recvContext, m *wire.Heartbeat) {
	for _, wp := range p.byWriter[GUID{Prefix: rc.src, Entity: m.WriterID}] {
		if m.ReaderID != wire.EntityIDUnknown && m.ReaderID != wp.r.guid.Entity || !wp.reliable {
			continue
		}
		if wp.hbSeen && m.Count <= wp.hbCount {
			continue
		}
		wp.hbSeen, wp.hbCount = true, m.Count
		if !wp.synced {
			// Start with the oldest sample the writer still offers us. A
			// volatile writer (ours, Cyclone's, Fast DDS's) offers a new
			// reader nothing older than the match, so this loses nothing
			// the writer sent after matching us and replays nothing older.
			wp.synced, wp.next = true, m.FirstSN
			for sn := range wp.pending {
				wp.next = min(wp.next, sn)
			}
		}
		if m.FirstSN > wp.next {
			// The writer no longer has these: they are lost to us.
			for sn := wp.next; sn < m.FirstSN && sn < wp.next+maxPending; sn++ {
				if wp.pending[sn] == nil {
					p.stats.samplesLost.Add(1)
				}
			}
			wp.gaps = append(wp.gaps, snRange{wp.next, m.FirstSN})
		}
		p.drain(wp)
		p.sendAckNack(wp, m.LastSN, !m.Final)
	}
}

func (p *Participant) onHeartbeatFrag(rc *recvContext, m *wire.HeartbeatFrag) {
	for _, wp := range p.byWriter[GUID{Prefix: rc.src, Entity: m.WriterID}] {
		if !wp.reliable || wp.hbfCount != 0 && m.Count <= wp.hbfCount {
			continue
		}
		wp.hbfCount = m.Count
		if pt := wp.frags[m.SN]; pt != nil {
			p.sendNackFrag(wp, m.SN, pt, min(m.LastFragmentNum, pt.nfrags))
		}
	}
}

func (p *Participant) onGap(rc *recvContext, m *wire.Gap) {
	for _, wp := range p.byWriter[GUID{Prefix: rc.src, Entity: m.WriterID}] {
		if m.ReaderID != wire.EntityIDUnknown && m.ReaderID != wp.r.guid.Entity || !wp.reliable || !wp.synced {
			continue
		}
		add := func(lo, hi SequenceNumber) {
			if hi <= wp.next {
				return
			}
			if len(wp.gaps) < maxGaps {
				wp.gaps = append(wp.gaps, snRange{lo, hi})
			}
		}
		add(m.Start, m.List.Base)
		for i := uint32(0); i < m.List.NumBits; i++ {
			if sn := m.List.Base + SequenceNumber(i); m.List.Has(sn) {
				add(sn, sn+1)
			}
		}
		p.drain(wp)
	}
}

// sendAckNack answers a HEARTBEAT (§8.4.12, reliable StatefulReader): base is the next sample we
// need, the bitmap what is missing up to last; partially reassembled
// samples get NACK_FRAGs instead.
func (p *Participant) sendAckNack(wp *writerProxy, last SequenceNumber, force bool) {
	if len(wp.locs) == 0 {
		return
	}
	base := max(wp.next, 1)
	set := wire.SequenceNumberSet{Base: base}
	b := p.msgTo(wp.guid.Prefix, wire.TimeZero)
	missing := false
	if wp.synced {
	outer:
		for sn := base; sn <= last && sn < base+256; sn++ {
			if wp.pending[sn] != nil {
				continue
			}
			for _, g := range wp.gaps {
				if g.lo <= sn && sn < g.hi {
					continue outer
				}
			}
			if pt := wp.frags[sn]; pt != nil {
				b = p.appendNackFrag(b, wp, sn, pt, pt.nfrags)
				missing = true
				continue
			}
			set.Set(sn)
			missing = true
		}
	}
	if !missing && !force {
		return
	}
	wp.ackCount++
	b = (&wire.AckNack{ReaderID: wp.r.guid.Entity, WriterID: wp.guid.Entity, State: set, Count: wp.ackCount, Final: !missing}).Append(b)
	p.stats.acknacksSent.Add(1)
	wp.lastAck = p.now
	p.sendAll(b, wp.locs, wp.r.meta)
}

func (p *Participant) appendNackFrag(b []byte, wp *writerProxy, sn SequenceNumber, pt *partial, last uint32) []byte {
	var first uint32
	for f := uint32(1); f <= last; f++ {
		if !pt.has(f) {
			first = f
			break
		}
	}
	if first == 0 {
		return b
	}
	set := wire.FragmentNumberSet{Base: first}
	for f := first; f <= last && f < first+256; f++ {
		if !pt.has(f) {
			set.Set(f)
		}
	}
	wp.nfCount++
	p.stats.nackFragsSent.Add(1)
	return (&wire.NackFrag{ReaderID: wp.r.guid.Entity, WriterID: wp.guid.Entity, SN: sn, State: set, Count: wp.nfCount}).Append(b)
}

func (p *Participant) sendNackFrag(wp *writerProxy, sn SequenceNumber, pt *partial, last uint32) {
	b := p.msgTo(wp.guid.Prefix, wire.TimeZero)
	n := len(b)
	b = p.appendNackFrag(b, wp, sn, pt, last)
	if len(b) > n {
		p.sendAll(b, wp.locs, wp.r.meta)
	}
}

// readerTick repeats pre-emptive ACKNACKs to writers not yet heard from
// and drops stale partial samples.
func (p *Participant) readerTick(rs *readerState) {
	for _, wp := range rs.proxies {
		if wp.reliable && !wp.hbSeen && p.now.Sub(wp.lastAck) >= time.Second {
			p.sendAckNack(wp, 0, true)
		}
		if wp.reliable && !wp.synced && len(wp.pending) > 0 && p.now.Sub(wp.unsyncedSince) > unsyncedMaxWait {
			// No HEARTBEAT came: start with what we have.
			wp.synced, wp.next = true, 1<<62
			for sn := range wp.pending {
				wp.next = min(wp.next, sn)
			}
			p.drain(wp)
		}
		for sn, pt := range wp.frags {
			if p.now.Sub(pt.created) > partialMaxAge {
				delete(wp.frags, sn)
				p.dropPartial(pt)
				p.stats.reassemblyDropped.Add(1)
			}
		}
	}
}
