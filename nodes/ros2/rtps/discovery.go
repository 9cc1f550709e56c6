package rtps

import (
	"net/netip"
	"slices"
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/rtps/wire"
)

// remoteParticipant is a peer found by SPDP (§8.5.3).
type remoteParticipant struct {
	data       wire.ParticipantData
	meta, user []netip.AddrPort // chosen unicast destinations
	lastSeen   time.Time
	lease      time.Duration
	viaUnicast bool // it announced to our unicast port: answer it by unicast
}

// remoteEndpoint is a peer's writer or reader found by SEDP (§8.5.4).
type remoteEndpoint struct {
	data   wire.EndpointData
	writer bool
	locs   []netip.AddrPort
}

const builtinEndpoints = wire.DISC_BUILTIN_ENDPOINT_PARTICIPANT_ANNOUNCER |
	wire.DISC_BUILTIN_ENDPOINT_PARTICIPANT_DETECTOR |
	wire.DISC_BUILTIN_ENDPOINT_PUBLICATIONS_ANNOUNCER |
	wire.DISC_BUILTIN_ENDPOINT_PUBLICATIONS_DETECTOR |
	wire.DISC_BUILTIN_ENDPOINT_SUBSCRIPTIONS_ANNOUNCER |
	wire.DISC_BUILTIN_ENDPOINT_SUBSCRIPTIONS_DETECTOR |
	wire.BUILTIN_ENDPOINT_PARTICIPANT_MESSAGE_DATA_WRITER |
	wire.BUILTIN_ENDPOINT_PARTICIPANT_MESSAGE_DATA_READER

// initBuiltins creates the SEDP announcers (reliable, transient-local,
// keep-all writers) and detectors (reliable, transient-local readers),
// §8.5.4.2.
func (p *Participant) initBuiltins() {
	q := QoS{Reliability: Reliable, Durability: TransientLocal}
	mk := func(e EntityID) *writerState {
		w := &writerState{guid: GUID{Prefix: p.guid.Prefix, Entity: e}, qos: q, meta: true, keepAll: true, hist: make([]change, 8)}
		p.writers[e] = w
		return w
	}
	p.pubs = mk(wire.EntityIDSEDPBuiltinPublicationsAnnouncer)
	p.subs = mk(wire.EntityIDSEDPBuiltinSubscriptionsAnnouncer)
	mkr := func(e EntityID, writers bool) *readerState {
		r := &readerState{guid: GUID{Prefix: p.guid.Prefix, Entity: e}, qos: q, meta: true}
		r.internal = func(d *delivery) { p.onSEDP(writers, d) }
		p.readers[e] = r
		return r
	}
	p.pubsR = mkr(wire.EntityIDSEDPBuiltinPublicationsDetector, true)
	p.subsR = mkr(wire.EntityIDSEDPBuiltinSubscriptionsDetector, false)
	// The participant-message (writer liveliness, §8.4.13) endpoints: our
	// writers have infinite liveliness leases, so the writer stays empty
	// and the reader ignores what it gets. They exist because Fast DDS
	// matches them whatever the builtin endpoint set says and otherwise
	// repeats pre-emptive ACKNACKs to a writer that is not there.
	p.wlp = mk(wire.EntityIDP2PBuiltinParticipantMessageWriter)
	p.wlpR = &readerState{guid: GUID{Prefix: p.guid.Prefix, Entity: wire.EntityIDP2PBuiltinParticipantMessageReader}, qos: q, meta: true,
		internal: func(*delivery) {}}
	p.readers[p.wlpR.guid.Entity] = p.wlpR
}

func (p *Participant) locators(port func(pid int) int) []wire.Locator {
	var out []wire.Locator
	for _, pf := range p.ifaces {
		out = append(out, wire.LocatorFromAddrPort(netip.AddrPortFrom(pf.Addr(), uint16(port(p.pid)))))
	}
	return out
}

func (p *Participant) metaLocators() []wire.Locator {
	return p.locators(func(pid int) int { _, m, _, _ := Ports(p.conf.DomainID, pid); return m })
}

func (p *Participant) userLocators() []wire.Locator {
	return p.locators(func(pid int) int { _, _, _, u := Ports(p.conf.DomainID, pid); return u })
}

