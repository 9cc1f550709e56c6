package ros2

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/nodes/ros2/cdr"
	"github.com/rssmd/rssmd/nodes/ros2/msg"
	"github.com/rssmd/rssmd/nodes/ros2/names"
	"github.com/rssmd/rssmd/nodes/ros2/rtps"
)

// A ROS 2 service is a request topic rq/<name>Request and a reply topic rq/<name>Reply. The
// two tier-1 RMWs tie a reply to its request differently, and a server must answer both:
//   - rmw_cyclonedds puts a header {uint64 client id; int64 sequence number} before the
//     message body of the request; the reply echoes it before its own body.
//   - rmw_fastrtps sends the plain body; the request is identified by its writer GUID and
//     sequence number, which the reply carries as the related sample identity (an inline
//     QoS parameter).
// The convention is chosen per request from the requesting participant's vendor id.

var vendorCyclone = [2]byte{0x01, 0x10}

// serviceHandler reads a request's body from d and returns the response to send.
type serviceHandler func(d *cdr.Decoder) (msg.Message, error)

type service struct {
	name   string
	reply  *rtps.Writer
	handle serviceHandler
	calls  atomic.Uint64

	mu  sync.Mutex // one reply encoded at a time (one reader goroutine, but keep it safe)
	enc cdr.Encoder
	buf []byte
}

func (n *Node) addService(name string, svc, reqType, respType *msg.TypeInfo, h serviceHandler) error {
	fqn, err := n.conf.Node.Resolve(name)
	if err != nil {
		return fmt.Errorf("service %s: %w", name, err)
	}
	s := &service{name: fqn, handle: h}
	if s.reply, err = n.rawWriter(names.ReplyTopic(fqn), respType, qosService); err != nil {
		return err
	}
	if _, err := n.rawReader(names.RequestTopic(fqn), reqType, qosService, func(smp rtps.Sample) { n.serve(s, smp) }); err != nil {
		return err
	}
	n.services = append(n.services, s)
	return nil
}

func (n *Node) serve(s *service, smp rtps.Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d cdr.Decoder
	if err := d.Reset(smp.Data); err != nil {
		n.warnBadRequest(s, err)
		return
	}
	cyclone := smp.VendorID == vendorCyclone
	var client uint64
	var seq int64
	if cyclone {
		client, seq = d.Uint64(), d.Int64()
		if err := d.Err(); err != nil {
			n.warnBadRequest(s, err)
			return
		}
	}
	resp, err := s.handle(&d)
	if err != nil {
		n.warnBadRequest(s, err)
		return
	}
	s.calls.Add(1)
	s.enc.Reset(s.buf[:0])
	var qos []rtps.Parameter
	if cyclone {
		s.enc.Uint64(client)
		s.enc.Int64(seq)
	} else {
		qos = []rtps.Parameter{rtps.RelatedSampleIdentity(rtps.SampleIdentity{Writer: smp.Writer, SN: smp.Seq})}
	}
	resp.Marshal(&s.enc)
	s.buf = s.enc.Finish()
	if !s.reply.MatchedParticipant(smp.Writer.Prefix) {
		// Discovery is not symmetric: the client may see our request reader (and send) before
		// we have matched its reply reader, and our volatile reply writer would send to nobody.
		// Hold this reply until the reader matches, as rmw_fastrtps' servers do.
		n.deferReply(s, smp.Writer.Prefix, append([]byte(nil), s.buf...), qos)
		return
	}
	n.sendReply(s, s.buf, qos)
}

func (n *Node) sendReply(s *service, buf []byte, qos []rtps.Parameter) {
	if _, err := s.reply.WriteWith(buf, time.Now(), qos); err != nil && n.warn.OK("reply "+s.name) {
		n.log.Warn("service reply not sent", "service", s.name, "err", err)
	}
}

// replyMatchWait bounds how long a reply waits for its client's reply reader to match.
const replyMatchWait = 5 * time.Second

// deferReply sends buf once the reply writer has matched a reader of the requesting
// participant, or drops it (logged) after replyMatchWait or at Close.
func (n *Node) deferReply(s *service, client rtps.GUIDPrefix, buf []byte, qos []rtps.Parameter) {
	n.replyMu.Lock()
	defer n.replyMu.Unlock()
	if n.closing {
		return
	}
	n.deferred.Add(1)
	go func() {
		defer n.deferred.Done()
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		deadline := time.Now().Add(replyMatchWait)
		for !s.reply.MatchedParticipant(client) {
			if time.Now().After(deadline) {
				if n.warn.OK("reply " + s.name) {
					n.log.Warn("service reply dropped: the client's reply reader never matched", "service", s.name, "waited", replyMatchWait)
				}
				return
			}
			select {
			case <-n.ctx.Done():
				return
			case <-tk.C:
			}
		}
		n.sendReply(s, buf, qos)
	}()
}

func (n *Node) warnBadRequest(s *service, err error) {
	if n.warn.OK("request " + s.name) {
		n.log.Warn("malformed service request dropped", "service", s.name, "err", err)
	}
}

func (n *Node) onReset(d *cdr.Decoder) (msg.Message, error) {
	var req msg.TriggerRequest
	if err := req.Unmarshal(d); err != nil {
		return nil, err
	}
	if n.conf.Reset == nil {
		return &msg.TriggerResponse{Success: false, Message: "reset is not available in this configuration"}, nil
	}
	if err := n.conf.Reset(); err != nil {
		return &msg.TriggerResponse{Success: false, Message: err.Error()}, nil
	}
	n.log.Info("filter reset by ~/reset")
	return &msg.TriggerResponse{Success: true, Message: "filter state reset; the next step starts a new episode"}, nil
}

// onImagine rolls the prior out from the newest state (on the worker, which owns the model).
func (n *Node) onImagine(d *cdr.Decoder) (msg.Message, error) {
	var req msg.ImagineRequest
	if err := req.Unmarshal(d); err != nil {
		return nil, err
	}
	a := n.conf.Arch
	res := &msg.ImagineResponse{DeterDim: uint32(a.Deter), StochDim: uint32(a.Stoch)}
	r, err := n.worker.Imagine(core.ImagineRequest{Horizon: int(req.Horizon), Actions: req.Actions, Images: req.Images}, 10*time.Second)
	if err != nil {
		if errors.Is(err, core.ErrUnavailable) {
			res.Message = "imagine is not available in this configuration"
		} else {
			res.Message = err.Error()
		}
		return res, nil
	}
	res.Header = msg.Header{Stamp: msg.TimeOf(r.Captured), FrameID: n.conf.FrameID}
	res.Deter, res.StochMean, res.StochStd = r.Deter, r.StochMean, r.StochStd
	for k, im := range r.Images {
		res.Images = append(res.Images, imageMsg(im, r.Stamps[k], n.conf.FrameID))
	}
	res.Success = true
	res.Message = fmt.Sprintf("%d steps from tick %d", req.Horizon, r.Tick)
	return res, nil
}
