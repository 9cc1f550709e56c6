package ros2

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/nodes/ros2/cdr"
	"github.com/rssmd/rssmd/nodes/ros2/msg"
	"github.com/rssmd/rssmd/nodes/ros2/rtps"
)

// publisher is what the node adds to its core.Worker. Messages are encoded synchronously into
// one reusable buffer (the writer copies the payload into its history), so they point at the
// snapshot's slices instead of copying them, and nothing is allocated per tick.
type publisher struct {
	n    *Node
	pred *core.Predictor
	rate core.RateMeter

	enc     cdr.Encoder
	buf     []byte
	latent  msg.LatentState
	vector  msg.Float32MultiArray
	quality msg.Quality
	reward  msg.Reward
	image   msg.Image
	pixels  []uint8
	vecData []float32
}

func (n *Node) newWorker() *core.Worker {
	a := n.conf.Arch
	w := &publisher{n: n, pred: core.NewPredictor(n.conf.Model, a, n.conf.Period),
		buf: make([]byte, 0, 64<<10), pixels: make([]uint8, core.ImageBytes), vecData: make([]float32, 0, a.Deter+a.Stoch)}
	w.vector.Layout.Dim = []msg.MultiArrayDimension{{
		Label: fmt.Sprintf("deter%d_stoch%d", a.Deter, a.Stoch), Size: uint32(a.Deter + a.Stoch), Stride: uint32(a.Deter + a.Stoch)}}
	w.image = msg.Image{Height: model.ImageSize, Width: model.ImageSize, Encoding: "rgb8", Step: 3 * model.ImageSize, Data: w.pixels}
	w.rate.Rate(nil, nil, time.Now())
	return &core.Worker{Feed: n.feed, Predictor: w.pred, DiagPeriod: n.conf.DiagPeriod, MaxHorizon: n.conf.MaxHorizon,
		Publish: w.publish, Diagnose: w.diagnostics}
}

func (n *Node) work(ctx context.Context) {
	defer n.wg.Done()
	n.worker.Run(ctx)
}

func (w *publisher) write(wr *rtps.Writer, m msg.Message, stamp time.Time) {
	w.enc.Reset(w.buf[:0])
	m.Marshal(&w.enc)
	w.buf = w.enc.Finish()
	if _, err := wr.Write(w.buf, stamp); err != nil && w.n.warn.OK("write") {
		w.n.log.Warn("publish failed", "err", err)
	}
}

// publish writes every output of the current snapshot, stamped with its frame's capture
// time.
func (w *publisher) publish(s *core.Snapshot) {
	n, p := w.n, &w.n.pub
	h := msg.Header{Stamp: msg.TimeOf(s.Captured), FrameID: n.conf.FrameID}
	w.latent = msg.LatentState{
		Header: h, Tick: s.Tick, Seq: s.Seq,
		Deter: s.State.Deter, StochMean: s.PostMean, StochStd: s.PostStd, PriorMean: s.PriorMean, PriorStd: s.PriorStd,
		Kl: s.KL, Elbo: s.ELBO(), IsFirst: s.IsFirst, StaleFrame: s.StaleFrame, StaleAction: s.StaleAction(),
		Anomaly: s.Quality.Anomaly,
	}
	w.write(p.latent, &w.latent, s.Captured)
	w.vecData = s.AppendVector(w.vecData[:0])
	w.vector.Data = w.vecData
	w.write(p.vector, &w.vector, s.Captured)
	q := s.Quality
	w.quality = msg.Quality{Header: h, Tick: s.Tick, Decoded: q.Decoded, Mse: float32(q.MSE), Psnr: float32(q.PSNR),
		Kl: s.KL, Elbo: float32(q.ELBO), Zscore: float32(q.ZScore), ZscoreKl: float32(q.ZScoreKL), Anomaly: q.Anomaly}
	w.write(p.quality, &w.quality, s.Captured)
	if !math.IsNaN(q.Reward) { // a reward exists only on ticks whose ELBO was computed
		w.reward = msg.Reward{Header: h, Tick: s.Tick, Reward: float32(q.Reward), Elbo: s.ELBO(), IsFirst: s.IsFirst}
		w.write(p.reward, &w.reward, s.Captured)
	}
	if p.predicted != nil {
		if stamp, err := w.pred.Predict(w.pixels, s); err == nil {
			w.image.Header = msg.Header{Stamp: msg.TimeOf(stamp), FrameID: n.conf.FrameID}
			w.write(p.predicted, &w.image, stamp)
		}
	}
	if p.recon != nil {
		if err := w.pred.Reconstruct(w.pixels, s); err == nil {
			w.image.Header = h
			w.write(p.recon, &w.image, s.Captured)
		}
	}
	n.published.Add(1)
}

// imageMsg wraps rgb8 64x64 data as an Image.
func imageMsg(data []uint8, stamp time.Time, frameID string) msg.Image {
	return msg.Image{Header: msg.Header{Stamp: msg.TimeOf(stamp), FrameID: frameID},
		Height: model.ImageSize, Width: model.ImageSize, Encoding: "rgb8", Step: 3 * model.ImageSize, Data: data}
}

func (w *publisher) diagnostics(cur *core.Snapshot) {
	n := w.n
	now := time.Now()
	live := core.LiveStats(n.conf.LoopStats)
	rate := w.rate.Rate(cur, live, now)
	st := n.Stats()
	level, text, values := core.Diagnostics(core.DiagInput{
		Snap: cur, Live: live, Rate: rate, Want: 1 / n.conf.Period.Seconds(),
		Link: []core.KeyValue{
			{Key: "ROS 2 domain", Value: fmt.Sprint(n.conf.RTPS.DomainID)},
			{Key: "discovery range", Value: n.conf.RTPS.Range.String()},
			{Key: "latent_vector subscribers", Value: fmt.Sprint(st.Subscribers)},
		},
		ActionsRej: st.ActionsRejected, ImagesRej: st.ImagesRejected,
		KernelPath: n.conf.KernelPath, Source: n.conf.Source,
	})
	kvs := make([]msg.KeyValue, len(values))
	for i, v := range values {
		kvs[i] = msg.KeyValue{Key: v.Key, Value: v.Value}
	}
	m := &msg.DiagnosticArray{
		Header: msg.Header{Stamp: msg.TimeOf(now)},
		Status: []msg.DiagnosticStatus{{Level: byte(level), Name: n.conf.Node.FQN() + ": state estimator",
			Message: text, HardwareID: "rssmd", Values: kvs}},
	}
	w.write(n.pub.diag, m, now)
}
