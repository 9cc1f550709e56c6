package record

//go:generate go run github.com/tinylib/msgp@v1.6.5 -file records.go -o records_gen.go -tests=false -io=false

// A corrupt record must not make the reader allocate for billions of elements (the bundle's
// FuzzDecodeBody found such an array header there): states are at most a few thousand values.
//msgp:limit arrays:65536 maps:4096

// Header is the first record of a recording: what produced the ticks that follow.
type Header struct {
	Version   int               `msg:"version"`
	Model     string            `msg:"model"` // path or name of the model
	Kind      string            `msg:"kind"`  // "float32" or "int8"
	Deter     int               `msg:"deter"`
	Stoch     int               `msg:"stoch"`
	ActionDim int               `msg:"action_dim"`
	Rate      float64           `msg:"rate"` // tick rate, Hz
	Frames    bool              `msg:"frames"`
	StartNs   int64             `msg:"start_ns"` // wall clock, Unix ns
	Meta      map[string]string `msg:"meta"`
}

// TickRecord is one tick. Frame (64x64x3 RGB, HWC) is present when the recording keeps
// frames; with Action it makes the recording usable as calibration data.
type TickRecord struct {
	Tick         uint64    `msg:"tick"`
	Seq          uint64    `msg:"seq"`
	StampNs      int64     `msg:"stamp_ns"` // frame capture time, Unix ns
	FrameAgeNs   int64     `msg:"frame_age_ns"`
	IsFirst      bool      `msg:"is_first"`
	StaleFrame   bool      `msg:"stale_frame"`
	ActionStatus uint8     `msg:"action_status"` // tick.ActionStatus
	Action       []float32 `msg:"action"`
	Deter        []float32 `msg:"deter"`
	Stoch        []float32 `msg:"stoch"`
	KL           float32   `msg:"kl"`
	Decoded      bool      `msg:"decoded"`
	MSE          float32   `msg:"mse"`
	PSNR         float32   `msg:"psnr"`
	ELBO         float32   `msg:"elbo"`
	ZScore       float32   `msg:"zscore"`
	Anomaly      bool      `msg:"anomaly"`
	StepNs       int64     `msg:"step_ns"`
	TotalNs      int64     `msg:"total_ns"`
	Frame        []byte    `msg:"frame"`
}
