package names

import (
	"fmt"
	"strings"
)

// Node is a node's identity after the command line: its name and namespace (with __node and
// __ns rules applied) and the remap rules that apply to it.
type Node struct {
	Name      string
	Namespace string
	remaps    []Remap
}

// NewNode applies args (nil for none) to a node that calls itself name in namespace ns:
// the first __node and __ns rules for it (or for every node) rename it, and the topic rules
// that name its new name or no node are kept for Resolve. A namespace without a leading slash is taken
// as absolute, as rclcpp does; "" is "/".
func NewNode(name, ns string, args *Args) (*Node, error) {
	if ns == "" {
		ns = "/"
	} else if ns[0] != '/' {
		ns = "/" + ns
	}
	n := &Node{Name: name, Namespace: ns}
	if args != nil {
		// __node and __ns rules match the name the node gave itself; topic rules match the
		// name it ends up with (rcl_node_init remaps the name first).
		var gotName, gotNS bool
		for _, r := range args.Remaps {
			if r.Node != "" && r.Node != name {
				continue
			}
			switch {
			case r.From == "__node" && !gotName:
				n.Name, gotName = r.To, true
			case r.From == "__ns" && !gotNS:
				n.Namespace, gotNS = r.To, true
			}
		}
		for _, r := range args.Remaps {
			if r.From != "__node" && r.From != "__ns" && (r.Node == "" || r.Node == n.Name) {
				n.remaps = append(n.remaps, r)
			}
		}
	}
	if err := ValidateNodeName(n.Name); err != nil {
		return nil, err
	}
	if err := ValidateNamespace(n.Namespace); err != nil {
		return nil, err
	}
	return n, nil
}

// FQN is the node's fully qualified name, "/ns/name".
func (n *Node) FQN() string { return strings.TrimSuffix(n.Namespace, "/") + "/" + n.Name }

// Resolve expands a topic or service name for this node and applies the first remap rule
// whose From, expanded the same way, equals it; the rule's To is expanded too.
func (n *Node) Resolve(name string) (string, error) {
	fqn, err := Expand(name, n.Name, n.Namespace)
	if err != nil {
		return "", err
	}
	for _, r := range n.remaps {
		from, err := Expand(r.From, n.Name, n.Namespace)
		if err != nil || from != fqn {
			continue
		}
		to, err := Expand(r.To, n.Name, n.Namespace)
		if err != nil {
			return "", fmt.Errorf("remap %s:=%s: %w", r.From, r.To, err)
		}
		return to, nil
	}
	return fqn, nil
}

// Params returns the parameters for this node: those of the parameters files (read in the
// order given; sections that match its fully qualified name) overridden by -p rules for it
// or for every node, in command-line order.
func (n *Node) Params(args *Args) (map[string]any, error) {
	out := map[string]any{}
	if args == nil {
		return out, nil
	}
	for _, path := range args.ParamsFiles {
		pf, err := ReadParamsFile(path)
		if err != nil {
			return nil, err
		}
		for k, v := range pf.For(n.FQN()) {
			out[k] = v
		}
	}
	for _, p := range args.Params {
		if p.Node == "" || p.Node == n.Name {
			out[p.Name] = p.Value
		}
	}
	return out, nil
}
