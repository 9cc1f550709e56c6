package ros

import (
	"context"
	"fmt"
	"net/http"
	"time"

	goroslib "github.com/bluenviron/goroslib/v2"
	"github.com/bluenviron/goroslib/v2/pkg/apimaster"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_srvs"
	"github.com/rssmd/rssmd/nodes/ros/rssmd_msgs"
)

// supervise owns the goroslib node: connect with backoff, poll the master, re-create after a
// master restart (or any lost registration).
func (n *Node) supervise(ctx context.Context) {
	defer n.wg.Done()
	retry := n.conf.RetryMin
	httpc := &http.Client{Timeout: 2 * time.Second}
	name := n.conf.Env.NodeName()
	for ctx.Err() == nil {
		ep, err := n.connect()
		if err != nil {
			n.log.Warn("no ROS master; retrying", "master", n.conf.Env.MasterURI, "in", retry, "err", err)
			if sleepCtx(ctx, retry) != nil {
				break
			}
			retry = min(2*retry, n.conf.RetryMax)
			continue
		}
		retry = n.conf.RetryMin
		if n.connects.Add(1) > 1 {
			n.reconnects.Add(1)
			n.log.Info("re-registered with the ROS master", "reconnects", n.reconnects.Load())
		} else {
			n.log.Info("registered with the ROS master", "master", n.conf.Env.MasterURI)
		}
		n.ep.Store(ep)
		n.readyOnce.Do(func() { close(n.ready) })
		// Watch: the master forgets us when it restarts; lookupNode then fails.
		mc := apimaster.NewClient(n.conf.Env.MasterAddr, name, httpc)
		fails := 0
		for ctx.Err() == nil && fails < 2 {
			if sleepCtx(ctx, n.conf.MasterPoll) != nil {
				break
			}
			if _, err := mc.LookupNode(name); err != nil {
				fails++
				if fails == 2 {
					n.log.Warn("lost the ROS master registration; re-creating the node", "err", err)
				}
			} else {
				fails = 0
			}
		}
		n.ep.Store(nil)
		// Closing talks to the (maybe absent) master: do it aside so reconnection is not
		// delayed by timeouts.
		done := make(chan struct{})
		go func() { ep.close(); close(done) }()
		if ctx.Err() != nil {
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				n.log.Warn("goroslib node did not close in time")
			}
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// connect creates the goroslib node and every endpoint.
func (n *Node) connect() (ep *endpoints, err error) {
	env := n.conf.Env
	gn, err := goroslib.NewNode(goroslib.NodeConf{
		MasterAddress:   env.MasterAddr,
		Namespace:       env.Namespace,
		Name:            env.Name,
		Host:            env.Host,
		LogDestinations: goroslib.LogDestinationCallback | goroslib.LogDestinationRosout,
		OnLog: func(l goroslib.LogLevel, s string) {
			n.log.Debug("goroslib", "level", int(l), "msg", s)
		},
		ReadTimeout:  3 * time.Second,
		WriteTimeout: 3 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("node %s on %s: %w", env.NodeName(), env.MasterAddr, err)
	}
	ep = &endpoints{node: gn}
	defer func() {
		if err != nil {
			ep.close()
			ep = nil
		}
	}()
	if err := n.setParams(gn); err != nil {
		return nil, err
	}
	sim, err := gn.ParamIsSet("/use_sim_time")
	if err == nil && sim {
		sim, err = gn.ParamGetBool("/use_sim_time")
	}
	if err != nil {
		return nil, fmt.Errorf("reading /use_sim_time: %w", err)
	}
	n.simTime.Store(sim)

	pub := func(p **goroslib.Publisher, name string, msg any) error {
		topic, err := env.Resolve(name)
		if err != nil {
			return err
		}
		*p, err = goroslib.NewPublisher(goroslib.PublisherConf{Node: gn, Topic: topic, Msg: msg})
		if err != nil {
			return fmt.Errorf("publisher %s: %w", topic, err)
		}
		return nil
	}
	if err := pub(&ep.latent, "~latent", &rssmd_msgs.LatentState{}); err != nil {
		return nil, err
	}
	if err := pub(&ep.vector, "~latent_vector", &std_msgs.Float32MultiArray{}); err != nil {
		return nil, err
	}
	if err := pub(&ep.quality, "~quality", &rssmd_msgs.Quality{}); err != nil {
		return nil, err
	}
	// ~reward: a separate topic, so Quality.msg (and its MD5) stays as it was.
	if err := pub(&ep.reward, "~reward", &rssmd_msgs.Reward{}); err != nil {
		return nil, err
	}
	if err := pub(&ep.diag, "/diagnostics", &diagnostic_msgs.DiagnosticArray{}); err != nil {
		return nil, err
	}
	if n.conf.Predict {
		if err := pub(&ep.predicted, "~predicted_image", &sensor_msgs.Image{}); err != nil {
			return nil, err
		}
	}
	if n.conf.Reconstruction {
		if err := pub(&ep.recon, "~reconstruction", &sensor_msgs.Image{}); err != nil {
			return nil, err
		}
	}
	sub := func(name string, cb any) error {
		topic, err := env.Resolve(name)
		if err != nil {
			return err
		}
		s, err := goroslib.NewSubscriber(goroslib.SubscriberConf{Node: gn, Topic: topic, Callback: cb, QueueSize: 1})
		if err != nil {
			return fmt.Errorf("subscriber %s: %w", topic, err)
		}
		ep.subs = append(ep.subs, s)
		return nil
	}
	if n.conf.Arch.ActionDim > 0 {
		if err := sub("~action", n.onAction); err != nil {
			return nil, err
		}
	}
	if n.conf.ImageInput {
		if err := sub("~image", n.onImage); err != nil {
			return nil, err
		}
		if err := sub("~image/compressed", n.onCompressed); err != nil {
			return nil, err
		}
	}
	srv := func(name string, typ any, cb any) error {
		s, err := env.Resolve(name)
		if err != nil {
			return err
		}
		sp, err := goroslib.NewServiceProvider(goroslib.ServiceProviderConf{Node: gn, Name: s, Srv: typ, Callback: cb})
		if err != nil {
			return fmt.Errorf("service %s: %w", s, err)
		}
		ep.srvs = append(ep.srvs, sp)
		return nil
	}
	if err := srv("~reset", &std_srvs.Trigger{}, n.onReset); err != nil {
		return nil, err
	}
	if err := srv("~imagine", &rssmd_msgs.Imagine{}, n.onImagine); err != nil {
		return nil, err
	}
	return ep, nil
}

// setParams writes the command line's _param:=value private parameters to the parameter
// server, as rospy and roscpp do at start-up, so that `rosparam get` shows what runs.
func (n *Node) setParams(gn *goroslib.Node) error {
	for _, k := range n.conf.Env.ParamKeys() {
		var err error
		switch v := n.conf.Env.Params[k].(type) {
		case bool:
			err = gn.ParamSetBool(k, v)
		case int:
			err = gn.ParamSetInt(k, v)
		case float64:
			err = gn.ParamSetFloat64(k, v)
		case string:
			err = gn.ParamSetString(k, v)
		default:
			err = gn.ParamSetString(k, fmt.Sprint(v))
		}
		if err != nil {
			return fmt.Errorf("setting %s: %w", k, err)
		}
	}
	return nil
}
