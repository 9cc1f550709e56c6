package ros

import (
	"errors"
	"reflect"
	"testing"
)

func TestResolveName(t *testing.T) {
	tests := []struct {
		ns, node, name, want string
		bad                  bool
	}{
		{"/", "/rssmd", "latent", "/latent", false},
		{"/", "/rssmd", "~latent", "/rssmd/latent", false},
		{"/", "/rssmd", "/diagnostics", "/diagnostics", false},
		{"/robot", "/robot/rssmd", "camera/image", "/robot/camera/image", false},
		{"/robot", "/robot/rssmd", "~image/compressed", "/robot/rssmd/image/compressed", false},
		{"/robot", "/robot/rssmd", "~/x", "/robot/rssmd/x", false},
		{"/robot", "/robot/rssmd", "~", "/robot/rssmd", false},
		{"/robot", "/robot/rssmd", "/", "/", false},
		{"/robot", "/robot/rssmd", "a//b", "", true},
		{"/robot", "/robot/rssmd", "a~b", "", true},
		{"/robot", "/robot/rssmd", "1abc", "", true},
		{"/robot", "/robot/rssmd", "a b", "", true},
		{"/robot", "/robot/rssmd", "", "", true},
	}
	for _, tt := range tests {
		got, err := ResolveName(tt.ns, tt.node, tt.name)
		if tt.bad {
			if !errors.Is(err, ErrName) {
				t.Errorf("ResolveName(%q, %q, %q) = %q, %v; want ErrName", tt.ns, tt.node, tt.name, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResolveName(%q, %q, %q) = %q, %v; want %q", tt.ns, tt.node, tt.name, got, err, tt.want)
		}
	}
}

func TestCleanNamespace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"}, {"/", "/"}, {"robot", "/robot"}, {"/robot/", "/robot"}, {"/a/b//", "/a/b"},
	}
	for _, tt := range tests {
		if got, err := CleanNamespace(tt.in); err != nil || got != tt.want {
			t.Errorf("CleanNamespace(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"~x", "/a b", "/a//b"} {
		if _, err := CleanNamespace(bad); err == nil {
			t.Errorf("CleanNamespace(%q) accepted", bad)
		}
	}
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(t *testing.T, e *Env)
		wantErr bool
	}{
		{
			name: "defaults",
			check: func(t *testing.T, e *Env) {
				if e.NodeName() != "/rssmd" || e.MasterURI != "" || e.Host != "" || e.Namespace != "/" {
					t.Errorf("got %+v", e)
				}
			},
		},
		{
			name: "environment",
			env:  map[string]string{"ROS_MASTER_URI": "http://robot:11312", "ROS_IP": "10.0.0.2", "ROS_NAMESPACE": "arm/"},
			check: func(t *testing.T, e *Env) {
				if e.MasterAddr != "robot:11312" || e.Host != "10.0.0.2" || e.NodeName() != "/arm/rssmd" {
					t.Errorf("got %+v", e)
				}
			},
		},
		{
			name: "hostname wins over ip; master without port gets 11311",
			env:  map[string]string{"ROS_MASTER_URI": "http://robot", "ROS_IP": "10.0.0.2", "ROS_HOSTNAME": "cam.local"},
			check: func(t *testing.T, e *Env) {
				if e.Host != "cam.local" || e.MasterAddr != "robot:11311" {
					t.Errorf("got %+v", e)
				}
			},
		},
		{
			name: "special arguments override the environment",
			env:  map[string]string{"ROS_MASTER_URI": "http://a:1", "ROS_NAMESPACE": "/x", "ROS_IP": "1.2.3.4"},
			args: []string{"--rate", "30", "__name:=world", "__ns:=/robot", "__master:=http://b:2", "__ip:=127.0.0.1", "__log:=/tmp/x.log", "model.pt"},
			check: func(t *testing.T, e *Env) {
				if e.NodeName() != "/robot/world" || e.MasterAddr != "b:2" || e.Host != "127.0.0.1" {
					t.Errorf("got %+v", e)
				}
				if !reflect.DeepEqual(e.Args, []string{"--rate", "30", "model.pt"}) {
					t.Errorf("Args = %q", e.Args)
				}
			},
		},
		{
			name: "remaps resolve both sides",
			env:  map[string]string{"ROS_NAMESPACE": "/robot"},
			args: []string{"~image:=/camera/image_raw", "~action:=cmd", "/diagnostics:=/diag_agg"},
			check: func(t *testing.T, e *Env) {
				want := map[string]string{
					"/robot/rssmd/image":  "/camera/image_raw",
					"/robot/rssmd/action": "/robot/cmd",
					"/diagnostics":        "/diag_agg",
				}
				if !reflect.DeepEqual(e.Remaps, want) {
					t.Errorf("Remaps = %v", e.Remaps)
				}
				for in, out := range map[string]string{"~image": "/camera/image_raw", "~latent": "/robot/rssmd/latent", "/diagnostics": "/diag_agg"} {
					if got, err := e.Resolve(in); err != nil || got != out {
						t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, err, out)
					}
				}
			},
		},
		{
			name: "private params are typed like YAML",
			args: []string{"_rate:=30", "_int8:=true", "_frame_id:=camera", "_scale:=0.5", "_empty:="},
			check: func(t *testing.T, e *Env) {
				want := map[string]any{"/rssmd/rate": 30, "/rssmd/int8": true, "/rssmd/frame_id": "camera", "/rssmd/scale": 0.5, "/rssmd/empty": ""}
				if !reflect.DeepEqual(e.Params, want) {
					t.Errorf("Params = %#v", e.Params)
				}
				if k := e.ParamKeys(); len(k) != 5 || k[0] != "/rssmd/empty" {
					t.Errorf("ParamKeys = %v", k)
				}
			},
		},
		{name: "bad node name", args: []string{"__name:=a/b"}, wantErr: true},
		{name: "bad namespace", env: map[string]string{"ROS_NAMESPACE": "a b"}, wantErr: true},
		{name: "bad master scheme", env: map[string]string{"ROS_MASTER_URI": "rosrpc://x:1"}, wantErr: true},
		{name: "bad master", env: map[string]string{"ROS_MASTER_URI": "http://%zz"}, wantErr: true},
		{name: "unknown special", args: []string{"__foo:=1"}, wantErr: true},
		{name: "bad remap", args: []string{"a b:=c"}, wantErr: true},
		{name: "bad param name", args: []string{"_a b:=1"}, wantErr: true},
		{name: "bad host", env: map[string]string{"ROS_IP": "http://x/"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEnv(envOf(tt.env), tt.args)
			if tt.wantErr {
				if !errors.Is(err, ErrEnv) {
					t.Fatalf("err = %v, want ErrEnv", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, e)
		})
	}
}
