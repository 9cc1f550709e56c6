package names

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrArgs is wrapped by every command-line error.
var ErrArgs = errors.New("invalid ROS arguments")

// Remap is one -r rule: [Node:]From:=To. From and To are names as written (relative,
// private or absolute), or __node / __ns rules.
type Remap struct {
	Node string // empty: the rule applies to every node of the process
	From string
	To   string
}

// Param is one -p rule: [Node:]Name:=Value. Value is bool, int64, float64, string, []bool,
// []int64, []float64 or []string, typed from YAML as rcl types it.
type Param struct {
	Node  string
	Name  string
	Value any
}

// Args is what --ros-args sections hold.
type Args struct {
	Remaps        []Remap
	Params        []Param
	ParamsFiles   []string
	LogLevels     map[string]string // logger name ("" for the default) to level (debug…fatal)
	LogConfigFile string
	LogFileName   string
	Enclave       string
	// Switches holds the logging switches given (--enable-rosout-logs, --disable-stdout-logs…)
	// by name without the dashes, mapped to on/off.
	Switches map[string]bool
	// Rest is every argument outside --ros-args sections, in order (the program's own).
	Rest []string
}

var logSwitches = map[string]bool{"rosout-logs": true, "stdout-logs": true, "external-lib-logs": true}

var logLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true, "fatal": true, "unset": true}

// ParseArgs reads a command line (without the program name): --ros-args starts a section of
// ROS arguments, which lasts until "--" or the end; there may be several. An unknown
// option or a malformed rule in a section is an error that quotes it.
func ParseArgs(args []string) (*Args, error) {
	a := &Args{LogLevels: map[string]string{}, Switches: map[string]bool{}}
	in := false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !in {
			if arg == "--ros-args" {
				in = true
			} else {
				a.Rest = append(a.Rest, arg)
			}
			continue
		}
		// value returns the option's argument: the next word, or the part after "=" of a
		// long option written --opt=value.
		value := func(opt string) (string, error) {
			if i+1 >= len(args) || args[i+1] == "--" || args[i+1] == "--ros-args" {
				return "", fmt.Errorf("%w: %s needs a value", ErrArgs, opt)
			}
			i++
			return args[i], nil
		}
		opt, inline, hasInline := arg, "", false
		if strings.HasPrefix(arg, "--") {
			opt, inline, hasInline = strings.Cut(arg, "=")
		}
		get := func() (string, error) {
			if hasInline {
				return inline, nil
			}
			return value(opt)
		}
		switch opt {
		case "--":
			in = false
		case "--ros-args":
		case "-r", "--remap":
			v, err := get()
			if err != nil {
				return nil, err
			}
			r, err := parseRemap(v)
			if err != nil {
				return nil, err
			}
			a.Remaps = append(a.Remaps, r)
		case "-p", "--param":
			v, err := get()
			if err != nil {
				return nil, err
			}
			p, err := parseParam(v)
			if err != nil {
				return nil, err
			}
			a.Params = append(a.Params, p)
		case "--params-file":
			v, err := get()
			if err != nil {
				return nil, err
			}
			a.ParamsFiles = append(a.ParamsFiles, v)
		case "--log-level":
			v, err := get()
			if err != nil {
				return nil, err
			}
			logger, level, ok := strings.Cut(v, ":=")
			if !ok {
				logger, level = "", v
			}
			if !logLevels[strings.ToLower(level)] {
				return nil, fmt.Errorf("%w: --log-level %q: level %q is not debug, info, warn, error, fatal or unset", ErrArgs, v, level)
			}
			a.LogLevels[logger] = strings.ToLower(level)
		case "--log-config-file":
			v, err := get()
			if err != nil {
				return nil, err
			}
			a.LogConfigFile = v
		case "--log-file-name":
			v, err := get()
			if err != nil {
				return nil, err
			}
			a.LogFileName = v
		case "-e", "--enclave":
			v, err := get()
			if err != nil {
				return nil, err
			}
			if err := ValidateNamespace(v); err != nil {
				return nil, fmt.Errorf("%w: %s %q: %w", ErrArgs, opt, v, err)
			}
			a.Enclave = v
		default:
			if on, name, ok := logSwitch(opt); ok && !hasInline {
				a.Switches[name] = on
				continue
			}
			return nil, fmt.Errorf("%w: unknown option %q in --ros-args", ErrArgs, arg)
		}
	}
	return a, nil
}

func logSwitch(opt string) (on bool, name string, ok bool) {
	switch {
	case strings.HasPrefix(opt, "--enable-"):
		on, name = true, opt[len("--enable-"):]
	case strings.HasPrefix(opt, "--disable-"):
		name = opt[len("--disable-"):]
	default:
		return false, "", false
	}
	return on, name, logSwitches[name]
}

