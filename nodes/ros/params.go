package ros

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/apiparam"

	"github.com/rssmd/rssmd/runtime/pipeline"
)

// The private parameters are the settings of `rssmd run` (pipeline.Options): `~key` for
// every key of that table, typed and defaulted by it.

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

// ConvertParams types raw parameter values (from the server or the command line) by the
// settings table. Parameters rssmd does not know are returned in unknown, sorted, for a
// warning: a typo must not pass silently. A deprecated spelling is stored under its key.
func ConvertParams(raw map[string]any) (vals ParamValues, unknown []string, err error) {
	vals = ParamValues{}
	for name, v := range raw {
		o, ok := pipeline.LookupOption(name)
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		c, err := o.Convert(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: ~%s: %w", ErrParam, name, err)
		}
		vals[o.Key] = c
	}
	sort.Strings(unknown)
	return vals, unknown, nil
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
