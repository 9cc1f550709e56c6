// Package rssmd_msgs holds the goroslib structs of the rssmd_msgs catkin package that lives in
// the same folder (msg/*.msg, srv/*.srv): the same definitions for Go, and for C++/Python
// users who build the folder in their catkin workspace. A test keeps their MD5 sums equal.
//
//nolint:revive // the underscore matches the ROS package name, like goroslib's std_msgs.
package rssmd_msgs

import (
	"embed"

	"github.com/bluenviron/goroslib/v2/pkg/msg"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
)

// Definitions holds the .msg and .srv files, for tests and for clients that generate message
// classes at run time (genpy).
//
//go:embed msg/*.msg srv/*.srv
var Definitions embed.FS

// LatentState is rssmd_msgs/LatentState (msg/LatentState.msg documents the fields).
type LatentState struct {
	msg.Package `ros:"rssmd_msgs"`
	Header      std_msgs.Header
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

// Quality is rssmd_msgs/Quality.
type Quality struct {
	msg.Package `ros:"rssmd_msgs"`
	Header      std_msgs.Header
	Tick        uint64
	Decoded     bool
	Mse         float32
	Psnr        float32
	Kl          float32
	Elbo        float32
	Zscore      float32
	ZscoreKl    float32 `rosname:"zscore_kl"`
	Anomaly     bool
}

// Reward is rssmd_msgs/Reward: the VIPER reward of a tick (msg/Reward.msg).
type Reward struct {
	msg.Package `ros:"rssmd_msgs"`
	Header      std_msgs.Header
	Tick        uint64
	Reward      float32
	Elbo        float32
	IsFirst     bool
}

// ImagineReq is the request of rssmd_msgs/Imagine.
type ImagineReq struct {
	msg.Package `ros:"rssmd_msgs"`
	Horizon     uint32
	Actions     []float32
	Images      bool
}

// ImagineRes is the response of rssmd_msgs/Imagine.
type ImagineRes struct {
	msg.Package `ros:"rssmd_msgs"`
	Header      std_msgs.Header
	DeterDim    uint32
	StochDim    uint32
	Deter       []float32
	StochMean   []float32
	StochStd    []float32
	Images      []sensor_msgs.Image
	Success     bool
	Message     string
}

// Imagine is the rssmd_msgs/Imagine service.
type Imagine struct {
	msg.Package `ros:"rssmd_msgs"`
	ImagineReq
	ImagineRes
}
