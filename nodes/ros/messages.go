package ros

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/nodes/ros/rssmd_msgs"
)

// Every builder returns a new message: goroslib serialises a written message later, on
// another goroutine, so a message is never reused after Write.

func header(stamp time.Time, frameID string, seq uint64) std_msgs.Header {
	return std_msgs.Header{Seq: uint32(seq), Stamp: stamp, FrameId: frameID}
}

func latentMsg(s *snapshot, frameID string) *rssmd_msgs.LatentState {
	elbo := float32(math.NaN())
	if s.Quality.Decoded || !math.IsNaN(s.Quality.ELBO) {
		elbo = float32(s.Quality.ELBO)
	}
	return &rssmd_msgs.LatentState{
		Header:      header(s.Captured, frameID, s.Seq),
		Tick:        s.Tick,
		Seq:         s.Seq,
		Deter:       slices.Clone(s.State.Deter),
		StochMean:   slices.Clone(s.PostMean),
		StochStd:    slices.Clone(s.PostStd),
		PriorMean:   slices.Clone(s.PriorMean),
		PriorStd:    slices.Clone(s.PriorStd),
		Kl:          s.KL,
		Elbo:        elbo,
		IsFirst:     s.IsFirst,
		StaleFrame:  s.StaleFrame,
		StaleAction: s.staleAction(),
		Anomaly:     s.Quality.Anomaly,
	}
}

// latentVectorMsg is the model's feature concat(deter, stoch) — what a policy or value head
// reads — for consumers without rssmd_msgs.
func latentVectorMsg(s *snapshot) *std_msgs.Float32MultiArray {
	h, z := len(s.State.Deter), len(s.State.Stoch)
	data := make([]float32, 0, h+z)
	data = append(append(data, s.State.Deter...), s.State.Stoch...)
	return &std_msgs.Float32MultiArray{
		Layout: std_msgs.MultiArrayLayout{Dim: []std_msgs.MultiArrayDimension{
			{Label: fmt.Sprintf("deter%d_stoch%d", h, z), Size: uint32(h + z), Stride: uint32(h + z)},
		}},
		Data: data,
	}
}

func qualityMsg(s *snapshot, frameID string) *rssmd_msgs.Quality {
	q := s.Quality
	return &rssmd_msgs.Quality{
		Header:   header(s.Captured, frameID, s.Seq),
		Tick:     s.Tick,
		Decoded:  q.Decoded,
		Mse:      float32(q.MSE),
		Psnr:     float32(q.PSNR),
		Kl:       s.KL,
		Elbo:     float32(q.ELBO),
		Zscore:   float32(q.ZScore),
		ZscoreKl: float32(q.ZScoreKL),
		Anomaly:  q.Anomaly,
	}
}

// imageMsg turns a decoded HWC float image ([0,1], unclamped) into an rgb8 64x64 Image.
func imageMsg(img []float32, stamp time.Time, frameID string, seq uint64) *sensor_msgs.Image {
	data := make([]uint8, model.ImageValues)
	for i, v := range img[:model.ImageValues] {
		x := math.Round(float64(v) * 255)
		data[i] = uint8(max(0, min(255, x)))
	}
	return &sensor_msgs.Image{
		Header:   header(stamp, frameID, seq),
		Height:   model.ImageSize,
		Width:    model.ImageSize,
		Encoding: "rgb8",
		Step:     3 * model.ImageSize,
		Data:     data,
	}
}

// diagStatus levels (diagnostic_msgs/DiagnosticStatus).
const (
	diagOK    = 0
	diagWarn  = 1
	diagError = 2
)

// diagInput is what the diagnostics message reports.
type diagInput struct {
	NodeName   string
	Stamp      time.Time
	Have       bool // a tick result exists
	Snap       *snapshot
	Rate       float64 // measured steps per second over the last period
	Want       float64 // configured tick rate
	Master     string
	Connected  bool
	Reconnects uint64
	Rejected   rejectedCounts
	KernelPath string
	Source     string
}

type rejectedCounts struct {
	Actions, Images uint64
}

func kv(k, v string) diagnostic_msgs.KeyValue { return diagnostic_msgs.KeyValue{Key: k, Value: v} }

func diagnosticsMsg(d diagInput) *diagnostic_msgs.DiagnosticArray {
	level, msg := int8(diagOK), "running"
	switch {
	case !d.Have:
		level, msg = diagWarn, "no frame yet"
	case d.Rate < 0.5*d.Want:
		level, msg = diagWarn, fmt.Sprintf("step rate %.1f Hz below the configured %.1f Hz", d.Rate, d.Want)
	case d.Snap.StaleFrame:
		level, msg = diagWarn, "frames are stale"
	case d.Snap.Quality.Anomaly:
		level, msg = diagWarn, "prediction anomaly"
	}
	values := []diagnostic_msgs.KeyValue{
		kv("step rate (Hz)", fmt.Sprintf("%.2f", d.Rate)),
		kv("configured rate (Hz)", fmt.Sprintf("%.2f", d.Want)),
		kv("source", d.Source),
		kv("master", d.Master),
		kv("master connected", fmt.Sprint(d.Connected)),
		kv("master reconnects", fmt.Sprint(d.Reconnects)),
		kv("actions rejected", fmt.Sprint(d.Rejected.Actions)),
		kv("images rejected", fmt.Sprint(d.Rejected.Images)),
		kv("kernel path", d.KernelPath),
	}
	if d.Have {
		s := d.Snap
		values = append(values,
			kv("frame age (s)", fmt.Sprintf("%.4f", s.FrameAge.Seconds())),
			kv("tick latency (s)", fmt.Sprintf("%.6f", s.Total.Seconds())),
			kv("ticks", fmt.Sprint(s.Stats.Ticks)),
			kv("steps", fmt.Sprint(s.Stats.Steps)),
			kv("deadline misses", fmt.Sprint(s.Stats.DeadlineMisses)),
			kv("stale frames", fmt.Sprint(s.Stats.StaleFrames)),
			kv("camera connected", fmt.Sprint(s.Stats.Source.Connected)),
			kv("camera errors", fmt.Sprint(s.Stats.Source.Errors)),
			kv("anomalies", fmt.Sprint(s.Stats.Anomalies)),
		)
	}
	return &diagnostic_msgs.DiagnosticArray{
		Header: std_msgs.Header{Stamp: d.Stamp},
		Status: []diagnostic_msgs.DiagnosticStatus{{
			Level:      level,
			Name:       d.NodeName + ": state estimator",
			Message:    msg,
			HardwareId: "rssmd",
			Values:     values,
		}},
	}
}
