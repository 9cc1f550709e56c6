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

// onImagine rolls the prior out from the newest state (on the worker, which owns the model).
func (n *Node) onImagine(req *rssmd_msgs.ImagineReq) (*rssmd_msgs.ImagineRes, bool) {
	a := n.conf.Arch
	res := &rssmd_msgs.ImagineRes{DeterDim: uint32(a.Deter), StochDim: uint32(a.Stoch)}
	r, err := n.worker.Imagine(core.ImagineRequest{Horizon: int(req.Horizon), Actions: req.Actions, Images: req.Images}, 10*time.Second)
	if err != nil {
		res.Message = imagineError(err)
		return res, true
	}
	res.Header = header(r.Captured, n.conf.FrameID, r.Seq)
	res.Deter, res.StochMean, res.StochStd = r.Deter, r.StochMean, r.StochStd
	for k, im := range r.Images {
		res.Images = append(res.Images, *imageMsg(im, r.Stamps[k], n.conf.FrameID, r.Seq+uint64(k)+1))
	}
	res.Success = true
	res.Message = fmt.Sprintf("%d steps from tick %d", req.Horizon, r.Tick)
	return res, true
}

func imagineError(err error) string {
	if errors.Is(err, core.ErrUnavailable) {
		return "imagine is not available in this configuration"
	}
	return err.Error()
}
