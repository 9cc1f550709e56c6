package pipeline

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite README.md's settings table")

// TestOptionsTableInREADME: README.md's settings table is the one generated from Options.
func TestOptionsTableInREADME(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- options:begin -->\n", "<!-- options:end -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q block", begin, end)
	}
	want := MarkdownTable()
	if got := s[i+len(begin) : j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's settings table is out of date: go test ./runtime/pipeline -run OptionsTable -update\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// sampleValue is a valid non-default value of each option, as text.
func sampleValue(t *testing.T, o Option) string {
	switch o.Key {
	case "model":
		return "m"
	case "source":
		return "replay:x.npz"
	case "device":
		return "/dev/video3"
	case "format":
		return "MJPEG"
	case "crop":
		return "center"
	case "filter":
		return "area"
	case "prepare":
		return "tick"
	case "metrics_addr":
		return "off"
	case "action_policy":
		return "zeros"
	}
	switch o.Kind {
	case KindString:
		return "s2"
	case KindInt:
		return "2"
	case KindFloat:
		return "20"
	case KindDuration:
		return "2"
	case KindBool:
		return fmt.Sprint(!o.Default.(bool))
	}
	t.Fatalf("no sample for %s", o.Key)
	return ""
}

func resolveFlags(t *testing.T, args ...string) Config {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fv := BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("flags %v: %v", args, err)
	}
	r, err := Resolve(fv.Layer())
	if err != nil {
		t.Fatalf("flags %v: %v", args, err)
	}
	return r.Config
}

func resolveFile(t *testing.T, name, text string) Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("%s %q: %v", name, text, err)
	}
	return c
}

// TestOptionsEverywhere: every option is accepted as a flag and as a YAML and JSON key, its
// default written out explicitly changes nothing, and a sample value has the same effect in
// each form (and an effect).
func TestOptionsEverywhere(t *testing.T) {
	def := Defaults()
	for _, o := range Options {
		t.Run(o.Key, func(t *testing.T) {
			if o.Default != nil {
				d := formatValue(o.Default)
				if d == `""` {
					d = ""
				}
				if c := resolveFlags(t, "--"+o.Flag()+"="+d); !reflect.DeepEqual(c, def) {
					t.Errorf("--%s=%s (the default) changed the config: %+v", o.Flag(), d, c)
				}
				if c := resolveFile(t, "c.yaml", fmt.Sprintf("%s: %q\n", o.Key, d)); o.Kind == KindString && !reflect.DeepEqual(c, def) {
					t.Errorf("yaml %s: %q (the default) changed the config", o.Key, d)
				}
			}
			v := sampleValue(t, o)
			fromFlag := resolveFlags(t, "--"+o.Flag()+"="+v)
			if reflect.DeepEqual(fromFlag, def) {
				t.Fatalf("--%s=%s had no effect", o.Flag(), v)
			}
			yamlVal, jsonVal := v, v
			if o.Kind == KindString {
				yamlVal, jsonVal = fmt.Sprintf("%q", v), fmt.Sprintf("%q", v)
			}
			if c := resolveFile(t, "c.yaml", o.Key+": "+yamlVal+"\n"); !reflect.DeepEqual(c, fromFlag) {
				t.Errorf("yaml %s: %s gives %+v, flag gives %+v", o.Key, v, c, fromFlag)
			}
			if c := resolveFile(t, "c.json", fmt.Sprintf(`{%q: %s}`, o.Key, jsonVal)); !reflect.DeepEqual(c, fromFlag) {
				t.Errorf("json %s: %s gives %+v, flag gives %+v", o.Key, v, c, fromFlag)
			}
		})
	}
}

func TestResolvePrecedence(t *testing.T) {
	file := Layer{Name: "file", Values: map[string]any{"rate": 10, "model": "file", "crop": "center"}}
	flags := Layer{Name: "flags", Values: map[string]any{"rate": "20", "model": "flag"}}
	ros := Layer{Name: "ROS parameters", Values: map[string]any{"rate": 30.0, "frame_id": "f", "raet": 1}, UnknownOK: true}
	r, err := Resolve(file, flags, ros)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Config
	if c.Rate != 30 || c.Model != "flag" || c.Crop != "center" || c.FrameID != "f" {
		t.Errorf("precedence: %+v", c)
	}
	if !reflect.DeepEqual(r.Unknown, []string{"ROS parameters: raet"}) {
		t.Errorf("unknown %v", r.Unknown)
	}
	// Device wins over source in the same layer, whatever the map order.
	for i := 0; i < 20; i++ {
		r, err := Resolve(Layer{Name: "l", Values: map[string]any{"source": "ros", "device": "/dev/video2"}})
		if err != nil || r.Config.Source != "v4l2:/dev/video2" {
			t.Fatalf("device vs source: %q %v", r.Config.Source, err)
		}
	}
}

func TestResolveDeprecatedAndErrors(t *testing.T) {
	r, err := Resolve(Layer{Name: "config file x", Values: map[string]any{"realtime_priority": 5}})
	if err != nil || r.Config.RealtimePriority != 5 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], `"rt_priority"`) {
		t.Errorf("deprecated spelling: %+v %v", r, err)
	}
	for _, tc := range []struct {
		l    Layer
		want string
	}{
		{Layer{Name: "f", Values: map[string]any{"modle": "x"}}, `unknown key "modle"`},
		{Layer{Name: "f", Values: map[string]any{"metrics-addr": "x"}}, `did you mean "metrics_addr"`},
		{Layer{Name: "f", Values: map[string]any{"rate": "fast"}}, "rate"},
		{Layer{Name: "f", Values: map[string]any{"rate": 0}}, "rate: 0 Hz"},
		{Layer{Name: "f", Values: map[string]any{"rate": -5}}, "rate: -5 Hz"},
		{Layer{Name: "f", Values: map[string]any{"decode_every": 2.5}}, "decode_every"},
		{Layer{Name: "f", Values: map[string]any{"max_frame_age": -1}}, "max_frame_age"},
		{Layer{Name: "f", Values: map[string]any{"source": "camera0"}}, "source"},
		{Layer{Name: "f", Values: map[string]any{"rt_priority": 100}}, "rt_priority"},
		{Layer{Name: "f", Values: map[string]any{"rt_priority": 1, "realtime_priority": 2}}, "same setting"},
		{Layer{Name: "f", Values: map[string]any{"action_policy": "random"}}, "action_policy"},
	} {
		_, err := Resolve(tc.l)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want it to mention %q", tc.l.Values, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrOption) && !errors.Is(err, ErrConfig) {
			t.Errorf("%v: %v wraps neither ErrOption nor ErrConfig", tc.l.Values, err)
		}
	}
	if d := Defaults(); d.Rate != 50 || d.DecodeEvery != 1 || d.MaxFrameAge != 100*time.Millisecond || !d.Predict || d.FrameID != "camera" {
		t.Errorf("defaults %+v", d)
	}
}
