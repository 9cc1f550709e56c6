package ros

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/apiparam"
)

// ParamKind is the type a private parameter must have on the parameter server.
type ParamKind int

// Parameter kinds. A float accepts an int (`rosparam set ~rate 20`); a duration is seconds
// (int or float, as ROS durations are written) or a Go duration string ("150ms").
const (
	KindFloat ParamKind = iota
	KindInt
	KindBool
	KindString
	KindDuration
)

func (k ParamKind) String() string {
	return [...]string{"float", "int", "bool", "string", "duration"}[k]
}

// ParamSpec documents one private parameter.
type ParamSpec struct {
	Name    string // base name: the parameter is ~Name
	Kind    ParamKind
	Default string // as documented; the value itself is the run command's flag default
	Doc     string
}

// Params lists every private parameter rssmd reads, with the defaults of `rssmd run` (the
// package doc and README.md show the same table; a test keeps README.md in step).
var Params = []ParamSpec{
	{"rate", KindFloat, "50", "tick rate, Hz"},
	{"source", KindString, "--source", "frame source: v4l2:/dev/videoN, replay:FILE.npz or ros (~image topics)"},
	{"device", KindString, "unset", "camera device; sets source to v4l2:DEVICE (wins over ~source)"},
	{"model", KindString, "--model", "model folder, .pt or bundle"},
	{"int8", KindBool, "false", "run the int8 path"},
	{"frame_id", KindString, "camera", "header frame_id of every stamped output"},
	{"predict", KindBool, "true", "publish ~predicted_image (models with a decoder)"},
	{"reconstruction", KindBool, "false", "publish ~reconstruction (one more decode per tick)"},
	{"decode_every", KindInt, "1", "the monitor decodes its prediction every N-th step (0: never)"},
	{"elbo", KindBool, "false", "compute the per-step ELBO (one more decode)"},
	{"horizon", KindInt, "1", "open-loop prediction horizon of the monitor"},
	{"action_policy", KindString, "hold", "without a new ~action: hold or zeros"},
	{"action_max_age", KindDuration, "0.5", "older actions are stale, seconds"},
	{"max_frame_age", KindDuration, "0.1", "older frames are flagged stale, seconds"},
	{"max_horizon", KindInt, "50", "largest ~imagine horizon"},
	{"diagnostics_period", KindDuration, "1.0", "/diagnostics period, seconds"},
	{"width", KindInt, "640", "camera width (v4l2)"},
	{"height", KindInt, "480", "camera height (v4l2)"},
	{"fps", KindFloat, "driver's", "camera frame rate (v4l2)"},
	{"format", KindString, "YUYV", "camera pixel format: YUYV, UYVY or MJPEG"},
	{"crop", KindString, "full", "region of interest: full or center"},
	{"metrics_addr", KindString, "127.0.0.1:9108", `Prometheus /metrics address ("off" disables)`},
	{"rt_priority", KindInt, "0", "SCHED_FIFO priority of the control thread (0: off)"},
}

// ErrParam marks a private parameter with a value of the wrong type or range.
var ErrParam = errors.New("bad ROS parameter")

// ParamValues are the private parameters that are set, by base name, typed by their kind:
// float64, int, bool, string or time.Duration.
type ParamValues map[string]any

// Float, Int, Bool, String and Duration store the parameter in dst when it is set and report
// whether it was.
func (p ParamValues) Float(name string, dst *float64) bool { return get(p, name, dst) }

// Int: see Float.
func (p ParamValues) Int(name string, dst *int) bool { return get(p, name, dst) }

// Bool: see Float.
func (p ParamValues) Bool(name string, dst *bool) bool { return get(p, name, dst) }

// String: see Float.
func (p ParamValues) String(name string, dst *string) bool { return get(p, name, dst) }

// Duration: see Float.
func (p ParamValues) Duration(name string, dst *time.Duration) bool { return get(p, name, dst) }

func get[T any](p ParamValues, name string, dst *T) bool {
	v, ok := p[name].(T)
	if ok {
		*dst = v
	}
	return ok
}