// splitRule splits "[node:]lhs:=rhs".
func splitRule(what, rule string) (node, lhs, rhs string, err error) {
	lhs, rhs, ok := strings.Cut(rule, ":=")
	if !ok {
		return "", "", "", fmt.Errorf("%w: %s %q has no :=", ErrArgs, what, rule)
	}
	if n, l, ok := strings.Cut(lhs, ":"); ok {
		node, lhs = n, l
		if err := ValidateNodeName(node); err != nil {
			return "", "", "", fmt.Errorf("%w: %s %q: %w", ErrArgs, what, rule, err)
		}
	}
	if lhs == "" {
		return "", "", "", fmt.Errorf("%w: %s %q: empty name before :=", ErrArgs, what, rule)
	}
	return node, lhs, rhs, nil
}

func parseRemap(rule string) (Remap, error) {
	node, from, to, err := splitRule("remap rule", rule)
	if err != nil {
		return Remap{}, err
	}
	wrap := func(err error) (Remap, error) {
		return Remap{}, fmt.Errorf("%w: remap rule %q: %w", ErrArgs, rule, err)
	}
	switch from {
	case "__node", "__name":
		if err := ValidateNodeName(to); err != nil {
			return wrap(err)
		}
		from = "__node"
	case "__ns":
		if err := ValidateNamespace(to); err != nil {
			return wrap(err)
		}
	default:
		if err := ValidateTopicName(from); err != nil {
			return wrap(err)
		}
		if err := ValidateTopicName(to); err != nil {
			return wrap(err)
		}
	}
	return Remap{Node: node, From: from, To: to}, nil
}

func parseParam(rule string) (Param, error) {
	node, name, text, err := splitRule("parameter", rule)
	if err != nil {
		return Param{}, err
	}
	v, err := ParseValue(text)
	if err != nil {
		return Param{}, fmt.Errorf("%w: parameter %q: %w", ErrArgs, rule, err)
	}
	return Param{Node: node, Name: name, Value: v}, nil
}

// ParseValue types a parameter value written in YAML as rcl does: true/false (also
// yes/no/on/off in any of rcl's spellings) is a bool, an integer is int64, a number is
// float64 (.inf and .nan too), a flow sequence [a, b] whose items all have one type is
// a slice of it, and anything else — or anything quoted — is a string.
func ParseValue(text string) (any, error) {
	if strings.TrimSpace(text) == "" {
		return "", nil
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		return nil, fmt.Errorf("value %q is not YAML: %w", text, err)
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return nodeValue(n.Content[0], text)
	}
	return nil, fmt.Errorf("value %q is not a scalar or a sequence", text)
}

func nodeValue(n *yaml.Node, text string) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return scalar(n), nil
	case yaml.SequenceNode:
		return sequence(n, text)
	}
	return nil, fmt.Errorf("value %q is a mapping, not a scalar or a sequence", text)
}

var (
	trueWords  = map[string]bool{"true": true, "True": true, "TRUE": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true}
	falseWords = map[string]bool{"false": true, "False": true, "FALSE": true, "no": true, "No": true, "NO": true, "off": true, "Off": true, "OFF": true}
)

func scalar(n *yaml.Node) any {
	s := n.Value
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 || n.Tag == "!!str" && n.Style != 0 {
		return s
	}
	switch {
	case trueWords[s]:
		return true
	case falseWords[s]:
		return false
	}
	if i, err := strconv.ParseInt(s, 0, 64); err == nil && !strings.ContainsAny(s, "_") {
		return i
	}
	switch strings.ToLower(s) {
	case ".inf", "+.inf":
		return math.Inf(1)
	case "-.inf":
		return math.Inf(-1)
	case ".nan":
		return math.NaN()
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "_xXpP") {
		return f
	}
	return s
}

func sequence(n *yaml.Node, text string) (any, error) {
	if len(n.Content) == 0 {
		// rcl cannot type an empty array; a string array is what it becomes when filled.
		return []string{}, nil
	}
	var (
		bools   []bool
		ints    []int64
		floats  []float64
		strs    []string
		kind    string
		kindErr = func(item string) error {
			return fmt.Errorf("array %q mixes types (%s, then %q)", text, kind, item)
		}
	)
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("array %q holds a nested %s", text, map[yaml.Kind]string{yaml.SequenceNode: "sequence", yaml.MappingNode: "mapping"}[c.Kind])
		}
		v := scalar(c)
		var k string
		switch v.(type) {
		case bool:
			k = "bool"
		case int64:
			k = "int"
		case float64:
			k = "double"
		default:
			k = "string"
		}
		if kind == "" {
			kind = k
		} else if k != kind {
			return nil, kindErr(c.Value)
		}
		switch v := v.(type) {
		case bool:
			bools = append(bools, v)
		case int64:
			ints = append(ints, v)
		case float64:
			floats = append(floats, v)
		case string:
			strs = append(strs, v)
		}
	}
	switch kind {
	case "bool":
		return bools, nil
	case "int":
		return ints, nil
	case "double":
		return floats, nil
	}
	return strs, nil
}

