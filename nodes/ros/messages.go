package ros

import (
	"fmt"
	"slices"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/nodes/core"
	"github.com/rssmd/rssmd/nodes/ros/rssmd_msgs"
)

// Every builder returns a new message: goroslib serialises a written message later, on
// another goroutine, so a message is never reused after Write.

func header(stamp time.Time, frameID string, seq uint64) std_msgs.Header {
	return std_msgs.Header{Seq: uint32(seq), Stamp: stamp, FrameId: frameID}
}

func latentMsg(s *core.Snapshot, frameID string) *rssmd_msgs.LatentState {
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
		Elbo:        s.ELBO(),
		IsFirst:     s.IsFirst,
		StaleFrame:  s.StaleFrame,
		StaleAction: s.StaleAction(),
		Anomaly:     s.Quality.Anomaly,
	}
}

// latentVectorMsg is the model's feature concat(deter, stoch) — what a policy or value head
// reads — for consumers without rssmd_msgs.
func latentVectorMsg(s *core.Snapshot) *std_msgs.Float32MultiArray {
	n := s.VectorLen()
	return &std_msgs.Float32MultiArray{
		Layout: std_msgs.MultiArrayLayout{Dim: []std_msgs.MultiArrayDimension{
			{Label: fmt.Sprintf("deter%d_stoch%d", len(s.State.Deter), len(s.State.Stoch)), Size: uint32(n), Stride: uint32(n)},
		}},
		Data: s.AppendVector(make([]float32, 0, n)),
	}
}

func qualityMsg(s *core.Snapshot, frameID string) *rssmd_msgs.Quality {
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

// rewardMsg is the step's VIPER reward (NaN when the per-step ELBO was not computed).
func rewardMsg(s *core.Snapshot, frameID string) *rssmd_msgs.Reward {
	return &rssmd_msgs.Reward{
		Header:  header(s.Captured, frameID, s.Seq),
		Tick:    s.Tick,
		Reward:  float32(s.Quality.Reward),
		Elbo:    s.ELBO(),
		IsFirst: s.IsFirst,
	}
}

// imageMsg wraps rgb8 64x64 data (core.Predictor's) as an Image; it keeps data.
func imageMsg(data []uint8, stamp time.Time, frameID string, seq uint64) *sensor_msgs.Image {
	return &sensor_msgs.Image{
		Header:   header(stamp, frameID, seq),
		Height:   model.ImageSize,
		Width:    model.ImageSize,
		Encoding: "rgb8",
		Step:     3 * model.ImageSize,
		Data:     data,
	}
}

func diagnosticsMsg(nodeName string, stamp time.Time, level int8, msg string, values []core.KeyValue) *diagnostic_msgs.DiagnosticArray {
	kvs := make([]diagnostic_msgs.KeyValue, len(values))
	for i, v := range values {
		kvs[i] = diagnostic_msgs.KeyValue{Key: v.Key, Value: v.Value}
	}
	return &diagnostic_msgs.DiagnosticArray{
		Header: std_msgs.Header{Stamp: stamp},
		Status: []diagnostic_msgs.DiagnosticStatus{{
			Level:      level,
			Name:       nodeName + ": state estimator",
			Message:    msg,
			HardwareId: "rssmd",
			Values:     kvs,
		}},
	}
}
