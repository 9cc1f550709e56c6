package ros

import (
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
)

func (n *Node) onAction(m *std_msgs.Float32MultiArray) {
	if err := n.actions.Put(m.Data, n.Now()); err != nil && n.warn.OK("action") {
		n.log.Warn("~action rejected", "err", err, "rejected", n.actions.Rejected())
	}
}

func (n *Node) onImage(m *sensor_msgs.Image) {
	if err := n.images.HandleImage(m); err != nil && n.warn.OK("image") {
		r, _ := n.images.Rejected()
		n.log.Warn("~image rejected", "err", err, "rejected", r)
	}
}

func (n *Node) onCompressed(m *sensor_msgs.CompressedImage) {
	if err := n.images.HandleCompressed(m); err != nil && n.warn.OK("compressed") {
		r, _ := n.images.Rejected()
		n.log.Warn("~image/compressed rejected", "err", err, "rejected", r)
	}
}
