package ros

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/runtime/tick"
)

// worker owns the newest published snapshot (the "current state" for ~imagine and
// /diagnostics) and the predictor's model.
type worker struct {
	n    *Node
	cur  *core.Snapshot // a hub reference, released when a newer one is taken
	pred *core.Predictor
	rate core.RateMeter
}

func (n *Node) work(ctx context.Context) {
	defer n.wg.Done()
	w := &worker{n: n, pred: core.NewPredictor(n.conf.Model, n.conf.Arch, n.conf.Period)}
	w.rate.Rate(nil, nil, time.Now())
	defer func() { n.feed.Release(w.cur) }()
	diag := time.NewTicker(n.conf.DiagPeriod)
	defer diag.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.feed.Wake():
			for s, ok := n.feed.Acquire(); ok; s, ok = n.feed.Acquire() {
				n.feed.Release(w.cur)
				w.cur = s
				w.publish()
			}
		case c := <-n.imagine:
			c.res <- w.imagine(c.req)
		case <-diag.C:
			w.diagnostics()
		}
	}
}

func (w *worker) publish() {
	n, s := w.n, w.cur
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
		if stamp, err := w.pred.Predict(data, s); err == nil {
			ep.predicted.Write(imageMsg(data, stamp, fid, s.Seq+1))
		}
	}
	if ep.recon != nil {
		data := make([]uint8, core.ImageBytes)
		if err := w.pred.Reconstruct(data, s); err == nil {
			ep.recon.Write(imageMsg(data, s.Captured, fid, s.Seq))
		}
	}
	n.published.Add(1)
}

func (w *worker) diagnostics() {
	n := w.n
	var live *tick.Stats
	if f := n.conf.LoopStats; f != nil {
		if st, ok := f(); ok {
			live = &st
		}
	}
	rate := w.rate.Rate(w.cur, live, time.Now())
	ep := n.ep.Load()
	if ep == nil {
		return
	}
	st := n.Stats()
	level, msg, values := core.Diagnostics(core.DiagInput{
		Snap: w.cur, Live: live, Rate: rate, Want: 1 / n.conf.Period.Seconds(),
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
