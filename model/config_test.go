package model

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadConfigWalker(t *testing.T) {
	c, err := LoadConfigFile(filepath.Join(walkerModelDir(t), "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wm := c.WorldModel
	if wm.Name != "rssmo" || !reflect.DeepEqual(wm.StateDim, []int{512, 30}) || wm.StateDistribution != "continuous" {
		t.Errorf("name %q state_dim %v distribution %q", wm.Name, wm.StateDim, wm.StateDistribution)
	}
	if wm.HiddenSize != 512 || wm.HiddenLayers != 2 || wm.Norm != "ln" || wm.PredictEmb || wm.IdmMode != "none" {
		t.Errorf("hidden %d layers %d norm %q predict_emb %v idm %q", wm.HiddenSize, wm.HiddenLayers, wm.Norm, wm.PredictEmb, wm.IdmMode)
	}
	if !wm.MinStdSet || wm.MinStd == nil || *wm.MinStd != 0.1 {
		t.Errorf("min_std %v (set %v), want 0.1", wm.MinStd, wm.MinStdSet)
	}
	f := false
	wantEnc := map[string]HeadConfig{
		"tabular": {Name: "mlp", HiddenSize: 512, HiddenLayers: 2, HiddenActivation: "swish", Norm: "ln", HaveHead: &f},
		"visual":  {Name: "cnn_ha", Width: 32},
	}
	if !reflect.DeepEqual(wm.Encoders, wantEnc) {
		t.Errorf("encoders %+v", wm.Encoders)
	}
	wantDec := map[string]HeadConfig{
		"tabular": {Name: "dmlp", HiddenSize: 512, HiddenLayers: 2, HiddenActivation: "swish", Norm: "ln"},
		"binary":  {Name: "binary", HiddenSize: 128, HiddenLayers: 2},
		"visual":  {Name: "cnn_ha", Width: 32, Sigmoid: &f},
	}
	if !reflect.DeepEqual(wm.Decoders, wantDec) {
		t.Errorf("decoders %+v", wm.Decoders)
	}
	if len(wm.Probes) != 2 || wm.Probes["visual"].Sigmoid == nil || *wm.Probes["visual"].Sigmoid {
		t.Errorf("probes %+v", wm.Probes)
	}
	if c.EnvironmentSetup != "visual" || c.ActionFree || c.UseReward || c.UseProbe {
		t.Errorf("setup %q action_free %v use_reward %v use_probe %v", c.EnvironmentSetup, c.ActionFree, c.UseReward, c.UseProbe)
	}
	if c.EmbodimentDatasetName != "walker-synthetic-moving-shapes" {
		t.Errorf("embodiment_dataset_name %q", c.EmbodimentDatasetName)
	}
	env := c.Env
	if env.Class != "dmc" || env.Embodiment != "walker" || env.Task != "walk" || env.ActionRepeat != 2 ||
		!reflect.DeepEqual(env.Size, []int{64, 64}) {
		t.Errorf("env %+v", env)
	}
	if env.Name != "${env.embodiment}-${env.task}" {
		t.Errorf("env.name %q: interpolations must stay literal", env.Name)
	}
	wantSensors := []SensorConfig{
		{"image", "visual", "first", "external"},
		{"orientations", "tabular", "first", ""},
		{"height", "tabular", "first", ""},
		{"velocity", "tabular", "second", ""},
	}
	if !reflect.DeepEqual(env.Sensors, wantSensors) {
		t.Errorf("sensors %+v", env.Sensors)
	}
}

const minimalConfig = "world_model:\n  name: rssmo\n  state_dim: [512, 30]\n"

func TestParseConfig(t *testing.T) {
	tr := true
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, c *Config)
	}{
		{"minimal: defaults for absent keys", minimalConfig, func(t *testing.T, c *Config) {
			wm := c.WorldModel
			if wm.StateDistribution != "continuous" || wm.MinStdSet || wm.MinStd != nil || wm.Norm != "" ||
				len(wm.Encoders) != 0 || c.Env.Sensors != nil || c.ActionFree {
				t.Errorf("%+v", c)
			}
		}},
		{"min_std null", minimalConfig + "  min_std: null\n", func(t *testing.T, c *Config) {
			if !c.WorldModel.MinStdSet || c.WorldModel.MinStd != nil {
				t.Errorf("min_std %v set %v, want nil and set", c.WorldModel.MinStd, c.WorldModel.MinStdSet)
			}
		}},
		{"min_std integer", minimalConfig + "  min_std: 1\n", func(t *testing.T, c *Config) {
			if c.WorldModel.MinStd == nil || *c.WorldModel.MinStd != 1 {
				t.Errorf("min_std %v", c.WorldModel.MinStd)
			}
		}},
		{"discrete", "world_model:\n  name: rssmo\n  state_dim: [512, 32, 32]\n  state_distribution: discrete\n", func(t *testing.T, c *Config) {
			if c.WorldModel.StateDistribution != "discrete" || len(c.WorldModel.StateDim) != 3 {
				t.Errorf("%+v", c.WorldModel)
			}
		}},
		{"sigmoid present and absent", minimalConfig + "  decoders:\n    visual: {name: cnn_ha, sigmoid: true}\n    binary: {name: binary}\n", func(t *testing.T, c *Config) {
			if s := c.WorldModel.Decoders["visual"].Sigmoid; s == nil || *s != tr {
				t.Errorf("visual sigmoid %v", s)
			}
			if s := c.WorldModel.Decoders["binary"].Sigmoid; s != nil {
				t.Errorf("binary sigmoid %v, want nil", *s)
			}
		}},
		{"sensors keep file order", minimalConfig + "env:\n  sensors:\n    z: {modility: tabular}\n    a: {modility: visual, type: internal}\n    m: {modility: tabular, order: second}\n",
			func(t *testing.T, c *Config) {
				want := []SensorConfig{{"z", "tabular", "", ""}, {"a", "visual", "", "internal"}, {"m", "tabular", "second", ""}}
				if !reflect.DeepEqual(c.Env.Sensors, want) {
					t.Errorf("sensors %+v", c.Env.Sensors)
				}
			}},
		{"anchors and aliases", "sz: &h 256\nworld_model:\n  name: rssmo\n  state_dim: [*h, 30]\n  hidden_size: *h\n  encoders:\n    visual: &enc {name: cnn_ha, width: 48}\n  probes:\n    visual: *enc\n",
			func(t *testing.T, c *Config) {
				wm := c.WorldModel
				if wm.HiddenSize != 256 || wm.StateDim[0] != 256 || wm.Probes["visual"].Width != 48 {
					t.Errorf("%+v", wm)
				}
			}},
		{"interpolation stays literal", minimalConfig + "  norm: ${oc.env:NORM}\nenvironment_setup: visual\naction_free: true\n", func(t *testing.T, c *Config) {
			if c.WorldModel.Norm != "${oc.env:NORM}" || !c.ActionFree {
				t.Errorf("norm %q action_free %v", c.WorldModel.Norm, c.ActionFree)
			}
		}},
		{"have_head", minimalConfig + "  encoders:\n    tabular: {name: mlp, have_head: true}\n", func(t *testing.T, c *Config) {
			if h := c.WorldModel.Encoders["tabular"].HaveHead; h == nil || *h != tr {
				t.Errorf("have_head %v", h)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", "", "empty document"},
		{"not yaml", "world_model: [", "yaml"},
		{"top level is a list", "- 1\n- 2\n", "top level: want a mapping"},
		{"no world_model", "env: {}\n", "world_model: missing"},
		{"world_model is a string", "world_model: rssmo\n", "world_model: want a mapping"},
		{"no name", "world_model:\n  state_dim: [1, 2]\n", "world_model.name: missing"},
		{"no state_dim", "world_model:\n  name: rssmo\n", "world_model.state_dim: missing"},
		{"state_dim null", "world_model:\n  name: 0\n  state_dim:", "world_model.state_dim: missing"}, // FuzzParseConfig
		{"state_dim empty list", "world_model:\n  name: rssmo\n  state_dim: []\n", "[deter, stoch]"},
		{"state_dim of strings", "world_model:\n  name: rssmo\n  state_dim: [a, b]\n", "world_model.state_dim[0]: want an integer"},
		{"state_dim zero", "world_model:\n  name: rssmo\n  state_dim: [512, 0]\n", "world_model.state_dim[1]: 0 is out of range"},
		{"state_dim huge", "world_model:\n  name: rssmo\n  state_dim: [512, 99999999999]\n", "out of range"},
		{"state_dim too short", "world_model:\n  name: rssmo\n  state_dim: [512]\n", "[deter, stoch]"},
		{"discrete with two dims", "world_model:\n  name: rssmo\n  state_dim: [512, 30]\n  state_distribution: discrete\n", "[deter, groups, classes]"},
		{"unknown distribution", minimalConfig + "  state_distribution: gumbel\n", "unknown distribution"},
		{"negative hidden_size", minimalConfig + "  hidden_size: -1\n", "world_model.hidden_size: -1 is out of range"},
		{"float hidden_size", minimalConfig + "  hidden_size: 1.5\n", "world_model.hidden_size: want an integer"},
		{"min_std text", minimalConfig + "  min_std: small\n", "world_model.min_std: want a number"},
		{"negative min_std", minimalConfig + "  min_std: -0.1\n", "negative"},
		{"sigmoid not bool", minimalConfig + "  decoders:\n    visual: {name: cnn_ha, sigmoid: maybe}\n", "world_model.decoders.visual.sigmoid: want true or false"},
		{"head without name", minimalConfig + "  encoders:\n    visual: {width: 32}\n", "world_model.encoders.visual.name: missing"},
		{"duplicate key", minimalConfig + "  hidden_size: 1\n  hidden_size: 2\n", "world_model.hidden_size: key appears twice"},
		{"bad modility", minimalConfig + "env:\n  sensors:\n    image: {modility: visul}\n", "env.sensors.image.modility: want visual or tabular"},
		{"bad order", minimalConfig + "env:\n  sensors:\n    image: {modility: visual, order: third}\n", "env.sensors.image.order"},
		{"sensors a list", minimalConfig + "env:\n  sensors: [image]\n", "env.sensors: want a mapping"},
		{"action_free text", minimalConfig + "action_free: yes please\n", "action_free: want true or false"},
		{"unknown setup", minimalConfig + "environment_setup: vision\n", "environment_setup: unknown setup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error; got %+v", c)
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want ErrInvalidConfig mentioning %q", err, tt.want)
			}
		})
	}
}

