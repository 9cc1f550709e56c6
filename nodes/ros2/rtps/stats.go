package rtps

import "sync/atomic"

// Stats are counters a node can export (e.g. to Prometheus). All are
// totals since the participant started, except the two gauges.
type Stats struct {
	ParticipantsDiscovered uint64
	ParticipantsLost       uint64
	ParticipantsCurrent    uint64 // gauge
	EndpointsMatched       uint64
	EndpointsUnmatched     uint64
	DatagramsSent          uint64
	DatagramsDropped       uint64 // by the loss hook or a failed send
	DatagramsReceived      uint64
	MalformedDropped       uint64
	SamplesSent            uint64
	SamplesResent          uint64
	SamplesReceived        uint64
	SamplesDuplicate       uint64
	SamplesLost            uint64 // reliable samples the writer no longer had
	SamplesDroppedSlow     uint64 // a reader's callback queue was full
	HeartbeatsSent         uint64
	HeartbeatsReceived     uint64
	AckNacksSent           uint64
	AckNacksReceived       uint64
	GapsSent               uint64
	GapsReceived           uint64
	FragmentsSent          uint64
	FragmentsReceived      uint64
	NackFragsSent          uint64
	NackFragsReceived      uint64
	ReassemblyDropped      uint64 // partial samples dropped: stale, too big or over budget
	ReassemblyBytes        uint64 // gauge
}

// counters is the live, atomically updated form of Stats.
type counters struct {
	participantsDiscovered, participantsLost, participantsCurrent atomic.Uint64
	endpointsMatched, endpointsUnmatched                          atomic.Uint64
	datagramsSent, datagramsDropped, datagramsReceived, malformed atomic.Uint64
	samplesSent, samplesResent, samplesReceived, samplesDuplicate atomic.Uint64
	samplesLost, samplesDroppedSlow                               atomic.Uint64
	heartbeatsSent, heartbeatsReceived                            atomic.Uint64
	acknacksSent, acknacksReceived, gapsSent, gapsReceived        atomic.Uint64
	fragmentsSent, fragmentsReceived, nackFragsSent, nackFragsRcv atomic.Uint64
	reassemblyDropped, reassemblyBytes                            atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (p *Participant) Stats() Stats {
	c := &p.stats
	return Stats{
		ParticipantsDiscovered: c.participantsDiscovered.Load(),
		ParticipantsLost:       c.participantsLost.Load(),
		ParticipantsCurrent:    c.participantsCurrent.Load(),
		EndpointsMatched:       c.endpointsMatched.Load(),
		EndpointsUnmatched:     c.endpointsUnmatched.Load(),
		DatagramsSent:          c.datagramsSent.Load(),
		DatagramsDropped:       c.datagramsDropped.Load(),
		DatagramsReceived:      c.datagramsReceived.Load(),
		MalformedDropped:       c.malformed.Load(),
		SamplesSent:            c.samplesSent.Load(),
		SamplesResent:          c.samplesResent.Load(),
		SamplesReceived:        c.samplesReceived.Load(),
		SamplesDuplicate:       c.samplesDuplicate.Load(),
		SamplesLost:            c.samplesLost.Load(),
		SamplesDroppedSlow:     c.samplesDroppedSlow.Load(),
		HeartbeatsSent:         c.heartbeatsSent.Load(),
		HeartbeatsReceived:     c.heartbeatsReceived.Load(),
		AckNacksSent:           c.acknacksSent.Load(),
		AckNacksReceived:       c.acknacksReceived.Load(),
		GapsSent:               c.gapsSent.Load(),
		GapsReceived:           c.gapsReceived.Load(),
		FragmentsSent:          c.fragmentsSent.Load(),
		FragmentsReceived:      c.fragmentsReceived.Load(),
		NackFragsSent:          c.nackFragsSent.Load(),
		NackFragsReceived:      c.nackFragsRcv.Load(),
		ReassemblyDropped:      c.reassemblyDropped.Load(),
		ReassemblyBytes:        c.reassemblyBytes.Load(),
	}
}
