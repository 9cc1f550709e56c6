package ros

import "github.com/prometheus/client_golang/prometheus"

// collector exports a node's Stats at scrape time (the counters live in the node; copying
// them into Prometheus metrics on every tick would be wasted work).
type collector struct {
	stats                                      func() Stats
	connected, connects, reconnects, published *prometheus.Desc
	unsent, simTime, rejected                  *prometheus.Desc
}

// NewCollector returns a Prometheus collector for stats (Node.Stats): registration state,
// (re)connections, published and unsent ticks, sim time, and rejected inputs by topic.
func NewCollector(stats func() Stats) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("rssmd_ros_"+name, help, labels, nil)
	}
	return &collector{
		stats:      stats,
		connected:  d("connected", "1 while the node is registered with a ROS master."),
		connects:   d("connects_total", "Registrations with a ROS master, the first included."),
		reconnects: d("reconnects_total", "Re-registrations after the master was lost or restarted."),
		published:  d("published_total", "Ticks published on the ROS topics."),
		unsent:     d("unsent_total", "Ticks not published because no master was reachable."),
		simTime:    d("sim_time", "1 when the node runs on /clock (use_sim_time)."),
		rejected:   d("rejected_total", "Inputs rejected (wrong size, encoding, NaN), by input topic.", "input"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.connected, c.connects, c.reconnects, c.published, c.unsent, c.simTime, c.rejected} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, b(s.Connected))
	ch <- prometheus.MustNewConstMetric(c.connects, prometheus.CounterValue, float64(s.Connects))
	ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(s.Reconnects))
	ch <- prometheus.MustNewConstMetric(c.published, prometheus.CounterValue, float64(s.Published))
	ch <- prometheus.MustNewConstMetric(c.unsent, prometheus.CounterValue, float64(s.Unsent))
	ch <- prometheus.MustNewConstMetric(c.simTime, prometheus.GaugeValue, b(s.SimTime))
	ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(s.ActionsRejected), "action")
	ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(s.ImagesRejected), "image")
}
