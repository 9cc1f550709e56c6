package ros

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollector(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Stats
		want string
	}{
		{"fresh", Stats{}, `
rssmd_ros_connected 0
rssmd_ros_reconnects_total 0
rssmd_ros_rejected_total{input="action"} 0
rssmd_ros_rejected_total{input="image"} 0
`},
		{"after a restart", Stats{Connected: true, Connects: 2, Reconnects: 1, Published: 40, Unsent: 3, SimTime: true, ActionsRejected: 2, ImagesRejected: 5}, `
rssmd_ros_connected 1
rssmd_ros_connects_total 2
rssmd_ros_reconnects_total 1
rssmd_ros_published_total 40
rssmd_ros_unsent_total 3
rssmd_ros_sim_time 1
rssmd_ros_rejected_total{input="action"} 2
rssmd_ros_rejected_total{input="image"} 5
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(NewCollector(func() Stats { return tc.s }))
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, mf := range mfs {
				n += len(mf.GetMetric())
			}
			if n != 8 {
				t.Errorf("gathered %d series, want 8", n)
			}
			var text strings.Builder
			for _, mf := range mfs {
				for _, m := range mf.GetMetric() {
					v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
					lbl := ""
					for _, l := range m.GetLabel() {
						lbl = `{` + l.GetName() + `="` + l.GetValue() + `"}`
					}
					fmt.Fprintf(&text, "%s%s %g\n", mf.GetName(), lbl, v)
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(tc.want), "\n") {
				if !strings.Contains(text.String(), line+"\n") {
					t.Errorf("no %q in\n%s", line, text.String())
				}
			}
		})
	}
}
