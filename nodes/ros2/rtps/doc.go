// Package rtps is a minimal DDS participant speaking DDSI-RTPS 2.4 over
// UDPv4, written from the OMG DDSI-RTPS 2.5 specification, so that rssmd
// can be a ROS 2 node from one static Go binary without any DDS library.
// It moves opaque serialized samples (CDR with their 4-byte encapsulation
// header); CDR and ROS message types live elsewhere. Wire encoding is in
// the wire sub-package.
//
// # What it implements
//
//   - SPDP (§8.5.3): announcements (protocol version, vendor id, GUID,
//     default and metatraffic unicast locators, metatraffic multicast
//     239.255.0.1, builtin endpoint set, lease, USER_DATA, entity name,
//     domain id) to the multicast group, to static peers' SPDP unicast
//     ports (participant ids 0..StaticPeerParticipants-1) and, by unicast,
//     to peers that found us that way; a new peer is answered at once.
//     The participant id is the first whose unicast port pair
//     (7410+250d+2i, 7411+250d+2i) binds. Leases are tracked; a peer is
//     dropped on expiry or on a disposed/unregistered announcement, and
//     Close sends ours.
//   - SEDP (§8.5.4): reliable, transient-local publications and
//     subscriptions announcers and detectors; endpoints match on topic,
//     type name, no partition, and QoS (a best-effort writer never matches
//     a reliable reader; a volatile writer never a transient-local reader).
//   - Writers: best effort, and reliable with a bounded KEEP_LAST history,
//     HEARTBEATs (piggybacked final ones with data, periodic ones with
//     backoff while unacknowledged), ACKNACK-driven resends, GAPs for
//     samples no longer held, NACK_FRAG-driven fragment resends;
//     transient-local writers push their history to transient-local late
//     joiners. Write copies into a preallocated history slot and allocates
//     nothing once warm. WriteWith adds inline QoS, e.g. Fast DDS's related
//     sample identity (PID 0x800f) that service replies need.
//   - Readers: best effort (older and duplicate samples dropped) and
//     reliable (in-order delivery per writer, duplicates dropped, ACKNACKs
//     answering HEARTBEATs, pre-emptive ACKNACKs on matching, GAP
//     handling). A reliable reader starts at the first sample its writer's
//     first HEARTBEAT offers, so nothing the writer sent after matching us
//     is lost even when it matched us first.
//   - DATA_FRAG both ways: samples over FragmentSize (8000 bytes) are sent
//     in 8000-byte fragments, one per datagram; reassembly allocates only
//     the declared sample size, bounded by Config.MaxSampleSize per sample
//     and Config.MaxReassemblyBytes in all; partial samples older than 5 s
//     are dropped; reliable readers ask for missing fragments with NACK_FRAG.
//   - Stats: counters for a Prometheus collector.
//
// The vendor id announced is 0x01f0 (wire.VendorRSSMD), not on the OMG's
// list of assigned vendor ids; peers treat unknown vendors generically.
//
// # Concurrency
//
// One goroutine, the participant's loop, owns all protocol state.
// Receiving goroutines hand it datagrams in pooled buffers; a ticker drives
// announcements, leases and heartbeats; NewWriter/NewReader and Write reach
// it over channels. Each Reader runs its OnSample callback on its own
// goroutine, fed from a bounded queue, so a callback may call Write (a
// service answering a request).
//
// # What it does not implement
//
// DDS Security, shared-memory and TCP transports, IPv6, XTypes
// (TypeInformation/TypeObject; ROS 2 matches on type names), keyed topics
// and instances (ROS 2 user topics are NO_KEY), partitions (an endpoint
// with any partition does not match), content filters, deadline, lifespan,
// ownership, liveliness other than the participant lease (the
// participant-message endpoints exist, so Fast DDS stops probing for them,
// but our writer never asserts anything: all our endpoints have infinite
// liveliness leases), KEEP_ALL user history, multicast user traffic (we
// advertise and use unicast locators only), HEARTBEAT_FRAG from our
// writers, and send pacing. Endpoints live as long as their participant.
package rtps
