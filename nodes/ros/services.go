package ros

import (
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_srvs"
	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/nodes/ros/rssmd_msgs"
)

func (n *Node) onReset(*std_srvs.TriggerReq) (*std_srvs.TriggerRes, bool) {
	if n.conf.Reset == nil {
		return &std_srvs.TriggerRes{Success: false, Message: "reset is not available in this configuration"}, true
	}
	if err := n.conf.Reset(); err != nil {
		return &std_srvs.TriggerRes{Success: false, Message: err.Error()}, true
	}
	n.log.Info("filter reset by ~reset")
	return &std_srvs.TriggerRes{Success: true, Message: "filter state reset; the next step starts a new episode"}, true
}

type imagineCall struct {
	req *rssmd_msgs.ImagineReq
	res chan *rssmd_msgs.ImagineRes
}

func (n *Node) onImagine(req *rssmd_msgs.ImagineReq) (*rssmd_msgs.ImagineRes, bool) {
	c := imagineCall{req: req, res: make(chan *rssmd_msgs.ImagineRes, 1)}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	select {
	case n.imagine <- c:
	case <-timeout.C:
		return &rssmd_msgs.ImagineRes{Message: "busy"}, true
	}
	select {
	case r := <-c.res:
		return r, true
	case <-timeout.C:
		return &rssmd_msgs.ImagineRes{Message: "timed out"}, true
	}
}

// imagine rolls the prior out from the newest state.
func (w *worker) imagine(req *rssmd_msgs.ImagineReq) *rssmd_msgs.ImagineRes {
	n, a := w.n, w.n.conf.Arch
	res := &rssmd_msgs.ImagineRes{DeterDim: uint32(a.Deter), StochDim: uint32(a.Stoch)}
	r, err := w.pred.Imagine(w.cur, core.ImagineRequest{Horizon: int(req.Horizon), Actions: req.Actions, Images: req.Images}, n.conf.MaxHorizon)
	if err != nil {
		if errors.Is(err, core.ErrUnavailable) {
			res.Message = "imagine is not available in this configuration"
		} else {
			res.Message = err.Error()
		}
		return res
	}
	res.Header = header(w.cur.Captured, n.conf.FrameID, w.cur.Seq)
	res.Deter, res.StochMean, res.StochStd = r.Deter, r.StochMean, r.StochStd
	for k, im := range r.Images {
		res.Images = append(res.Images, *imageMsg(im, r.Stamps[k], n.conf.FrameID, w.cur.Seq+uint64(k)+1))
	}
	res.Success = true
	res.Message = fmt.Sprintf("%d steps from tick %d", req.Horizon, w.cur.Tick)
	return res
}
