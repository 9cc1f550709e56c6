// Package ros owns the ROS 1 face of rssmd: the ROS environment and command-line conventions
// (ROS_MASTER_URI, ROS_IP/ROS_HOSTNAME, ROS_NAMESPACE, __name:=, __ns:=, remaps, _param:=),
// name resolution, private parameters, and the node itself — publications of the latent
// state, predictions and diagnostics, the action and image subscriptions, the ~reset and
// ~imagine services, sim time, and re-registration after a master restart. goroslib v2 does
// the wire protocol; everything a roscpp/rospy node does on top of it is done here.
//
// # Private parameters
//
// Read once at start-up (LoadParams): _name:=value arguments are written to the parameter
// server first, as roscpp and rospy do, then ~ is read back, so the command line wins over
// the server and the server over the flags and config file of `rssmd run`. A parameter of the
// wrong type stops start-up with an error; an unknown one is logged. Durations are seconds
// (or a Go duration string such as "150ms"). Defaults are those of `rssmd run`:
//
//	~rate                float    default 50              tick rate, Hz
//	~source              string   default --source        frame source: v4l2:/dev/videoN, replay:FILE.npz or ros (~image topics)
//	~device              string   default unset           camera device; sets source to v4l2:DEVICE (wins over ~source)
//	~model               string   default --model         model folder, .pt or bundle
//	~int8                bool     default false           run the int8 path
//	~frame_id            string   default camera          header frame_id of every stamped output
//	~predict             bool     default true            publish ~predicted_image (models with a decoder)
//	~reconstruction      bool     default false           publish ~reconstruction (one more decode per tick)
//	~decode_every        int      default 1               the monitor decodes its prediction every N-th step (0: never)
//	~elbo                bool     default false           compute the per-step ELBO (one more decode)
//	~horizon             int      default 1               open-loop prediction horizon of the monitor
//	~action_policy       string   default hold            without a new ~action: hold or zeros
//	~action_max_age      duration default 0.5             older actions are stale, seconds
//	~max_frame_age       duration default 0.1             older frames are flagged stale, seconds
//	~max_horizon         int      default 50              largest ~imagine horizon
//	~diagnostics_period  duration default 1.0             /diagnostics period, seconds
//	~width               int      default 640             camera width (v4l2)
//	~height              int      default 480             camera height (v4l2)
//	~fps                 float    default driver's        camera frame rate (v4l2)
//	~format              string   default YUYV            camera pixel format: YUYV, UYVY or MJPEG
//	~crop                string   default full            region of interest: full or center
//	~metrics_addr        string   default 127.0.0.1:9108  Prometheus /metrics address ("off" disables)
//	~rt_priority         int      default 0               SCHED_FIFO priority of the control thread (0: off)
//
// use_sim_time is read from /use_sim_time at every (re-)registration: under sim time the
// node and the tick loop follow /clock (Node.Clock), so `rosbag play --clock` drives them.
//
// Node.Stats is exported to Prometheus by NewCollector.
package ros
