package ros

import (
	"context"
	"time"

	"github.com/rssmd/rssmd/runtime/tick"
)

// Clock returns the tick loop's clock for this node: ROS time, so that under use_sim_time
// (rosbag play --clock) frame ages, action ages and the tick schedule follow /clock like a
// roscpp node's, and the wall clock otherwise. It is meant for one goroutine (the loop).
func (n *Node) Clock() tick.Clock { return &rosClock{n: n, real: tick.NewRealClock()} }

type rosClock struct {
	n    *Node
	real *tick.RealClock
	poll *time.Timer
}

func (c *rosClock) Now() time.Time { return c.n.Now() }

// simPoll is how often a sleep under sim time looks at /clock (rosbag publishes it at 100 Hz
// by default).
const simPoll = time.Millisecond

func (c *rosClock) SleepUntil(ctx context.Context, t time.Time) error {
	if !c.n.simTime.Load() {
		return c.real.SleepUntil(ctx, t)
	}
	if c.poll == nil {
		c.poll = time.NewTimer(simPoll)
	} else {
		c.poll.Reset(simPoll)
	}
	start := c.n.Now()
	for {
		now := c.n.Now()
		// Time moved backwards (a bag restarted): wake up rather than wait for the old future.
		if !now.Before(t) || now.Before(start.Add(-time.Second)) || !c.n.simTime.Load() {
			return ctx.Err()
		}
		select {
		case <-c.poll.C:
			c.poll.Reset(simPoll)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