func (p *Participant) buildSPDP() {
	spdp, _, _, _ := Ports(p.conf.DomainID, p.pid)
	pd := wire.ParticipantData{
		Version: wire.ProtocolVersion24, Vendor: wire.VendorRSSMD, GUID: p.guid,
		DomainID: uint32(p.conf.DomainID), HasDomainID: true,
		DefaultUnicast:   p.userLocators(),
		MetaUnicast:      p.metaLocators(),
		BuiltinEndpoints: builtinEndpoints,
		LeaseDuration:    wire.DurationFromGo(p.conf.LeaseDuration),
		UserData:         p.conf.UserData,
		EntityName:       p.conf.Name,
	}
	if p.mcast != nil {
		pd.MetaMulticast = []wire.Locator{wire.LocatorFromAddrPort(netip.AddrPortFrom(SPDPMulticastGroup, uint16(spdp)))}
	}
	p.spdpData = pd.Append(nil)
}

// spdpMessage builds the announcement datagram in p.out.
func (p *Participant) spdpMessage(dispose bool) []byte {
	b := p.header()
	b = (&wire.InfoTS{Timestamp: wire.TimeFromGo(p.now)}).Append(b)
	qos := wire.AppendGUIDParam(nil, wire.PID_KEY_HASH, p.guid)
	p.spdpSN++
	d := wire.Data{ReaderID: wire.EntityIDSPDPBuiltinParticipantDetector, WriterID: wire.EntityIDSPDPBuiltinParticipantAnnouncer, SN: p.spdpSN}
	if dispose {
		qos = wire.AppendParam(qos, wire.PID_STATUS_INFO, []byte{0, 0, 0, wire.StatusInfoDisposed | wire.StatusInfoUnregistered})
		// The serialized key: the participant GUID as a parameter list.
		d.Payload = wire.AppendSentinel(wire.AppendGUIDParam([]byte{0, wire.EncapsulationPL_CDR_LE, 0, 0}, wire.PID_PARTICIPANT_GUID, p.guid))
		d.Key = true
	} else {
		d.Payload = p.spdpData
	}
	d.InlineQoS = wire.AppendSentinel(qos)
	return d.Append(b)
}

// announce sends our SPDP data to the multicast group, the static peers
// and the peers that found us by unicast (§8.5.3.1).
func (p *Participant) announce() {
	p.lastAnnounce = p.now
	b := p.spdpMessage(false)
	p.sendSPDP(b)
}

func (p *Participant) sendSPDP(b []byte) {
	if p.mcast != nil {
		spdp, _, _, _ := Ports(p.conf.DomainID, p.pid)
		group := netip.AddrPortFrom(SPDPMulticastGroup, uint16(spdp))
		for _, a := range p.mcastIfs {
			if err := setMulticastInterface(p.meta, a); err != nil {
				continue
			}
			p.send(b, group, true)
		}
	}
	p.sendAll(b, p.peerAddrs, true)
	for _, rp := range p.participants {
		if rp.viaUnicast || p.mcast == nil {
			p.sendAll(b, rp.meta, true)
		}
	}
}

func (p *Participant) sendSPDPDispose() {
	p.now = time.Now()
	p.sendSPDP(p.spdpMessage(true))
}

// onSPDP handles a participant announcement (§8.5.3.2).
func (p *Participant) onSPDP(rc *recvContext, m *wire.Data) {
	info, err := wire.ParseInlineQoS(m.InlineQoS, m.LittleEndian, rc.vendor)
	if err != nil {
		p.stats.malformed.Add(1)
		return
	}
	if info.StatusInfo&(wire.StatusInfoDisposed|wire.StatusInfoUnregistered) != 0 {
		prefix := rc.src
		if info.HasKeyHash {
			copy(prefix[:], info.KeyHash[:12])
		}
		p.removeParticipant(prefix, "disposed")
		return
	}
	if m.Payload == nil || m.Key {
		return
	}
	var pd wire.ParticipantData
	if err := pd.Unmarshal(m.Payload); err != nil {
		p.stats.malformed.Add(1)
		p.log.Debug("bad SPDP data", "from", rc.from, "err", err)
		return
	}
	prefix := pd.GUID.Prefix
	if prefix == p.guid.Prefix || pd.HasDomainID && pd.DomainID != uint32(p.conf.DomainID) {
		return
	}
	rp := p.participants[prefix]
	isNew := rp == nil
	if isNew {
		rp = &remoteParticipant{}
		p.participants[prefix] = rp
	}
	rp.data = pd
	rp.meta = p.pickLocators(pd.MetaUnicast)
	rp.user = p.pickLocators(pd.DefaultUnicast)
	if len(rp.meta) == 0 && rc.from.IsValid() {
		rp.meta = []netip.AddrPort{rc.from}
	}
	rp.lastSeen = p.now
	rp.lease = pd.LeaseDuration.Duration()
	rp.viaUnicast = rp.viaUnicast || rc.unicast
	if !isNew {
		return
	}
	p.stats.participantsDiscovered.Add(1)
	p.stats.participantsCurrent.Store(uint64(len(p.participants)))
	p.log.Info("participant discovered", "remote", pd.GUID.String(), "vendor", vendorName(pd.Vendor), "meta", rp.meta, "lease", rp.lease)
	// Answer at once so a late joiner need not wait for our next period.
	p.sendAll(p.spdpMessage(false), rp.meta, true)
	p.matchBuiltins(prefix, rp)
}

