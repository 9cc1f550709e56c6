package msg

import "github.com/rssmd/rssmd/nodes/ros2/cdr"

// The rssmd_msgs interface package; nodes/ros2/rssmd_msgs holds its .msg and .srv files,
// which document the fields and which a test keeps equal to these types.

// LatentState is rssmd_msgs/msg/LatentState.
type LatentState struct {
	Header      Header
	Tick        uint64
	Seq         uint64
	Deter       []float32
	StochMean   []float32
	StochStd    []float32
	PriorMean   []float32
	PriorStd    []float32
	Kl          float32
	Elbo        float32
	IsFirst     bool
	StaleFrame  bool
	StaleAction bool
	Anomaly     bool
}

func (m *LatentState) Type() *TypeInfo { return infoLatent }

func (m *LatentState) Marshal(e *cdr.Encoder) {
	m.Header.Marshal(e)
	e.Uint64(m.Tick)
	e.Uint64(m.Seq)
	e.Float32s(m.Deter)
	e.Float32s(m.StochMean)
	e.Float32s(m.StochStd)
	e.Float32s(m.PriorMean)
	e.Float32s(m.PriorStd)
	e.Float32(m.Kl)
	e.Float32(m.Elbo)
	e.Bool(m.IsFirst)
	e.Bool(m.StaleFrame)
	e.Bool(m.StaleAction)
	e.Bool(m.Anomaly)
}

func (m *LatentState) Unmarshal(d *cdr.Decoder) error {
	m.Header.read(d)
	m.Tick = d.Uint64()
	m.Seq = d.Uint64()
	m.Deter = d.Float32s(m.Deter)
	m.StochMean = d.Float32s(m.StochMean)
	m.StochStd = d.Float32s(m.StochStd)
	m.PriorMean = d.Float32s(m.PriorMean)
	m.PriorStd = d.Float32s(m.PriorStd)
	m.Kl = d.Float32()
	m.Elbo = d.Float32()
	m.IsFirst = d.Bool()
	m.StaleFrame = d.Bool()
	m.StaleAction = d.Bool()
	m.Anomaly = d.Bool()
	return wrap(d, infoLatent)
}

// Quality is rssmd_msgs/msg/Quality.
type Quality struct {
	Header   Header
	Tick     uint64
	Decoded  bool
	Mse      float32
	Psnr     float32
	Kl       float32
	Elbo     float32
	Zscore   float32
	ZscoreKl float32
	Anomaly  bool
}

func (m *Quality) Type() *TypeInfo { return infoQuality }

func (m *Quality) Marshal(e *cdr.Encoder) {
	m.Header.Marshal(e)
	e.Uint64(m.Tick)
	e.Bool(m.Decoded)
	e.Float32(m.Mse)
	e.Float32(m.Psnr)
	e.Float32(m.Kl)
	e.Float32(m.Elbo)
	e.Float32(m.Zscore)
	e.Float32(m.ZscoreKl)
	e.Bool(m.Anomaly)
}

func (m *Quality) Unmarshal(d *cdr.Decoder) error {
	m.Header.read(d)
	m.Tick = d.Uint64()
	m.Decoded = d.Bool()
	m.Mse = d.Float32()
	m.Psnr = d.Float32()
	m.Kl = d.Float32()
	m.Elbo = d.Float32()
	m.Zscore = d.Float32()
	m.ZscoreKl = d.Float32()
	m.Anomaly = d.Bool()
	return wrap(d, infoQuality)
}

// Reward is rssmd_msgs/msg/Reward: the VIPER reward of a frame, symlog of its ELBO.
type Reward struct {
	Header  Header
	Tick    uint64
	Reward  float32 // symlog(ELBO); 0 at an episode's first frame
	Elbo    float32
	IsFirst bool
}

func (m *Reward) Type() *TypeInfo { return infoReward }

func (m *Reward) Marshal(e *cdr.Encoder) {
	m.Header.Marshal(e)
	e.Uint64(m.Tick)
	e.Float32(m.Reward)
	e.Float32(m.Elbo)
	e.Bool(m.IsFirst)
}

func (m *Reward) Unmarshal(d *cdr.Decoder) error {
	m.Header.read(d)
	m.Tick = d.Uint64()
	m.Reward = d.Float32()
	m.Elbo = d.Float32()
	m.IsFirst = d.Bool()
	return wrap(d, infoReward)
}

// ImagineRequest is rssmd_msgs/srv/Imagine_Request.
type ImagineRequest struct {
	Horizon uint32
	Actions []float32
	Images  bool
}

func (m *ImagineRequest) Type() *TypeInfo { return infoImagineReq }

func (m *ImagineRequest) Marshal(e *cdr.Encoder) {
	e.Uint32(m.Horizon)
	e.Float32s(m.Actions)
	e.Bool(m.Images)
}

func (m *ImagineRequest) Unmarshal(d *cdr.Decoder) error {
	m.Horizon = d.Uint32()
	m.Actions = d.Float32s(m.Actions)
	m.Images = d.Bool()
	return wrap(d, infoImagineReq)
}

// ImagineResponse is rssmd_msgs/srv/Imagine_Response.
type ImagineResponse struct {
	Header    Header
	DeterDim  uint32
	StochDim  uint32
	Deter     []float32
	StochMean []float32
	StochStd  []float32
	Images    []Image
	Success   bool
	Message   string
}

func (m *ImagineResponse) Type() *TypeInfo { return infoImagineResp }

func (m *ImagineResponse) Marshal(e *cdr.Encoder) {
	m.Header.Marshal(e)
	e.Uint32(m.DeterDim)
	e.Uint32(m.StochDim)
	e.Float32s(m.Deter)
	e.Float32s(m.StochMean)
	e.Float32s(m.StochStd)
	e.SeqLen(len(m.Images))
	for i := range m.Images {
		m.Images[i].Marshal(e)
	}
	e.Bool(m.Success)
	e.String(m.Message)
}

func (m *ImagineResponse) Unmarshal(d *cdr.Decoder) error {
	m.Header.read(d)
	m.DeterDim = d.Uint32()
	m.StochDim = d.Uint32()
	m.Deter = d.Float32s(m.Deter)
	m.StochMean = d.Float32s(m.StochMean)
	m.StochStd = d.Float32s(m.StochStd)
	m.Images = cdr.Grow(m.Images, d.SeqLen(minImage))
	for i := range m.Images {
		m.Images[i].read(d)
	}
	m.Success = d.Bool()
	d.StringInto(&m.Message)
	return wrap(d, infoImagineResp)
}
