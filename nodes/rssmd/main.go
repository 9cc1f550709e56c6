// Command rssmd runs pretrained RSSM world models on robots: filtering camera frames every
// control tick (float32 or int8), publishing latent states and predictions over ROS, and the
// offline tools around it (filter, convert, calibrate, bench, inspect).
package main

import (
	"os"

	"github.com/rssmd/rssmd/nodes/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
