package ros

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rssmd/rssmd/runtime/pipeline"
)

func TestDecodeResponse(t *testing.T) {
	wrap := func(v string) string {
		return `<?xml version='1.0'?><methodResponse><params><param><value>` + v + `</value></param></params></methodResponse>`
	}
	for _, tc := range []struct {
		name, xml string
		want      any
		err       bool
	}{
		{"int", wrap("<int>20</int>"), 20, false},
		{"i4", wrap("<i4>-3</i4>"), -3, false},
		{"double", wrap("<double>12.5</double>"), 12.5, false},
		{"bool", wrap("<boolean>1</boolean>"), true, false},
		{"string", wrap("<string>a&amp;b</string>"), "a&b", false},
		{"untyped string", wrap("plain"), "plain", false},
		{"nil", wrap("<nil/>"), nil, false},
		{"array", wrap("<array><data><value><i4>1</i4></value><value><string>ok</string></value></data></array>"), []any{1, "ok"}, false},
		{"struct", wrap("<struct><member><name>rate</name><value><int>20</int></value></member>" +
			"<member><name>cam</name><value><struct><member><name>w</name><value><double>1</double></value></member></struct></value></member></struct>"),
			map[string]any{"rate": 20, "cam": map[string]any{"w": 1.0}}, false},
		{"bad int", wrap("<int>x</int>"), nil, true},
		{"bad bool", wrap("<boolean>yes</boolean>"), nil, true},
		{"unknown type", wrap("<float>1</float>"), nil, true},
		{"two types", wrap("<int>1</int><int>2</int>"), nil, true},
		{"truncated", wrap("<array><data><value><int>1</int>")[:80], nil, true},
		{"no value", `<methodResponse></methodResponse>`, nil, true},
		{"fault", `<methodResponse><fault><value><string>boom</string></value></fault></methodResponse>`, nil, true},
		{"too deep", wrap(strings.Repeat("<array><data><value>", 40) + "<int>1</int>" + strings.Repeat("</value></data></array>", 40)), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeResponse([]byte(tc.xml))
			if (err != nil) != tc.err {
				t.Fatalf("err %v, want error %v", err, tc.err)
			}
			if !tc.err && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestConvertParams(t *testing.T) {
	for _, tc := range []struct {
		name    string
		raw     map[string]any
		want    ParamValues
		unknown []string
		err     bool
	}{
		{"int rate is a float", map[string]any{"rate": 20}, ParamValues{"rate": 20.0}, nil, false},
		{"float rate", map[string]any{"rate": 12.5}, ParamValues{"rate": 12.5}, nil, false},
		{"integral float is an int", map[string]any{"decode_every": 2.0}, ParamValues{"decode_every": 2}, nil, false},
		{"fractional int", map[string]any{"decode_every": 2.5}, nil, nil, true},
		{"bool", map[string]any{"int8": true, "reconstruction": false}, ParamValues{"int8": true, "reconstruction": false}, nil, false},
		{"string bool", map[string]any{"int8": "yes"}, nil, nil, true},
		{"number as string", map[string]any{"frame_id": 1}, ParamValues{"frame_id": "1"}, nil, false},
		{"duration seconds", map[string]any{"action_max_age": 0.25, "max_frame_age": 1}, ParamValues{"action_max_age": 250 * time.Millisecond, "max_frame_age": time.Second}, nil, false},
		{"duration string", map[string]any{"action_max_age": "150ms"}, ParamValues{"action_max_age": 150 * time.Millisecond}, nil, false},
		{"negative duration", map[string]any{"max_frame_age": -1}, nil, nil, true},
		{"bad duration", map[string]any{"max_frame_age": "soon"}, nil, nil, true},
		{"rate is a string", map[string]any{"rate": "fast"}, nil, nil, true},
		{"unknown", map[string]any{"raet": 20, "rate": 30}, ParamValues{"rate": 30.0}, []string{"raet"}, false},
		{"nested namespace", map[string]any{"camera": map[string]any{"x": 1}}, ParamValues{}, []string{"camera"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, unknown, err := ConvertParams(tc.raw)
			if (err != nil) != tc.err {
				t.Fatalf("err %v, want error %v", err, tc.err)
			}
			if tc.err {
				if !errors.Is(err, ErrParam) {
					t.Errorf("error %v does not wrap ErrParam", err)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(unknown, tc.unknown) {
				t.Errorf("got %v %v, want %v %v", got, unknown, tc.want, tc.unknown)
			}
		})
	}
}

func TestParamValuesAccessors(t *testing.T) {
	p := ParamValues{"rate": 20.0, "int8": true, "frame_id": "f", "horizon": 3, "max_frame_age": time.Second}
	var f float64
	var b bool
	var s string
	var i int
	var d time.Duration
	if !p.Float("rate", &f) || f != 20 || !p.Bool("int8", &b) || !b || !p.String("frame_id", &s) || s != "f" ||
		!p.Int("horizon", &i) || i != 3 || !p.Duration("max_frame_age", &d) || d != time.Second {
		t.Errorf("accessors: %v %v %q %d %v", f, b, s, i, d)
	}
	f = 7
	if p.Float("missing", &f) || f != 7 || p.Int("rate", &i) {
		t.Error("a missing or differently typed parameter was stored")
	}
}

// fakeMaster answers setParam and getParam like rosmaster, from a map.
func fakeMaster(t *testing.T, getParam string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), "<methodName>setParam<") {
			io.WriteString(w, `<?xml version="1.0"?><methodResponse><params><param><value><array><data><value><i4>1</i4></value><value><string></string></value><value><i4>0</i4></value></data></array></value></param></params></methodResponse>`)
			return
		}
		io.WriteString(w, getParam)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLoadParamsFake(t *testing.T) {
	answer := func(v string) string {
		return `<?xml version="1.0"?><methodResponse><params><param><value><array><data><value><i4>1</i4></value><value><string>ok</string></value><value>` + v + `</value></data></array></value></param></params></methodResponse>`
	}
	for _, tc := range []struct {
		name, answer string
		args         []string
		want         ParamValues
		masterErr    bool
		err          bool
	}{
		{"server values", answer(`<struct><member><name>rate</name><value><int>20</int></value></member><member><name>int8</name><value><boolean>1</boolean></value></member></struct>`),
			nil, ParamValues{"rate": 20.0, "int8": true}, false, false},
		{"not set", `<?xml version="1.0"?><methodResponse><params><param><value><array><data><value><i4>-1</i4></value><value><string>not set</string></value><value><i4>0</i4></value></data></array></value></param></params></methodResponse>`,
			[]string{"_rate:=30"}, ParamValues{"rate": 30.0}, false, false},
		{"wrong type on the server", answer(`<struct><member><name>rate</name><value><string>fast</string></value></member></struct>`), nil, nil, false, true},
		{"namespace is a value", answer(`<int>3</int>`), []string{"_rate:=30"}, ParamValues{"rate": 30.0}, true, false},
		{"garbage", "<html>", []string{"_rate:=30"}, ParamValues{"rate": 30.0}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeMaster(t, tc.answer)
			env, err := ParseEnv(envOf(map[string]string{"ROS_MASTER_URI": srv.URL}), tc.args)
			if err != nil {
				t.Fatal(err)
			}
			got, _, masterErr, err := LoadParams(context.Background(), env, 2*time.Second)
			if (err != nil) != tc.err || (masterErr != nil) != tc.masterErr {
				t.Fatalf("err %v masterErr %v", err, masterErr)
			}
			if !tc.err && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLoadParamsNoMaster: the command line's parameters still apply, and the reason is given.
func TestLoadParamsNoMaster(t *testing.T) {
	env, err := ParseEnv(envOf(map[string]string{"ROS_MASTER_URI": "http://127.0.0.1:1"}), []string{"_rate:=15", "_frame_id:=cam2"})
	if err != nil {
		t.Fatal(err)
	}
	got, _, masterErr, err := LoadParams(context.Background(), env, time.Second)
	if err != nil || masterErr == nil {
		t.Fatalf("err %v masterErr %v", err, masterErr)
	}
	if want := (ParamValues{"rate": 15.0, "frame_id": "cam2"}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestParamsAreTheSettings: every setting of the table is a private parameter, with the same
// default as the flag and config key (a parameter set to the default changes nothing; a
// value has the same effect as the flag), and the docs point to the one table.
func TestParamsAreTheSettings(t *testing.T) {
	def := pipeline.Defaults()
	for _, o := range pipeline.Options {
		if o.Default == nil {
			continue
		}
		vals, unknown, err := ConvertParams(map[string]any{o.Key: o.Default})
		if err != nil || len(unknown) > 0 {
			t.Fatalf("~%s: %v %v", o.Key, err, unknown)
		}
		r, err := pipeline.Resolve(pipeline.Layer{Name: "ROS parameters", Values: vals})
		if err != nil || !reflect.DeepEqual(r.Config, def) {
			t.Errorf("~%s := default %v: config %+v, err %v", o.Key, o.Default, r.Config, err)
		}
	}
	// A value from the parameter server has the effect of the same flag.
	vals, _, err := ConvertParams(map[string]any{"rate": 20, "max_frame_age": 0.25, "frame_id": "f"})
	if err != nil {
		t.Fatal(err)
	}
	fromROS, err := pipeline.Resolve(pipeline.Layer{Name: "ROS parameters", Values: vals})
	if err != nil {
		t.Fatal(err)
	}
	fromFlags, err := pipeline.Resolve(pipeline.Layer{Name: "flags", Values: map[string]any{"rate": "20", "max_frame_age": "250ms", "frame_id": "f"}})
	if err != nil || !reflect.DeepEqual(fromROS.Config, fromFlags.Config) {
		t.Errorf("ROS %+v != flags %+v (%v)", fromROS.Config, fromFlags.Config, err)
	}
	for _, file := range []string{"README.md", "doc.go"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`README.md|pipeline.Options`).Match(b) {
			t.Errorf("%s does not point to the settings table", file)
		}
	}
}
