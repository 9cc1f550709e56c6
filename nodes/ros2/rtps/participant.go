package rtps

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/rtps/wire"
)

// Participant is one DDS domain participant. Its state (discovered peers,
// endpoints, histories, matched proxies) is owned by one goroutine, the
// loop; sockets, timers and API calls reach it over channels.
type Participant struct {
	conf  Config
	log   *slog.Logger
	guid  GUID
	pid   int
	stats counters

	meta, user *net.UDPConn // unicast sockets; meta also sends multicast
	mcast      *net.UDPConn // SPDP multicast port, nil with Range Off
	ifaces     []netip.Prefix
	mcastIfs   []netip.Addr
	peerAddrs  []netip.AddrPort // static peers' SPDP unicast ports

	in       chan datagram
	free     chan []byte
	writeCh  chan *Writer
	cmds     chan func()
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	wg       sync.WaitGroup
	closeErr error
	closed   atomic.Bool

	// Owned by the loop.
	out          []byte // scratch datagram
	now          time.Time
	participants map[GUIDPrefix]*remoteParticipant
	remote       map[GUID]*remoteEndpoint
	writers      map[EntityID]*writerState
	readers      map[EntityID]*readerState
	byWriter     map[GUID][]*writerProxy // remote writer -> our readers' proxies
	nextKey      uint32
	spdpData     []byte // serialized SPDP payload
	spdpSN       SequenceNumber
	lastAnnounce time.Time
	lastLease    time.Time
	reasmBytes   int
	dvRecv       delivery     // scratch for receive
	dvDrain      delivery     // scratch for drain
	pubs, subs   *writerState // SEDP announcers
	pubsR, subsR *readerState // SEDP detectors
	wlp          *writerState // participant-message writer (never writes)
	wlpR         *readerState
}

type datagram struct {
	buf     []byte
	src     netip.AddrPort
	unicast bool
}

const (
	recvBufSize  = 65536
	recvBufCount = 64
	tickPeriod   = 20 * time.Millisecond
)

// NewParticipant binds the first free participant id's port pair, joins
// the SPDP multicast group (unless Range is Off) and starts announcing.
func NewParticipant(ctx context.Context, conf Config) (*Participant, error) {
	if err := conf.setDefaults(); err != nil {
		return nil, err
	}
	p := newParticipantState(conf)
	if err := p.pickInterfaces(); err != nil {
		return nil, err
	}
	if err := p.resolvePeers(ctx); err != nil {
		return nil, err
	}
	if err := p.bind(); err != nil {
		return nil, err
	}
	p.log = conf.Logger.With("component", "rtps", "guid", p.guid.String(), "domain", conf.DomainID, "participant_id", p.pid)
	for i := 0; i < recvBufCount; i++ {
		p.free <- make([]byte, recvBufSize)
	}
	p.ctx, p.cancel = context.WithCancel(ctx)
	p.now = time.Now()
	p.buildSPDP()
	p.wg.Add(1)
	go p.recvLoop(p.meta, true)
	p.wg.Add(1)
	go p.recvLoop(p.user, true)
	if p.mcast != nil {
		p.wg.Add(1)
		go p.recvLoop(p.mcast, false)
	}
	go p.loop()
	p.log.Info("participant started", "range", conf.Range.String(), "interfaces", p.ifaces, "static_peers", len(p.peerAddrs))
	return p, nil
}

// newParticipantState makes the loop's state, without sockets.
func newParticipantState(conf Config) *Participant {
	p := &Participant{
		conf:         conf,
		log:          conf.Logger,
		in:           make(chan datagram, recvBufCount),
		free:         make(chan []byte, recvBufCount),
		writeCh:      make(chan *Writer),
		cmds:         make(chan func()),
		done:         make(chan struct{}),
		participants: map[GUIDPrefix]*remoteParticipant{},
		remote:       map[GUID]*remoteEndpoint{},
		writers:      map[EntityID]*writerState{},
		readers:      map[EntityID]*readerState{},
		byWriter:     map[GUID][]*writerProxy{},
		out:          make([]byte, 0, recvBufSize),
	}
	p.guid.Prefix[0], p.guid.Prefix[1] = wire.VendorRSSMD[0], wire.VendorRSSMD[1]
	rand.Read(p.guid.Prefix[2:]) // never fails (crypto/rand, Go 1.24+)
	p.guid.Entity = wire.EntityIDParticipant
	p.initBuiltins()
	return p
}

