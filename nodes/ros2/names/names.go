package names

import (
	"errors"
	"fmt"
	"strings"
)

// Length limits of rmw (include/rmw/validate_*.h): a full topic name leaves room for the
// DDS prefix within DDS's 255; a namespace leaves room for "/" and a one-letter name.
const (
	MaxTopicLength     = 247
	MaxNamespaceLength = MaxTopicLength - 2
	MaxNodeNameLength  = 255
)

// ErrInvalidName is wrapped by every validation error.
var ErrInvalidName = errors.New("invalid ROS name")

func invalid(kind, name string, at int, why string) error {
	if at >= 0 {
		return fmt.Errorf("%w: %s %q: %s (at index %d)", ErrInvalidName, kind, name, why, at)
	}
	return fmt.Errorf("%w: %s %q: %s", ErrInvalidName, kind, name, why)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ValidateNodeName checks a node name: letters, digits and _, not starting with a digit.
func ValidateNodeName(name string) error {
	const kind = "node name"
	if name == "" {
		return invalid(kind, name, -1, "empty")
	}
	if len(name) > MaxNodeNameLength {
		return invalid(kind, name, MaxNodeNameLength, fmt.Sprintf("longer than %d bytes", MaxNodeNameLength))
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '_' {
			return invalid(kind, name, i, fmt.Sprintf("%q is not a letter, digit or _", c))
		}
	}
	if isDigit(name[0]) {
		return invalid(kind, name, 0, "starts with a digit")
	}
	return nil
}

// ValidateNamespace checks a node namespace: absolute, "/" or tokens separated by single
// slashes without a trailing one.
func ValidateNamespace(ns string) error {
	if ns == "/" {
		return nil
	}
	return validateFull("namespace", ns, MaxNamespaceLength)
}

// ValidateFullName checks a fully qualified topic or service name.
func ValidateFullName(name string) error { return validateFull("topic name", name, MaxTopicLength) }

func validateFull(kind, name string, maxLen int) error {
	if name == "" {
		return invalid(kind, name, -1, "empty")
	}
	if name[0] != '/' {
		return invalid(kind, name, 0, "not absolute (must start with /)")
	}
	if name[len(name)-1] == '/' {
		return invalid(kind, name, len(name)-1, "ends with /")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '/':
			if i+1 < len(name) && name[i+1] == '/' {
				return invalid(kind, name, i, "repeated /")
			}
			if i+1 < len(name) && isDigit(name[i+1]) {
				return invalid(kind, name, i+1, "a token starts with a digit")
			}
		case isAlnum(c) || c == '_':
		default:
			return invalid(kind, name, i, fmt.Sprintf("%q is not a letter, digit, _ or /", c))
		}
	}
	if len(name) > maxLen {
		return invalid(kind, name, maxLen, fmt.Sprintf("longer than %d bytes", maxLen))
	}
	return nil
}

// ValidateTopicName checks a topic or service name as a user writes it, before expansion:
// relative, absolute or private (~, ~/x), with {substitutions}.
func ValidateTopicName(name string) error {
	const kind = "topic name"
	if name == "" {
		return invalid(kind, name, -1, "empty")
	}
	if name[len(name)-1] == '/' {
		return invalid(kind, name, len(name)-1, "ends with /")
	}
	if isDigit(name[0]) {
		return invalid(kind, name, 0, "starts with a digit")
	}
	inSubst := -1
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '~':
			if i != 0 {
				return invalid(kind, name, i, "~ is only allowed first")
			}
			if len(name) > 1 && name[1] != '/' {
				return invalid(kind, name, 1, "~ must be followed by /")
			}
		case c == '{':
			if inSubst >= 0 {
				return invalid(kind, name, i, "nested {")
			}
			inSubst = i
			if i+1 < len(name) && isDigit(name[i+1]) {
				return invalid(kind, name, i+1, "a substitution starts with a digit")
			}
		case c == '}':
			if inSubst < 0 {
				return invalid(kind, name, i, "} without {")
			}
			if i == inSubst+1 {
				return invalid(kind, name, i, "empty substitution")
			}
			inSubst = -1
		case c == '/':
			if inSubst >= 0 {
				return invalid(kind, name, i, "/ inside a substitution")
			}
			if i+1 < len(name) && name[i+1] == '/' {
				return invalid(kind, name, i, "repeated /")
			}
			if i+1 < len(name) && isDigit(name[i+1]) {
				return invalid(kind, name, i+1, "a token starts with a digit")
			}
		case isAlnum(c) || c == '_':
		default:
			return invalid(kind, name, i, fmt.Sprintf("%q is not allowed", c))
		}
	}
	if inSubst >= 0 {
		return invalid(kind, name, inSubst, "unterminated {")
	}
	return nil
}

// Expand turns a topic or service name into a fully qualified one for the node named node
// in namespace ns: "~" is the node's own name (ns/node), "~/x" is ns/node/x, a relative name
// goes under ns, and {node}, {ns} and {namespace} are replaced. The result is validated.
func Expand(name, node, ns string) (string, error) {
	if err := ValidateTopicName(name); err != nil {
		return "", err
	}
	if err := ValidateNodeName(node); err != nil {
		return "", err
	}
	if err := ValidateNamespace(ns); err != nil {
		return "", err
	}
	base := strings.TrimSuffix(ns, "/") // "" for the root namespace
	switch {
	case name == "~":
		name = base + "/" + node
	case strings.HasPrefix(name, "~/"):
		name = base + "/" + node + name[1:]
	}
	if strings.Contains(name, "{") {
		var b strings.Builder
		for rest := name; rest != ""; {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				b.WriteString(rest)
				break
			}
			j := strings.IndexByte(rest, '}') // validated: exists after i
			b.WriteString(rest[:i])
			switch key := rest[i+1 : j]; key {
			case "node":
				b.WriteString(node)
			case "ns", "namespace":
				b.WriteString(base) // "{ns}/x" in the root namespace is "/x"
			default:
				return "", invalid("topic name", name, i, fmt.Sprintf("unknown substitution {%s}", key))
			}
			rest = rest[j+1:]
		}
		name = b.String()
	}
	if name == "" || name[0] != '/' {
		name = base + "/" + name
	}
	if err := ValidateFullName(name); err != nil {
		return "", err
	}
	return name, nil
}

// Topic is the DDS topic of a ROS topic: "rt" + the fully qualified name.
func Topic(fqn string) string { return "rt" + fqn }

// RequestTopic is the DDS topic of a service's requests.
func RequestTopic(fqn string) string { return "rq" + fqn + "Request" }

// ReplyTopic is the DDS topic of a service's replies.
func ReplyTopic(fqn string) string { return "rr" + fqn + "Reply" }

// Demangle returns the ROS name of a DDS topic made by Topic, RequestTopic or ReplyTopic and
// which of them ("topic", "request", "reply"), or ok false for other DDS topics.
func Demangle(ddsTopic string) (fqn, kind string, ok bool) {
	switch {
	case strings.HasPrefix(ddsTopic, "rt/"):
		return ddsTopic[2:], "topic", true
	case strings.HasPrefix(ddsTopic, "rq/") && strings.HasSuffix(ddsTopic, "Request"):
		return strings.TrimSuffix(ddsTopic[2:], "Request"), "request", true
	case strings.HasPrefix(ddsTopic, "rr/") && strings.HasSuffix(ddsTopic, "Reply"):
		return strings.TrimSuffix(ddsTopic[2:], "Reply"), "reply", true
	}
	return "", "", false
}
