package msg

import (
	"fmt"

	"github.com/rssmd/rssmd/nodes/ros2/cdr"
)

// Sizes of rmw_dds_common/msg/Gid's data: Humble sends uint8[24], Iron and later uint8[16]
// (ros2/rmw_dds_common#68). The size is not on the wire, so both ends must agree: it is a
// setting of the node, carried by the messages below.
const (
	GidSizeHumble = 24
	GidSizeIron   = 16
)

// Gid is rmw_dds_common/msg/Gid. An RTPS GUID (prefix and entity id) is its first 16 bytes;
// Humble pads to 24 with zeros.
type Gid struct {
	Data [GidSizeHumble]byte
}

func gidSize(n int) (int, error) {
	switch n {
	case 0, GidSizeIron:
		return GidSizeIron, nil
	case GidSizeHumble:
		return GidSizeHumble, nil
	}
	return 0, fmt.Errorf("msg: Gid size %d, want %d (Iron and later) or %d (Humble)", n, GidSizeIron, GidSizeHumble)
}

// NodeEntitiesInfo is rmw_dds_common/msg/NodeEntitiesInfo.
type NodeEntitiesInfo struct {
	NodeNamespace string // at most 256 bytes
	NodeName      string // at most 256 bytes
	ReaderGidSeq  []Gid
	WriterGidSeq  []Gid
	// GidSize is the Gid length on the wire, GidSizeIron (also when 0) or GidSizeHumble;
	// it is not sent. Inside a ParticipantEntitiesInfo, the participant's GidSize is used.
	GidSize int
}

func (m *NodeEntitiesInfo) Type() *TypeInfo { return infoNodeInfo }

func (m *NodeEntitiesInfo) Marshal(e *cdr.Encoder) {
	n, err := gidSize(m.GidSize)
	if err != nil {
		n = GidSizeIron // an invalid setting is reported by Unmarshal and by node configuration
	}
	m.marshal(e, n)
}

func (m *NodeEntitiesInfo) marshal(e *cdr.Encoder, n int) {
	e.String(m.NodeNamespace)
	e.String(m.NodeName)
	e.SeqLen(len(m.ReaderGidSeq))
	for i := range m.ReaderGidSeq {
		e.OctetArray(m.ReaderGidSeq[i].Data[:n])
	}
	e.SeqLen(len(m.WriterGidSeq))
	for i := range m.WriterGidSeq {
		e.OctetArray(m.WriterGidSeq[i].Data[:n])
	}
}

func (m *NodeEntitiesInfo) read(d *cdr.Decoder, n int) {
	d.StringInto(&m.NodeNamespace)
	d.StringInto(&m.NodeName)
	m.ReaderGidSeq = readGids(d, m.ReaderGidSeq, n)
	m.WriterGidSeq = readGids(d, m.WriterGidSeq, n)
}

func readGids(d *cdr.Decoder, dst []Gid, n int) []Gid {
	dst = cdr.Grow(dst, d.SeqLen(n))
	for i := range dst {
		dst[i] = Gid{}
		d.OctetArray(dst[i].Data[:n])
	}
	return dst
}

func (m *NodeEntitiesInfo) Unmarshal(d *cdr.Decoder) error {
	n, err := gidSize(m.GidSize)
	if err != nil {
		return d.Fail(err)
	}
	m.read(d, n)
	return wrap(d, infoNodeInfo)
}

// ParticipantEntitiesInfo is rmw_dds_common/msg/ParticipantEntitiesInfo, the sample a
// participant publishes on ros_discovery_info.
type ParticipantEntitiesInfo struct {
	Gid                 Gid
	NodeEntitiesInfoSeq []NodeEntitiesInfo
	// GidSize is the Gid length on the wire: GidSizeIron (also when 0) or GidSizeHumble.
	GidSize int
}

func (m *ParticipantEntitiesInfo) Type() *TypeInfo { return infoParticipant }

func (m *ParticipantEntitiesInfo) Marshal(e *cdr.Encoder) {
	n, err := gidSize(m.GidSize)
	if err != nil {
		n = GidSizeIron
	}
	e.OctetArray(m.Gid.Data[:n])
	e.SeqLen(len(m.NodeEntitiesInfoSeq))
	for i := range m.NodeEntitiesInfoSeq {
		m.NodeEntitiesInfoSeq[i].marshal(e, n)
	}
}

func (m *ParticipantEntitiesInfo) Unmarshal(d *cdr.Decoder) error {
	n, err := gidSize(m.GidSize)
	if err != nil {
		return d.Fail(err)
	}
	m.Gid = Gid{}
	d.OctetArray(m.Gid.Data[:n])
	m.NodeEntitiesInfoSeq = cdr.Grow(m.NodeEntitiesInfoSeq, d.SeqLen(minNodeInfo))
	for i := range m.NodeEntitiesInfoSeq {
		m.NodeEntitiesInfoSeq[i].GidSize = m.GidSize
		m.NodeEntitiesInfoSeq[i].read(d, n)
	}
	return wrap(d, infoParticipant)
}