// ConvertParams types raw parameter values (from the server or the command line) by their
// specs. Parameters rssmd does not know are returned in unknown, sorted, for a warning: a
// typo must not pass silently.
func ConvertParams(raw map[string]any) (vals ParamValues, unknown []string, err error) {
	vals = ParamValues{}
	specs := map[string]ParamSpec{}
	for _, s := range Params {
		specs[s.Name] = s
	}
	for name, v := range raw {
		s, ok := specs[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		c, err := convertParam(s, v)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: ~%s: %w", ErrParam, name, err)
		}
		vals[name] = c
	}
	sort.Strings(unknown)
	return vals, unknown, nil
}

func convertParam(s ParamSpec, v any) (any, error) {
	switch s.Kind {
	case KindFloat:
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%v is not finite", x)
			}
			return x, nil
		case int:
			return float64(x), nil
		}
	case KindInt:
		switch x := v.(type) {
		case int:
			return x, nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<31 {
				return int(x), nil
			}
		}
	case KindBool:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case KindString:
		switch x := v.(type) {
		case string:
			return x, nil
		case int, float64, bool:
			// `_frame_id:=1` is YAML for the int 1; the user meant the string.
			return fmt.Sprint(x), nil
		}
	case KindDuration:
		var sec float64
		switch x := v.(type) {
		case int:
			sec = float64(x)
		case float64:
			sec = x
		case string:
			d, err := time.ParseDuration(strings.TrimSpace(x))
			if err != nil {
				return nil, fmt.Errorf("%q: want seconds or a duration like 150ms", x)
			}
			sec = d.Seconds()
		default:
			return nil, fmt.Errorf("%v (%T): want seconds", v, v)
		}
		if math.IsNaN(sec) || sec < 0 || sec > 1e6 {
			return nil, fmt.Errorf("%v s out of range 0..1e6", sec)
		}
		return time.Duration(sec * float64(time.Second)), nil
	}
	return nil, fmt.Errorf("%v (%T): want a %s", v, v, s.Kind)
}

// LoadParams reads the node's private parameters at start-up, as a roscpp or rospy node
// does: the command line's _name:=value parameters are written to the parameter server
// first (so they win over what was there and `rosparam get` shows what runs), then the
// whole private namespace is read back in one call. When no master answers within timeout,
// the command-line parameters alone are used and masterErr says why; err is for values of
// the wrong type.
func LoadParams(ctx context.Context, env *Env, timeout time.Duration) (vals ParamValues, unknown []string, masterErr, err error) {
	node := env.NodeName()
	prefix := node + "/"
	raw := map[string]any{}
	for k, v := range env.Params {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			raw[name] = v
		}
	}
	if env.MasterAddr != "" {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		masterErr = readServer(ctx, env, raw)
	} else {
		masterErr = errors.New("no master (ROS_MASTER_URI unset)")
	}
	vals, unknown, err = ConvertParams(raw)
	return vals, unknown, masterErr, err
}

// readServer writes the command-line parameters and merges the private namespace into raw.
func readServer(ctx context.Context, env *Env, raw map[string]any) error {
	hc := &http.Client{}
	if dl, ok := ctx.Deadline(); ok {
		hc.Timeout = time.Until(dl)
	}
	node := env.NodeName()
	pc := apiparam.NewClient(env.MasterAddr, node, hc)
	for _, k := range env.ParamKeys() {
		if err := setParam(pc, k, env.Params[k]); err != nil {
			return fmt.Errorf("setting %s on %s: %w", k, env.MasterURI, err)
		}
	}
	v, found, err := getParamAny(ctx, hc, env.MasterAddr, node, node)
	if err != nil {
		return fmt.Errorf("reading %s from %s: %w", node, env.MasterURI, err)
	}
	if !found {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%w: %s holds a %T, not a namespace of parameters", ErrParam, node, v)
	}
	for k, x := range m {
		raw[k] = x
	}
	return nil
}

type paramSetter interface {
	SetParamBool(string, bool) error
	SetParamInt(string, int) error
	SetParamFloat64(string, float64) error
	SetParamString(string, string) error
}

func setParam(c paramSetter, key string, v any) error {
	switch x := v.(type) {
	case bool:
		return c.SetParamBool(key, x)
	case int:
		return c.SetParamInt(key, x)
	case float64:
		return c.SetParamFloat64(key, x)
	case string:
		return c.SetParamString(key, x)
	default:
		return c.SetParamString(key, fmt.Sprint(x))
	}
}