func TestFindModelFiles(t *testing.T) {
	write := func(t *testing.T, dir string, names ...string) {
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		files   []string
		arg     string // relative to the folder; "" is the folder itself
		wantErr string
	}{
		{"folder", []string{"config.yaml", "model.pt"}, "", ""},
		{"file in the folder", []string{"config.yaml", "model.pt", "source.txt"}, "source.txt", ""},
		{"no model.pt", []string{"config.yaml"}, "", "model.pt"},
		{"only epoch checkpoints", []string{"config.yaml", "model-e100.pt"}, "", "model-e100.pt"},
		{"no config", []string{"model.pt"}, "", "config.yaml"},
		{"missing folder", nil, "nope", "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, tt.files...)
			cfg, mdl, err := FindModelFiles(filepath.Join(dir, tt.arg))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg != filepath.Join(dir, "config.yaml") || mdl != filepath.Join(dir, "model.pt") {
				t.Errorf("got %q, %q", cfg, mdl)
			}
		})
	}
}

func TestFindModelFilesWalker(t *testing.T) {
	cfg, mdl, err := FindModelFiles(walkerModelDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfigFile(cfg); err != nil {
		t.Error(err)
	}
	if filepath.Base(mdl) != "model.pt" {
		t.Errorf("model path %q", mdl)
	}
}