// GUID returns the participant's GUID.
func (p *Participant) GUID() GUID { return p.guid }

// ParticipantID returns the participant id whose ports were bound.
func (p *Participant) ParticipantID() int { return p.pid }

// pickInterfaces chooses the IPv4 addresses we advertise and send
// multicast on.
func (p *Participant) pickInterfaces() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("rtps: listing interfaces: %w", err)
	}
	var all, loop []netip.Prefix
	var mcAll, mcLoop []netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ad, ok := netip.AddrFromSlice(ipn.IP)
			if !ok || !ad.Unmap().Is4() {
				continue
			}
			ad = ad.Unmap()
			ones, _ := ipn.Mask.Size()
			pf := netip.PrefixFrom(ad, ones)
			if len(p.conf.Interfaces) > 0 {
				want := false
				for _, w := range p.conf.Interfaces {
					want = want || w == ad
				}
				if !want {
					continue
				}
			}
			mc := ifc.Flags&net.FlagMulticast != 0
			if ad.IsLoopback() {
				loop = append(loop, pf)
				if mc {
					mcLoop = append(mcLoop, ad)
				}
			} else {
				all = append(all, pf)
				if mc {
					mcAll = append(mcAll, ad)
				}
			}
		}
	}
	switch {
	case p.conf.Range == Localhost || len(all) == 0 && len(p.conf.Interfaces) == 0:
		// Nothing but loopback is up (a bare network namespace): use it.
		p.ifaces, p.mcastIfs = loop, mcLoop
	case len(p.conf.Interfaces) > 0:
		p.ifaces, p.mcastIfs = append(all, loop...), append(mcAll, mcLoop...)
	default:
		p.ifaces, p.mcastIfs = all, mcAll
	}
	if len(p.ifaces) == 0 {
		return fmt.Errorf("%w: no usable IPv4 interface (Interfaces %v, Range %s)", ErrConfig, p.conf.Interfaces, p.conf.Range)
	}
	if p.conf.Range == Off {
		p.mcastIfs = nil
	}
	return nil
}

func (p *Participant) resolvePeers(ctx context.Context) error {
	for _, h := range p.conf.StaticPeers {
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", h)
		if err != nil {
			return fmt.Errorf("%w: static peer %q: %w", ErrConfig, h, err)
		}
		for _, a := range addrs {
			for pid := 0; pid < p.conf.StaticPeerParticipants; pid++ {
				_, meta, _, _ := Ports(p.conf.DomainID, pid)
				p.peerAddrs = append(p.peerAddrs, netip.AddrPortFrom(a.Unmap(), uint16(meta)))
			}
		}
	}
	return nil
}

// bind takes the first participant id whose two unicast ports are free
// (§9.6.1.1), then the shared SPDP multicast port.
func (p *Participant) bind() error {
	var lastErr error
	for pid := 0; pid < 120; pid++ {
		spdp, meta, _, user := Ports(p.conf.DomainID, pid)
		if user > 65535 {
			break
		}
		mc, err := listenUDP(meta, false)
		if err != nil {
			lastErr = err
			continue
		}
		uc, err := listenUDP(user, false)
		if err != nil {
			mc.Close()
			lastErr = err
			continue
		}
		p.meta, p.user, p.pid = mc, uc, pid
		if len(p.mcastIfs) > 0 {
			m, err := listenUDP(spdp, true)
			if err != nil {
				p.closeSockets()
				return fmt.Errorf("rtps: binding SPDP multicast port %d: %w", spdp, err)
			}
			p.mcast = m
			joined := 0
			for _, a := range p.mcastIfs {
				if err := joinGroup(m, SPDPMulticastGroup, a); err != nil {
					p.conf.Logger.Warn("rtps: joining SPDP multicast group failed", "interface", a, "err", err)
					continue
				}
				joined++
			}
			if joined == 0 {
				p.conf.Logger.Warn("rtps: no interface joined the SPDP multicast group; only static peers will be found")
			}
		}
		return nil
	}
	return fmt.Errorf("rtps: no free participant id in domain %d: %w", p.conf.DomainID, lastErr)
}