// ParamsFile is a parsed --params-file: in file order, each node pattern ("/ns/node",
// "/**", "/*/node"…) with its ros__parameters, nested keys joined by dots.
type ParamsFile []ParamsEntry

// ParamsEntry is one node section of a parameters file.
type ParamsEntry struct {
	Pattern string // absolute
	Params  map[string]any
}

// ReadParamsFile reads and parses a ROS 2 parameters file.
func ReadParamsFile(path string) (ParamsFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("params file: %w", err)
	}
	pf, err := ParseParamsFile(b)
	if err != nil {
		return nil, fmt.Errorf("params file %s: %w", path, err)
	}
	return pf, nil
}

// ParseParamsFile parses the YAML of a ROS 2 parameters file:
//
//	/ns/node:            # or node, /**, /**/node, /ns/*
//	  ros__parameters:
//	    rate: 50.0
//	    camera:
//	      width: 640       # the parameter camera.width
func ParseParamsFile(b []byte) (ParamsFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrArgs, err)
	}
	var pf ParamsFile
	if doc.Kind == 0 {
		return pf, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: line %d: the top level must map node names", ErrArgs, root.Line)
	}
	var walk func(prefix string, m *yaml.Node, out map[string]any) error
	walk = func(prefix string, m *yaml.Node, out map[string]any) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i].Value, m.Content[i+1]
			name := prefix + k
			if v.Kind == yaml.MappingNode {
				if err := walk(name+".", v, out); err != nil {
					return err
				}
				continue
			}
			val, err := nodeValue(v, name)
			if err != nil {
				return fmt.Errorf("%w: line %d: parameter %s: %w", ErrArgs, v.Line, name, err)
			}
			out[name] = val
		}
		return nil
	}
	// Node keys may nest namespaces as mappings ("ns: {node: {ros__parameters: …}}").
	var nodes func(prefix string, m *yaml.Node) error
	nodes = func(prefix string, m *yaml.Node) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i].Value, m.Content[i+1]
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("%w: line %d: %q must hold ros__parameters", ErrArgs, v.Line, k)
			}
			if k == "ros__parameters" {
				pattern := prefix
				if pattern == "" {
					return fmt.Errorf("%w: line %d: ros__parameters outside a node", ErrArgs, v.Line)
				}
				if pattern[0] != '/' {
					pattern = "/" + pattern
				}
				params := map[string]any{}
				if err := walk("", v, params); err != nil {
					return err
				}
				pf = append(pf, ParamsEntry{Pattern: pattern, Params: params})
				continue
			}
			p := k
			if prefix != "" {
				p = strings.TrimSuffix(prefix, "/") + "/" + strings.TrimPrefix(k, "/")
			}
			if err := nodes(p, v); err != nil {
				return err
			}
		}
		return nil
	}
	if err := nodes("", root); err != nil {
		return nil, err
	}
	return pf, nil
}

// For returns the parameters that apply to the node with fully qualified name fqn: every
// matching section in file order, a later one overriding an earlier one, as rcl applies
// them.
func (pf ParamsFile) For(fqn string) map[string]any {
	out := map[string]any{}
	for _, e := range pf {
		if matchNode(e.Pattern, fqn) {
			for k, v := range e.Params {
				out[k] = v
			}
		}
	}
	return out
}

// matchNode matches a node pattern: * is one token, ** any number (also none).
func matchNode(pattern, fqn string) bool {
	return matchTokens(strings.Split(strings.Trim(pattern, "/"), "/"), strings.Split(strings.Trim(fqn, "/"), "/"))
}

func matchTokens(p, s []string) bool {
	for len(p) > 0 {
		if p[0] == "**" {
			for k := 0; k <= len(s); k++ {
				if matchTokens(p[1:], s[k:]) {
					return true
				}
			}
			return false
		}
		if len(s) == 0 || (p[0] != "*" && p[0] != s[0]) {
			return false
		}
		p, s = p[1:], s[1:]
	}
	return len(s) == 0
}
