package ros

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/rssmd/rssmd/nodes/core"
)

// publisher is what the node adds to its core.Worker: goroslib messages from snapshots.
type publisher struct {
	n    *Node
	pred *core.Predictor
	rate core.RateMeter
}

func (n *Node) newWorker() *core.Worker {
	p := &publisher{n: n, pred: core.NewPredictor(n.conf.Model, n.conf.Arch, n.conf.Period)}
	p.rate.Rate(nil, nil, time.Now())
	return &core.Worker{Feed: n.feed, Predictor: p.pred, DiagPeriod: n.conf.DiagPeriod, MaxHorizon: n.conf.MaxHorizon,
		Publish: p.publish, Diagnose: p.diagnostics}
}

func (n *Node) work(ctx context.Context) {
	defer n.wg.Done()
	n.worker.Run(ctx)
}

func (p *publisher) publish(s *core.Snapshot) {
	n := p.n
	ep := n.ep.Load()
	if ep == nil {
		n.unsent.Add(1)
		return
	}
	fid := n.conf.FrameID
	ep.latent.Write(latentMsg(s, fid))
	ep.vector.Write(latentVectorMsg(s))
	ep.quality.Write(qualityMsg(s, fid))
	if !math.IsNaN(s.Quality.Reward) { // ~reward carries rewards only: none while the ELBO is off
		ep.reward.Write(rewardMsg(s, fid))
	}
	if ep.predicted != nil {
		// A new buffer per message: goroslib serialises it later, on another goroutine.
		data := make([]uint8, core.ImageBytes)
		if stamp, err := p.pred.Predict(data, s); err == nil {
			ep.predicted.Write(imageMsg(data, stamp, fid, s.Seq+1))
		}
	}
	if ep.recon != nil {
		data := make([]uint8, core.ImageBytes)
		if err := p.pred.Reconstruct(data, s); err == nil {
			ep.recon.Write(imageMsg(data, s.Captured, fid, s.Seq))
		}
	}
	n.published.Add(1)
}

func (p *publisher) diagnostics(cur *core.Snapshot) {
	n := p.n
	live := core.LiveStats(n.conf.LoopStats)
	rate := p.rate.Rate(cur, live, time.Now())
	ep := n.ep.Load()
	if ep == nil {
		return
	}
	st := n.Stats()
	level, msg, values := core.Diagnostics(core.DiagInput{
		Snap: cur, Live: live, Rate: rate, Want: 1 / n.conf.Period.Seconds(),
		Link: []core.KeyValue{
			{Key: "master", Value: n.conf.Env.MasterURI},
			{Key: "master connected", Value: fmt.Sprint(st.Connected)},
			{Key: "master reconnects", Value: fmt.Sprint(st.Reconnects)},
		},
		ActionsRej: st.ActionsRejected, ImagesRej: st.ImagesRejected,
		KernelPath: n.conf.KernelPath, Source: n.conf.Source,
	})
	ep.diag.Write(diagnosticsMsg(n.conf.Env.NodeName(), n.Now(), level, msg, values))
}
