package ros2

import (
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/msg"
	"github.com/rssmd/rssmd/nodes/ros2/rtps"
)

// Reader callbacks: each runs on its reader's own goroutine, so a callback may reuse its
// decoded message between samples; sample data is valid only during the call.

func (n *Node) onAction(s rtps.Sample) {
	var m msg.Float32MultiArray
	if err := msg.Decode(s.Data, &m); err != nil {
		n.actions.CountRejected()
		if n.warn.OK("action") {
			n.log.Warn("~action rejected", "err", err, "writer", s.Writer)
		}
		return
	}
	if err := n.actions.Put(m.Data, time.Now()); err != nil && n.warn.OK("action") {
		n.log.Warn("~action rejected", "err", err, "rejected", n.actions.Rejected())
	}
}

// onImage keeps the decoded frame in the image source (the newest wins), so every message
// gets its own buffer.
func (n *Node) onImage(s rtps.Sample) {
	var m msg.Image
	if err := msg.Decode(s.Data, &m); err != nil {
		n.images.Refuse(err)
		if n.warn.OK("image") {
			n.log.Warn("~image rejected", "err", err)
		}
		return
	}
	if err := n.images.HandleRaw(m.Encoding, int(m.Width), int(m.Height), int(m.Step), m.Data, m.Header.Stamp.Time()); err != nil && n.warn.OK("image") {
		r, _ := n.images.Rejected()
		n.log.Warn("~image rejected", "err", err, "rejected", r)
	}
}

func (n *Node) onCompressed(s rtps.Sample) {
	var m msg.CompressedImage
	if err := msg.Decode(s.Data, &m); err != nil {
		n.images.Refuse(err)
		if n.warn.OK("compressed") {
			n.log.Warn("~image/compressed rejected", "err", err)
		}
		return
	}
	if err := n.images.HandleJPEG(m.Format, m.Data, m.Header.Stamp.Time()); err != nil && n.warn.OK("compressed") {
		r, _ := n.images.Rejected()
		n.log.Warn("~image/compressed rejected", "err", err, "rejected", r)
	}
}