func (p *Participant) closeSockets() {
	for _, c := range []*net.UDPConn{p.meta, p.user, p.mcast} {
		if c != nil {
			c.Close()
		}
	}
}

// recvLoop reads datagrams into pooled buffers and hands them to the loop.
func (p *Participant) recvLoop(conn *net.UDPConn, unicast bool) {
	defer p.wg.Done()
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.ctx.Done():
			return
		}
		n, src, err := conn.ReadFromUDPAddrPort(buf[:cap(buf)])
		if err != nil {
			p.free <- buf
			if p.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		select {
		case p.in <- datagram{buf: buf[:n], src: src, unicast: unicast}:
		case <-p.ctx.Done():
			return
		}
	}
}

// call runs f on the loop and waits for it.
func (p *Participant) call(f func()) error {
	done := make(chan struct{})
	select {
	case p.cmds <- func() { f(); close(done) }:
	case <-p.done:
		return ErrClosed
	}
	select {
	case <-done:
		return nil
	case <-p.done:
		return ErrClosed
	}
}

func (p *Participant) loop() {
	defer close(p.done)
	t := time.NewTicker(tickPeriod)
	defer t.Stop()
	p.announce()
	for {
		select {
		case <-p.ctx.Done():
			p.shutdown()
			return
		case d := <-p.in:
			p.now = time.Now()
			p.handleDatagram(d)
			p.free <- d.buf
		case w := <-p.writeCh:
			p.now = time.Now()
			w.res.sn, w.res.err = p.write(w.state, &w.req)
			w.done <- struct{}{}
		case f := <-p.cmds:
			p.now = time.Now()
			f()
		case now := <-t.C:
			p.now = now
			p.tick()
		}
	}
}

func (p *Participant) tick() {
	if p.now.Sub(p.lastAnnounce) >= p.conf.AnnouncePeriod {
		p.announce()
	}
	if p.now.Sub(p.lastLease) >= 250*time.Millisecond {
		p.lastLease = p.now
		p.checkLeases()
		for _, r := range p.readers {
			p.readerTick(r)
		}
	}
	for _, w := range p.writers {
		p.writerTick(w)
	}
}

// Close announces our departure, stops the loop and closes the sockets.
func (p *Participant) Close() error {
	if p.closed.Swap(true) {
		<-p.done
		return nil
	}
	p.cancel()
	<-p.done
	p.closeSockets()
	p.wg.Wait()
	for _, r := range p.readerList() {
		r.stop()
	}
	p.log.Info("participant closed")
	return nil
}

// readerList is read after the loop stopped.
func (p *Participant) readerList() []*Reader {
	var out []*Reader
	for _, r := range p.readers {
		if r.pub != nil {
			out = append(out, r.pub)
		}
	}
	return out
}

func (p *Participant) shutdown() {
	// §8.5.3: a disposed SPDP sample tells peers to drop us at once
	// instead of waiting for the lease to expire.
	p.sendSPDPDispose()
}

// header starts p.out with an RTPS header.
func (p *Participant) header() []byte {
	h := wire.Header{Version: wire.ProtocolVersion24, Vendor: wire.VendorRSSMD, Prefix: p.guid.Prefix}
	return h.Append(p.out[:0])
}

// send transmits b to addr over the meta or user socket.
func (p *Participant) send(b []byte, addr netip.AddrPort, meta bool) {
	if p.conf.dropOutgoing != nil && p.conf.dropOutgoing() {
		p.stats.datagramsDropped.Add(1)
		return
	}
	c := p.user
	if meta {
		c = p.meta
	}
	if c == nil {
		return // a socketless participant (fuzzing)
	}
	if _, err := c.WriteToUDPAddrPort(b, addr); err != nil {
		p.stats.datagramsDropped.Add(1)
		return
	}
	p.stats.datagramsSent.Add(1)
}

func (p *Participant) sendAll(b []byte, addrs []netip.AddrPort, meta bool) {
	for _, a := range addrs {
		p.send(b, a, meta)
	}
}

