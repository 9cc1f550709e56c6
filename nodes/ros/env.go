package ros

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultName is the node's name unless __name:= says otherwise, so private topics are
// /rssmd/... in the root namespace.
const DefaultName = "rssmd"

// ErrEnv marks a ROS environment variable or command-line argument that cannot be used.
var ErrEnv = errors.New("bad ROS environment")

// Env is the ROS environment of the process: what a roscpp or rospy node derives from its
// environment variables and its "special" command-line arguments. goroslib reads none of it.
type Env struct {
	// MasterURI is the master's XML-RPC URI (ROS_MASTER_URI or __master:=), "" when unset.
	MasterURI string
	// MasterAddr is MasterURI's host:port (what goroslib wants).
	MasterAddr string
	// Host is the address other nodes reach us at: __hostname:= or __ip:=, else
	// ROS_HOSTNAME, else ROS_IP; "" lets goroslib pick an address on the master's subnet.
	Host string
	// Namespace is the node's namespace (__ns:= over ROS_NAMESPACE), clean and global.
	Namespace string
	// Name is the node's base name (__name:=, default DefaultName).
	Name string
	// Remaps maps resolved names to resolved names (from:=to arguments).
	Remaps map[string]string
	// Params are private parameters from _name:=value arguments, keyed by their resolved
	// global name (/ns/node/name) and typed as YAML (as rospy and roscpp do).
	Params map[string]any
	// Args are the arguments that are not ROS arguments, in order.
	Args []string
}

// ParseEnv derives the ROS environment from getenv (os.Getenv in production) and the
// command-line arguments (without the program name). ROS arguments are the ones holding
// ":="; everything else is returned in Env.Args untouched.
func ParseEnv(getenv func(string) string, args []string) (*Env, error) {
	e := &Env{Name: DefaultName, Remaps: map[string]string{}, Params: map[string]any{}}
	master := getenv("ROS_MASTER_URI")
	host := getenv("ROS_HOSTNAME")
	if host == "" {
		host = getenv("ROS_IP")
	}
	ns := getenv("ROS_NAMESPACE")
	type kv struct{ k, v string }
	var remaps, params []kv
	for _, a := range args {
		k, v, ok := strings.Cut(a, ":=")
		if !ok || k == "" {
			e.Args = append(e.Args, a)
			continue
		}
		switch {
		case k == "__name":
			e.Name = v
		case k == "__ns":
			ns = v
		case k == "__master":
			master = v
		case k == "__ip", k == "__hostname":
			host = v
		case k == "__log":
			// Log file location: rssmd logs to stderr (journald); accepted and ignored.
		case strings.HasPrefix(k, "__"):
			return nil, fmt.Errorf("%w: unknown special argument %q", ErrEnv, a)
		case strings.HasPrefix(k, "_"):
			params = append(params, kv{k[1:], v})
		default:
			remaps = append(remaps, kv{k, v})
		}
	}
	if !validBaseName(e.Name) {
		return nil, fmt.Errorf("%w: node name %q (__name:=) must be a base name", ErrEnv, e.Name)
	}
	var err error
	if e.Namespace, err = CleanNamespace(ns); err != nil {
		return nil, fmt.Errorf("%w: ROS_NAMESPACE/__ns: %w", ErrEnv, err)
	}
	if master != "" {
		e.MasterURI = master
		if e.MasterAddr, err = masterAddr(master); err != nil {
			return nil, err
		}
	}
	if host != "" && strings.ContainsAny(host, "/: ") && net.ParseIP(host) == nil {
		return nil, fmt.Errorf("%w: ROS_IP/ROS_HOSTNAME %q is not a host name or address", ErrEnv, host)
	}
	e.Host = host
	node := e.NodeName()
	for _, r := range remaps {
		from, err := ResolveName(e.Namespace, node, r.k)
		if err != nil {
			return nil, fmt.Errorf("%w: remap %s:=%s: %w", ErrEnv, r.k, r.v, err)
		}
		to, err := ResolveName(e.Namespace, node, r.v)
		if err != nil {
			return nil, fmt.Errorf("%w: remap %s:=%s: %w", ErrEnv, r.k, r.v, err)
		}
		e.Remaps[from] = to
	}
	for _, p := range params {
		key, err := ResolveName(e.Namespace, node, "~"+p.k)
		if err != nil {
			return nil, fmt.Errorf("%w: parameter _%s: %w", ErrEnv, p.k, err)
		}
		var v any
		if err := yaml.Unmarshal([]byte(p.v), &v); err != nil || v == nil {
			v = p.v // not YAML (or empty): the string itself, as rospy does
		}
		e.Params[key] = v
	}
	return e, nil
}

// masterAddr checks a master URI and returns its host:port.
func masterAddr(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("%w: ROS_MASTER_URI %q: %w", ErrEnv, uri, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("%w: ROS_MASTER_URI %q: want http://host:port", ErrEnv, uri)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "11311"), nil
	}
	return u.Host, nil
}

// NodeName is the node's full name (/ns/name).
func (e *Env) NodeName() string { return join(e.Namespace, e.Name) }

// Resolve resolves a topic, service or parameter name for this node and applies the
// remappings, as ros::names::resolve does.
func (e *Env) Resolve(name string) (string, error) {
	r, err := ResolveName(e.Namespace, e.NodeName(), name)
	if err != nil {
		return "", err
	}
	if to, ok := e.Remaps[r]; ok {
		return to, nil
	}
	return r, nil
}

// ParamKeys returns the command-line parameters' keys in sorted order (deterministic
// set-up and logs).
func (e *Env) ParamKeys() []string {
	keys := make([]string, 0, len(e.Params))
	for k := range e.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