func vendorName(v wire.VendorID) string {
	switch v {
	case wire.VendorCycloneDD:
		return "cyclonedds"
	case wire.VendorEProsima:
		return "fastdds"
	case wire.VendorRSSMD:
		return "rssmd"
	}
	return "unknown"
}

// matchBuiltins connects our SEDP endpoints to the peer's (§8.5.4.2).
func (p *Participant) matchBuiltins(prefix GUIDPrefix, rp *remoteParticipant) {
	set := rp.data.BuiltinEndpoints
	if set&wire.DISC_BUILTIN_ENDPOINT_PUBLICATIONS_DETECTOR != 0 {
		p.addReaderProxy(p.pubs, GUID{Prefix: prefix, Entity: wire.EntityIDSEDPBuiltinPublicationsDetector}, rp.meta, true, true)
	}
	if set&wire.DISC_BUILTIN_ENDPOINT_SUBSCRIPTIONS_DETECTOR != 0 {
		p.addReaderProxy(p.subs, GUID{Prefix: prefix, Entity: wire.EntityIDSEDPBuiltinSubscriptionsDetector}, rp.meta, true, true)
	}
	if set&wire.DISC_BUILTIN_ENDPOINT_PUBLICATIONS_ANNOUNCER != 0 {
		p.addWriterProxy(p.pubsR, GUID{Prefix: prefix, Entity: wire.EntityIDSEDPBuiltinPublicationsAnnouncer}, rp.meta, true, rp.data.Vendor)
	}
	if set&wire.DISC_BUILTIN_ENDPOINT_SUBSCRIPTIONS_ANNOUNCER != 0 {
		p.addWriterProxy(p.subsR, GUID{Prefix: prefix, Entity: wire.EntityIDSEDPBuiltinSubscriptionsAnnouncer}, rp.meta, true, rp.data.Vendor)
	}
	if set&wire.BUILTIN_ENDPOINT_PARTICIPANT_MESSAGE_DATA_READER != 0 {
		p.addReaderProxy(p.wlp, GUID{Prefix: prefix, Entity: wire.EntityIDP2PBuiltinParticipantMessageReader}, rp.meta, true, true)
	}
	if set&wire.BUILTIN_ENDPOINT_PARTICIPANT_MESSAGE_DATA_WRITER != 0 {
		p.addWriterProxy(p.wlpR, GUID{Prefix: prefix, Entity: wire.EntityIDP2PBuiltinParticipantMessageWriter}, rp.meta, true, rp.data.Vendor)
	}
}

func (p *Participant) checkLeases() {
	for prefix, rp := range p.participants {
		if p.now.Sub(rp.lastSeen) > rp.lease {
			p.removeParticipant(prefix, "lease expired")
		}
	}
}

// removeParticipant forgets a peer and everything matched with it.
func (p *Participant) removeParticipant(prefix GUIDPrefix, why string) {
	rp := p.participants[prefix]
	if rp == nil {
		return
	}
	delete(p.participants, prefix)
	p.stats.participantsLost.Add(1)
	p.stats.participantsCurrent.Store(uint64(len(p.participants)))
	p.log.Info("participant lost", "remote", rp.data.GUID.String(), "why", why)
	for g := range p.remote {
		if g.Prefix == prefix {
			delete(p.remote, g)
		}
	}
	for _, w := range p.writers {
		p.removeReaderProxies(w, func(g GUID) bool { return g.Prefix == prefix })
	}
	for _, r := range p.readers {
		p.removeWriterProxies(r, func(g GUID) bool { return g.Prefix == prefix })
	}
}

// pickLocators chooses where to send to among advertised locators: UDPv4
// unicast ones on one of our subnets (the first such), else all of them.
func (p *Participant) pickLocators(ls []wire.Locator) []netip.AddrPort {
	var near, far []netip.AddrPort
	for _, l := range ls {
		ap, ok := l.AddrPort()
		if !ok || !ap.Addr().Is4() || ap.Addr().IsMulticast() || ap.Addr().IsUnspecified() {
			continue
		}
		onLink := false
		for _, pf := range p.ifaces {
			onLink = onLink || pf.Contains(ap.Addr())
		}
		if onLink {
			near = append(near, ap)
		} else if !slices.Contains(far, ap) {
			far = append(far, ap)
		}
	}
	if len(near) > 0 {
		return near[:1]
	}
	return far
}

