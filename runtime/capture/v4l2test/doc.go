// Package v4l2test holds the tests that need a real V4L2 driver: run.sh
// boots a throw-away VM with the vivid driver and runs them there (make
// test-v4l2). Its own test, built only with tag v4l2vm, unplugs the camera
// while the tick loop runs and plugs it back, twice, the second time with
// other driver parameters.
package v4l2test