// handleDatagram interprets one message (§8.3.4: the receiver's state is
// the source and destination set by INFO_SRC/INFO_DST and the time set by
// INFO_TS).
func (p *Participant) handleDatagram(d datagram) {
	p.stats.datagramsReceived.Add(1)
	if p.conf.captured != nil {
		p.conf.captured(d.buf)
	}
	var r wire.Reader
	if err := r.Reset(d.buf); err != nil {
		p.stats.malformed.Add(1)
		return
	}
	if r.Header.Prefix == p.guid.Prefix {
		return // our own multicast, looped back
	}
	rc := recvContext{src: r.Header.Prefix, vendor: r.Header.Vendor, forUs: true, from: d.src, unicast: d.unicast}
	if rp := p.participants[rc.src]; rp != nil {
		rp.lastSeen = p.now // any traffic shows the peer is alive
	}
	for {
		sh, body, ok, err := r.Next()
		if err != nil {
			p.stats.malformed.Add(1)
			return
		}
		if !ok {
			return
		}
		if err := p.handleSubmessage(&rc, sh, body); err != nil {
			// §8.3.4.1: an invalid submessage invalidates the rest.
			p.stats.malformed.Add(1)
			return
		}
	}
}

type recvContext struct {
	src     GUIDPrefix
	vendor  wire.VendorID
	forUs   bool
	ts      wire.Time
	hasTS   bool
	from    netip.AddrPort
	unicast bool
}

func (p *Participant) handleSubmessage(rc *recvContext, sh wire.SubmessageHeader, body []byte) error {
	switch sh.Kind {
	case wire.INFO_DST:
		var m wire.InfoDst
		if err := m.Unmarshal(sh, body); err != nil {
			return err
		}
		rc.forUs = m.Prefix == (GUIDPrefix{}) || m.Prefix == p.guid.Prefix
		return nil
	case wire.INFO_SRC:
		var m wire.InfoSrc
		if err := m.Unmarshal(sh, body); err != nil {
			return err
		}
		rc.src, rc.vendor = m.Prefix, m.Vendor
		return nil
	case wire.INFO_TS:
		var m wire.InfoTS
		if err := m.Unmarshal(sh, body); err != nil {
			return err
		}
		rc.ts, rc.hasTS = m.Timestamp, !m.Invalidate
		return nil
	}
	if !rc.forUs {
		return nil
	}
	switch sh.Kind {
	case wire.DATA:
		var m wire.Data
		if err := m.Unmarshal(sh, body); err != nil {
			return err
		}
		p.onData(rc, &m)
	case wire.DATA_FRAG:
		var m wire.DataFrag
		if err := m.Unmarshal(sh, body); err != nil {
			return err
		}
		p.stats.fragmentsReceived.Add(1)
		p.onDataFrag(rc, &m)
	case wire.HEARTBEAT:
		var m wire.Heartbeat
		if err := m.Unmarshal(sh, body); err != nil {
			return err
		}
		p.stats.heartbeatsReceived.Add(1)
		p.onHeartbeat(rc, &m)
	case wire.HEARTBEAT_FRAG:
		var m wire.HeartbeatFrag
		if err := m.Unmarshal(sh, body); err != nil {
			return err
		}
		p.onHeartbeatFrag(rc, &m)
	case wire.GAP:
		var m wire.Gap
		if err := m.Unmarshal(sh, body); err != nil {
			return err
		}
		p.stats.gapsReceived.Add(1)
		p.onGap(rc, &m)
	case wire.ACKNACK:
		var m wire.AckNack
		if err := m.Unmarshal(sh, body); err != nil {
			return err
		}
		p.stats.acknacksReceived.Add(1)
		p.onAckNack(rc, &m)
	case wire.NACK_FRAG:
		var m wire.NackFrag
		if err := m.Unmarshal(sh, body); err != nil {
			return err
		}
		p.stats.nackFragsRcv.Add(1)
		p.onNackFrag(rc, &m)
	}
	// Other kinds (PAD, INFO_REPLY, vendor-specific 0x80-0xff) are skipped
	// as §8.3.4.1 asks.
	return nil
}
