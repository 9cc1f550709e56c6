package ros

import (
	"errors"
	"fmt"
	"strings"
)

// ErrName marks a name that is not a legal ROS graph resource name.
var ErrName = errors.New("invalid ROS name")

// validName reports whether s is a legal graph resource name (REP/wiki "Names": the first
// character is a letter, '/' or '~'; the others letters, digits, '_' or '/'; no "//").
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c == '/':
			if i > 0 && s[i-1] == '/' {
				return false
			}
		case c == '~':
			if i != 0 {
				return false
			}
		case c >= '0' && c <= '9', c == '_':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// validBaseName reports whether s is a legal base name (a node name): no slashes, no '~'.
func validBaseName(s string) bool {
	return validName(s) && !strings.ContainsAny(s, "/~")
}

// CleanNamespace turns a namespace as written (ROS_NAMESPACE, __ns:=) into the form used in
// resolution: global, no trailing slash, "/" for the root.
func CleanNamespace(ns string) (string, error) {
	if ns == "" || ns == "/" {
		return "/", nil
	}
	if !strings.HasPrefix(ns, "/") {
		ns = "/" + ns
	}
	ns = strings.TrimRight(ns, "/")
	if !validName(ns) || strings.Contains(ns, "~") {
		return "", fmt.Errorf("%w: namespace %q", ErrName, ns)
	}
	return ns, nil
}

func join(ns, name string) string {
	if ns == "/" {
		return "/" + name
	}
	return ns + "/" + name
}

// ResolveName resolves name the way roscpp and rospy do, without remapping: a global name
// ("/a/b") stays, a private name ("~x") goes under the node's full name node, and a relative
// name ("a/b") under the namespace ns. ns and node must be clean global names.
func ResolveName(ns, node, name string) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("%w: %q", ErrName, name)
	}
	name = strings.TrimRight(name, "/")
	switch {
	case name == "" || name == "~":
		// "/" or "~" alone: the root, or the node itself.
		if strings.HasPrefix(name, "~") {
			return node, nil
		}
		return "/", nil
	case name[0] == '/':
		return name, nil
	case name[0] == '~':
		return join(node, strings.TrimLeft(name[1:], "/")), nil
	default:
		return join(ns, name), nil
	}
}
