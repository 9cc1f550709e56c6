package ros2

import (
	"sync"
	"time"

	"github.com/rssmd/rssmd/nodes/ros2/msg"
	"github.com/rssmd/rssmd/nodes/ros2/names"
	"github.com/rssmd/rssmd/nodes/ros2/rtps"
)

// graphTopic is where ROS 2 participants describe their nodes (rmw_dds_common), so that
// `ros2 node list` and `ros2 topic list` show rssmd and its endpoints.
const graphTopic = "ros_discovery_info"

// graph is this participant's ParticipantEntitiesInfo: the one node and its endpoints' GIDs.
type graph struct {
	part    *rtps.Participant
	node    *names.Node
	gidSize int

	mu      sync.Mutex
	readers []msg.Gid
	writers []msg.Gid
	w       *rtps.Writer
}

func newGraph(p *rtps.Participant, node *names.Node, gidSize int) *graph {
	return &graph{part: p, node: node, gidSize: gidSize}
}

func gidOf(g rtps.GUID) msg.Gid {
	var id msg.Gid
	copy(id.Data[:12], g.Prefix[:])
	copy(id.Data[12:16], g.Entity[:])
	return id
}

func (g *graph) addReader(id rtps.GUID) {
	g.mu.Lock()
	g.readers = append(g.readers, gidOf(id))
	g.mu.Unlock()
}

func (g *graph) addWriter(id rtps.GUID) {
	g.mu.Lock()
	g.writers = append(g.writers, gidOf(id))
	g.mu.Unlock()
}

// info is the current ParticipantEntitiesInfo.
func (g *graph) info() *msg.ParticipantEntitiesInfo {
	g.mu.Lock()
	defer g.mu.Unlock()
	return &msg.ParticipantEntitiesInfo{
		Gid:     gidOf(g.part.GUID()),
		GidSize: g.gidSize,
		NodeEntitiesInfoSeq: []msg.NodeEntitiesInfo{{
			NodeNamespace: g.node.Namespace, NodeName: g.node.Name,
			ReaderGidSeq: append([]msg.Gid(nil), g.readers...), WriterGidSeq: append([]msg.Gid(nil), g.writers...),
			GidSize: g.gidSize,
		}},
	}
}

// publish (re)announces the graph; the writer is transient local, so late joiners get it.
func (g *graph) publish() error {
	if g.w == nil {
		t := (&msg.ParticipantEntitiesInfo{}).Type()
		w, err := g.part.NewWriter(rtps.WriterConfig{Topic: graphTopic, TypeName: t.DDSName, QoS: qosGraph, UserData: typeHashData(t)})
		if err != nil {
			return err
		}
		g.w = w
	}
	_, err := g.w.Write(msg.Encode(nil, g.info()), time.Now())
	return err
}
