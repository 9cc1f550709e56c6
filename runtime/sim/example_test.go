package sim_test

import (
	"context"
	"fmt"

	"github.com/rssmd/rssmd/runtime/frame"
	"github.com/rssmd/rssmd/runtime/sim"
)

// A camera that explores on its own, with an occluder scripted for frames
// 3-4, feeding the preprocessor the demo model was trained with.
func Example() {
	cam, err := sim.NewCamera(sim.CameraConfig{
		Explore: true,
		Script:  sim.Script{{Kind: sim.Occlude, Start: 3, Frames: 2}},
		// Rate: 50 would pace Next in real time, as the demo does.
	})
	if err != nil {
		panic(err)
	}
	defer cam.Close()
	pre, err := frame.NewPreprocessor(cam.PreprocessConfig())
	if err != nil {
		panic(err)
	}
	img := make([]byte, pre.OutLen())
	for range 6 {
		f, err := cam.Next(context.Background())
		if err != nil {
			panic(err)
		}
		if err := pre.Process(img, f.Frame); err != nil {
			panic(err)
		}
		// img and f.PreAction are what a filter step takes.
		fmt.Println(f.Seq, f.Format, len(f.PreAction), cam.Disturbed(f.Seq))
	}
	// Output:
	// 0 YUYV 2 none
	// 1 YUYV 2 none
	// 2 YUYV 2 none
	// 3 YUYV 2 occlude
	// 4 YUYV 2 occlude
	// 5 YUYV 2 none
}
