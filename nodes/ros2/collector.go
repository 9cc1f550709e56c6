package ros2

import "github.com/prometheus/client_golang/prometheus"

// collector exports the node's and its participant's counters at scrape time.
type collector struct {
	n                                          *Node
	published, rejected, calls, subscribers    *prometheus.Desc
	participants, samples, resent, malformed   *prometheus.Desc
	lost, dropped, fragments, matchedEndpoints *prometheus.Desc
}

// NewCollector returns a Prometheus collector for n: published ticks, rejected inputs by
// topic, service calls, and the RTPS participant's discovery and reliability counters.
func NewCollector(n *Node) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("rssmd_ros2_"+name, help, labels, nil)
	}
	return &collector{
		n:                n,
		published:        d("published_total", "Ticks published on the ROS 2 topics."),
		rejected:         d("rejected_total", "Inputs rejected (undecodable, wrong size, encoding, NaN), by input topic.", "input"),
		calls:            d("service_calls_total", "Service requests answered (~/reset, ~/imagine)."),
		subscribers:      d("latent_vector_subscribers", "Readers matched to ~/latent_vector."),
		participants:     d("participants", "Remote DDS participants currently discovered."),
		samples:          d("samples_total", "RTPS samples, by direction.", "direction"),
		resent:           d("samples_resent_total", "Samples resent after a NACK (reliable topics)."),
		malformed:        d("malformed_dropped_total", "Datagrams dropped as malformed."),
		lost:             d("participants_lost_total", "Remote participants dropped (lease expired or left)."),
		dropped:          d("samples_dropped_slow_total", "Samples dropped because a reader callback fell behind."),
		fragments:        d("fragments_total", "DATA_FRAG fragments, by direction.", "direction"),
		matchedEndpoints: d("endpoints_matched_total", "Remote endpoints matched to ours."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.published, c.rejected, c.calls, c.subscribers, c.participants, c.samples,
		c.resent, c.malformed, c.lost, c.dropped, c.fragments, c.matchedEndpoints} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s, p := c.n.Stats(), c.n.part.Stats()
	m := func(d *prometheus.Desc, t prometheus.ValueType, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, float64(v), labels...)
	}
	m(c.published, prometheus.CounterValue, s.Published)
	m(c.rejected, prometheus.CounterValue, s.ActionsRejected, "action")
	m(c.rejected, prometheus.CounterValue, s.ImagesRejected, "image")
	m(c.calls, prometheus.CounterValue, s.ServiceCalls)
	m(c.subscribers, prometheus.GaugeValue, uint64(s.Subscribers))
	m(c.participants, prometheus.GaugeValue, p.ParticipantsCurrent)
	m(c.samples, prometheus.CounterValue, p.SamplesSent, "sent")
	m(c.samples, prometheus.CounterValue, p.SamplesReceived, "received")
	m(c.resent, prometheus.CounterValue, p.SamplesResent)
	m(c.malformed, prometheus.CounterValue, p.MalformedDropped)
	m(c.lost, prometheus.CounterValue, p.ParticipantsLost)
	m(c.dropped, prometheus.CounterValue, p.SamplesDroppedSlow)
	m(c.fragments, prometheus.CounterValue, p.FragmentsSent, "sent")
	m(c.fragments, prometheus.CounterValue, p.FragmentsReceived, "received")
	m(c.matchedEndpoints, prometheus.CounterValue, p.EndpointsMatched)
}
