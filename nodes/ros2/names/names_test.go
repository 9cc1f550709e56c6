package names

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		fn    func(string) error
		kind  string
		name  string
		quote string // "" means valid
	}{
		{ValidateNodeName, "node", "rssmd", ""},
		{ValidateNodeName, "node", "my_node2", ""},
		{ValidateNodeName, "node", "", "empty"},
		{ValidateNodeName, "node", "2fast", "starts with a digit"},
		{ValidateNodeName, "node", "a-b", `'-' is not`},
		{ValidateNodeName, "node", "a/b", `'/' is not`},
		{ValidateNodeName, "node", strings.Repeat("a", 256), "longer than 255"},
		{ValidateNamespace, "ns", "/", ""},
		{ValidateNamespace, "ns", "/robot/arm", ""},
		{ValidateNamespace, "ns", "robot", "not absolute"},
		{ValidateNamespace, "ns", "/robot/", "ends with /"},
		{ValidateNamespace, "ns", "/a//b", "repeated /"},
		{ValidateNamespace, "ns", "/a/1b", "starts with a digit"},
		{ValidateFullName, "full", "/rssmd/latent", ""},
		{ValidateFullName, "full", "/", "ends with /"},
		{ValidateFullName, "full", "/a b", `' ' is not`},
		{ValidateFullName, "full", "/~x", `'~' is not`},
		{ValidateFullName, "full", "/" + strings.Repeat("a", 247), "longer than 247"},
		{ValidateTopicName, "topic", "latent", ""},
		{ValidateTopicName, "topic", "~", ""},
		{ValidateTopicName, "topic", "~/latent", ""},
		{ValidateTopicName, "topic", "/{node}/x", ""},
		{ValidateTopicName, "topic", "{ns}/x_{node}", ""},
		{ValidateTopicName, "topic", "", "empty"},
		{ValidateTopicName, "topic", "~latent", "~ must be followed by /"},
		{ValidateTopicName, "topic", "a/~/b", "~ is only allowed first"},
		{ValidateTopicName, "topic", "a/", "ends with /"},
		{ValidateTopicName, "topic", "1a", "starts with a digit"},
		{ValidateTopicName, "topic", "a/2b", "starts with a digit"},
		{ValidateTopicName, "topic", "{a", "unterminated {"},
		{ValidateTopicName, "topic", "a}", "} without {"},
		{ValidateTopicName, "topic", "{}", "empty substitution"},
		{ValidateTopicName, "topic", "{a/b}", "/ inside a substitution"},
		{ValidateTopicName, "topic", "a.b", `'.' is not allowed`},
	}
	for _, tc := range tests {
		err := tc.fn(tc.name)
		if tc.quote == "" {
			if err != nil {
				t.Errorf("%s %q: %v", tc.kind, tc.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), tc.quote) {
			t.Errorf("%s %q: err = %v, want one saying %q", tc.kind, tc.name, err, tc.quote)
		}
	}
}

func TestExpand(t *testing.T) {
	tests := []struct{ name, node, ns, want string }{
		{"latent", "rssmd", "/", "/latent"},
		{"latent", "rssmd", "/robot", "/robot/latent"},
		{"/latent", "rssmd", "/robot", "/latent"},
		{"~", "rssmd", "/", "/rssmd"},
		{"~", "rssmd", "/robot", "/robot/rssmd"},
		{"~/latent", "rssmd", "/", "/rssmd/latent"},
		{"~/latent", "rssmd", "/robot/a", "/robot/a/rssmd/latent"},
		{"{node}/x", "rssmd", "/robot", "/robot/rssmd/x"},
		{"/{node}/x", "rssmd", "/robot", "/rssmd/x"},
		{"{ns}/x", "rssmd", "/robot", "/robot/x"},
		{"{ns}/x", "rssmd", "/", "/x"},
		{"{namespace}/{node}", "n", "/a", "/a/n"},
		{"a/b", "n", "/ns", "/ns/a/b"},
	}
	for _, tc := range tests {
		got, err := Expand(tc.name, tc.node, tc.ns)
		if err != nil || got != tc.want {
			t.Errorf("Expand(%q, %q, %q) = %q, %v; want %q", tc.name, tc.node, tc.ns, got, err, tc.want)
		}
	}
	for _, bad := range []struct{ name, node, ns, quote string }{
		{"{bogus}/x", "n", "/", "unknown substitution {bogus}"},
		{"x", "2n", "/", "node name"},
		{"x", "n", "ns", "namespace"},
		{"~x", "n", "/", "~ must be followed"},
	} {
		if _, err := Expand(bad.name, bad.node, bad.ns); err == nil || !strings.Contains(err.Error(), bad.quote) {
			t.Errorf("Expand(%q, %q, %q): err = %v, want %q", bad.name, bad.node, bad.ns, err, bad.quote)
		}
	}
}

func TestMangling(t *testing.T) {
	tests := []struct {
		fn             func(string) string
		in, want, kind string
	}{
		{Topic, "/rssmd/latent", "rt/rssmd/latent", "topic"},
		{Topic, "/chatter", "rt/chatter", "topic"},
		{RequestTopic, "/rssmd/reset", "rq/rssmd/resetRequest", "request"},
		{ReplyTopic, "/rssmd/reset", "rr/rssmd/resetReply", "reply"},
		{ReplyTopic, "/a/b/imagine", "rr/a/b/imagineReply", "reply"},
	}
	for _, tc := range tests {
		got := tc.fn(tc.in)
		if got != tc.want {
			t.Errorf("%q -> %q, want %q", tc.in, got, tc.want)
		}
		back, kind, ok := Demangle(got)
		if !ok || back != tc.in || kind != tc.kind {
			t.Errorf("Demangle(%q) = %q %q %v", got, back, kind, ok)
		}
	}
	for _, s := range []string{"ros_discovery_info", "rq/xReply", "DCPSParticipant"} {
		if _, _, ok := Demangle(s); ok {
			t.Errorf("Demangle(%q) accepted a non-ROS topic", s)
		}
	}
}