// onSEDP handles a publication or subscription announcement (§8.5.4).
func (p *Participant) onSEDP(writer bool, d *delivery) {
	if d.info.StatusInfo&(wire.StatusInfoDisposed|wire.StatusInfoUnregistered) != 0 {
		if d.info.HasKeyHash {
			p.removeRemoteEndpoint(wire.GUIDFromBytes(d.info.KeyHash))
		}
		return
	}
	if d.data == nil {
		return
	}
	var ed wire.EndpointData
	if err := ed.Unmarshal(d.data, writer); err != nil {
		p.stats.malformed.Add(1)
		p.log.Debug("bad SEDP data", "from", d.writer.String(), "err", err)
		return
	}
	rp := p.participants[ed.GUID.Prefix]
	if rp == nil {
		return
	}
	if old := p.remote[ed.GUID]; old != nil {
		if old.data.Topic == ed.Topic && old.data.Type == ed.Type && old.data.Reliability == ed.Reliability && old.data.Durability == ed.Durability {
			return
		}
		p.removeRemoteEndpoint(ed.GUID) // QoS changed: match again
	}
	locs := p.pickLocators(ed.Unicast)
	if len(locs) == 0 {
		locs = rp.user
	}
	re := &remoteEndpoint{data: ed, writer: writer, locs: locs}
	p.remote[ed.GUID] = re
	p.log.Debug("endpoint discovered", "remote", ed.GUID.String(), "writer", writer, "topic", ed.Topic, "type", ed.Type,
		"reliability", ed.Reliability, "durability", ed.Durability, "locators", locs)
	if writer {
		for _, r := range p.readers {
			if r.internal == nil && compatible(ed, r.topic, r.typ, r.qos, false) {
				p.addWriterProxy(r, ed.GUID, locs, ed.Reliability == wire.ReliableReliability, rp.data.Vendor)
			}
		}
	} else {
		for _, w := range p.writers {
			if w.pub != nil && compatible(ed, w.topic, w.typ, w.qos, true) {
				p.addReaderProxy(w, ed.GUID, locs, ed.Reliability == wire.ReliableReliability, ed.Durability >= wire.TransientLocalDurability)
			}
		}
	}
}

func (p *Participant) removeRemoteEndpoint(g GUID) {
	if _, ok := p.remote[g]; !ok {
		return
	}
	delete(p.remote, g)
	match := func(x GUID) bool { return x == g }
	for _, w := range p.writers {
		p.removeReaderProxies(w, match)
	}
	for _, r := range p.readers {
		p.removeWriterProxies(r, match)
	}
}

// compatible applies the matching rules of DDS 2.2.3 to a remote endpoint
// and a local one: same topic and type, no partitions, requested
// reliability and durability not above what is offered.
func compatible(re wire.EndpointData, topic, typ string, q QoS, localIsWriter bool) bool {
	if re.Topic != topic || re.Type != typ || re.Partitions > 0 {
		return false
	}
	remoteReliable := re.Reliability == wire.ReliableReliability
	remoteTL := re.Durability >= wire.TransientLocalDurability
	if localIsWriter {
		return (!remoteReliable || q.Reliability == Reliable) && (!remoteTL || q.Durability == TransientLocal)
	}
	return (q.Reliability != Reliable || remoteReliable) && (q.Durability != TransientLocal || remoteTL)
}

// announceEndpoint publishes a local endpoint on SEDP.
func (p *Participant) announceEndpoint(sedp *writerState, guid GUID, topic, typ string, q QoS, userData []byte) {
	ed := wire.EndpointData{
		Version: wire.ProtocolVersion24, Vendor: wire.VendorRSSMD,
		GUID: guid, Participant: p.guid, Topic: topic, Type: typ,
		Reliability: q.wireReliability(), MaxBlockingTime: wire.DurationFromGo(100 * time.Millisecond),
		Durability: q.wireDurability(), History: wire.KeepLastHistory, Depth: int32(q.Depth),
		UserData: userData, Unicast: p.userLocators(),
	}
	qos := wire.AppendSentinel(wire.AppendGUIDParam(nil, wire.PID_KEY_HASH, guid))
	p.publish(sedp, ed.Append(nil), wire.TimeFromGo(p.now), qos)
}
