package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrInvalidConfig is wrapped by every error about the content of a config.yaml.
var ErrInvalidConfig = errors.New("invalid config")

// Config is what loading a world model needs from an AIME-NoB config.yaml (spec §1.3). The
// file is OmegaConf's unresolved dump: "${...}" interpolations stay literal strings, and none
// of the fields below normally holds one. Fields that the file may omit say what absence means.
type Config struct {
	WorldModel WorldModelConfig
	// EnvironmentSetup decides which sensors become inputs, outputs and probes (spec §1.4):
	// "visual" for every published model; "" when absent.
	EnvironmentSetup string
	// ActionFree is true for VIPER models, which were built with action dimension 0.
	ActionFree bool
	// UseReward and UseProbe say whether the reward decoder and the probes were trained.
	UseReward bool
	UseProbe  bool
	// EmbodimentDatasetName names the training data; with the folder name it identifies the
	// robot better than Env (spec P27).
	EmbodimentDatasetName string
	Env                   EnvConfig
}

// WorldModelConfig is the world_model node.
type WorldModelConfig struct {
	// Name is the class: "rssmo" for all published variants.
	Name string
	// StateDim is [deter, stoch] for continuous states, [deter, groups, classes] for discrete.
	StateDim []int
	// StateDistribution is "continuous" (also when absent or null) or "discrete".
	StateDistribution string
	// HiddenSize is the width of the transition MLPs; 0 when absent.
	HiddenSize int
	// HiddenLayers does not change RSSMO's transition (spec P9); 0 when absent.
	HiddenLayers int
	// Norm is "ln" for LayerNorm in the transition MLPs, "" when null or absent (no norm).
	Norm string
	// MinStd is the floor added to every predicted std. nil with MinStdSet means the file says
	// null, and the model uses the global MIN_STD 1e-6. MinStdSet false means the key is
	// absent, which no shipped config does; the caller decides (the spec gives no default).
	MinStd    *float64
	MinStdSet bool
	// PredictEmb and IdmMode would add heads no published model has; the loader should refuse
	// PredictEmb true and an IdmMode other than "none".
	PredictEmb bool
	IdmMode    string
	// Encoders, Decoders and Probes hold one head config per modality ("visual", "tabular",
	// "binary"); absent nodes give empty maps.
	Encoders map[string]HeadConfig
	Decoders map[string]HeadConfig
	Probes   map[string]HeadConfig
}

// HeadConfig is one encoder, decoder or probe entry: the class name and the constructor
// keyword arguments the loader needs. Zero values mean the key is absent (the class default).
type HeadConfig struct {
	Name             string // "cnn_ha", "dreamer_resnet", "mlp", "dmlp", "binary", …
	Width            int    // conv width (cnn_ha, dreamer_resnet)
	HiddenSize       int
	HiddenLayers     int
	HiddenActivation string // "" means the class default (elu for MLP heads)
	Norm             string // "ln", or "" for none
	// Sigmoid is the image decoder's output activation flag; nil when absent, which for
	// cnn_ha means true (spec P4). Shipped configs say false.
	Sigmoid *bool
	// HaveHead is the MLP's output-layer flag; nil when absent (the class default).
	HaveHead *bool
}

// EnvConfig is the env node: the environment's identity and its sensors. Sensor sizes and the
// action dimension are not in the config (spec §1.5).
type EnvConfig struct {
	Class        string // "dmc", "metaworld", …
	Name         string // usually the literal "${env.embodiment}-${env.task}"
	Embodiment   string
	Task         string
	Size         []int // image size [H, W]; nil when absent
	ActionRepeat int
	// Sensors in file order, which decides the order of inputs, outputs and probes.
	Sensors []SensorConfig
}

// SensorConfig is one env.sensors entry. Modility keeps the source's spelling.
type SensorConfig struct {
	Name     string
	Modility string // "visual" or "tabular"
	Order    string // "first", "second", or "" when absent
	Type     string // "internal", "external", or "" when absent
}

// maxConfigDim bounds every size in a config, so a typo cannot make a caller allocate a huge
// buffer before the checkpoint shapes are compared.
const maxConfigDim = 1 << 20

// LoadConfigFile reads and parses a config.yaml; see ParseConfig.
func LoadConfigFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses an unresolved AIME-NoB config.yaml. It requires world_model.name and
// world_model.state_dim, checks the type and range of every field it reads, and ignores keys
// it does not need.
func ParseConfig(data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("%w: empty document", ErrInvalidConfig)
	}
	p := &cfgParser{}
	root := p.mapping(doc.Content[0], "")
	if p.err != nil {
		return nil, p.err
	}
	c := &Config{
		EnvironmentSetup:      p.str(root, "environment_setup"),
		ActionFree:            p.boolean(root, "action_free"),
		UseReward:             p.boolean(root, "use_reward"),
		UseProbe:              p.boolean(root, "use_probe"),
		EmbodimentDatasetName: p.str(root, "embodiment_dataset_name"),
	}
	if s := c.EnvironmentSetup; s != "" && !slices.Contains([]string{"visual", "full", "mdp", "pomdp", "lpomdp", "exp", "real"}, s) {
		p.fail("environment_setup", "unknown setup %q", s)
	}

	wmNode, ok := root.get("world_model")
	if !ok {
		p.fail("world_model", "missing")
		return nil, p.err
	}
	wm := p.mapping(wmNode, "world_model")
	c.WorldModel = WorldModelConfig{
		Name:              p.str(wm, "name"),
		StateDim:          p.intList(wm, "state_dim", 1),
		StateDistribution: p.str(wm, "state_distribution"),
		HiddenSize:        p.size(wm, "hidden_size"),
		HiddenLayers:      p.size(wm, "hidden_layers"),
		Norm:              p.str(wm, "norm"),
		PredictEmb:        p.boolean(wm, "predict_emb"),
		IdmMode:           p.str(wm, "idm_mode"),
		Encoders:          p.heads(wm, "encoders"),
		Decoders:          p.heads(wm, "decoders"),
		Probes:            p.heads(wm, "probes"),
	}
	w := &c.WorldModel
	if _, ok := wm.get("name"); !ok || w.Name == "" {
		p.fail("world_model.name", "missing")
	}
	if n, ok := wm.get("state_dim"); !ok || yamlNull(n) {
		// `state_dim:` with nothing after it is YAML null: as missing, not an empty list.
		p.fail("world_model.state_dim", "missing")
	}
	switch w.StateDistribution {
	case "":
		w.StateDistribution = "continuous"
		fallthrough
	case "continuous":
		if w.StateDim != nil && len(w.StateDim) != 2 {
			p.fail("world_model.state_dim", "continuous states need [deter, stoch], got %v", w.StateDim)
		}
	case "discrete":
		if w.StateDim != nil && len(w.StateDim) != 3 {
			p.fail("world_model.state_dim", "discrete states need [deter, groups, classes], got %v", w.StateDim)
		}
	default:
		p.fail("world_model.state_distribution", "unknown distribution %q", w.StateDistribution)
	}
	if n, ok := wm.get("min_std"); ok {
		w.MinStdSet = true
		if !yamlNull(n) {
			v := p.float(n, "world_model.min_std")
			if v < 0 {
				p.fail("world_model.min_std", "negative (%g)", v)
			}
			w.MinStd = &v
		}
	}

	if envNode, ok := root.get("env"); ok && !yamlNull(envNode) {
		env := p.mapping(envNode, "env")
		c.Env = EnvConfig{
			Class:        p.str(env, "class"),
			Name:         p.str(env, "name"),
			Embodiment:   p.str(env, "embodiment"),
			Task:         p.str(env, "task"),
			Size:         p.intList(env, "size", 1),
			ActionRepeat: p.size(env, "action_repeat"),
			Sensors:      p.sensors(env),
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	return c, nil
}

// FindModelFiles resolves a pretrained-model folder (or a file inside it) to its config.yaml
// and model.pt, and checks that both exist.
func FindModelFiles(dir string) (configPath, modelPath string, err error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return "", "", fmt.Errorf("model folder: %w", err)
	}
	if !fi.IsDir() {
		dir = filepath.Dir(dir)
	}
	configPath, modelPath = filepath.Join(dir, "config.yaml"), filepath.Join(dir, "model.pt")
	for _, p := range []string{configPath, modelPath} {
		fi, err := os.Stat(p)
		if err != nil {
			hint := ""
			if p == modelPath {
				// Exports with checkpoint_period hold model-e<N>.pt next to (or instead of) model.pt.
				if eps, _ := filepath.Glob(filepath.Join(dir, "model-e*.pt")); len(eps) > 0 {
					hint = fmt.Sprintf(" (found %s: pass one explicitly)", strings.Join(eps, ", "))
				}
			}
			return "", "", fmt.Errorf("model folder %s: %w%s", dir, err, hint)
		}
		if !fi.Mode().IsRegular() {
			return "", "", fmt.Errorf("model folder %s: %s is not a regular file", dir, p)
		}
	}
	return configPath, modelPath, nil
}

// cfgParser walks the YAML tree, keeping the first error so the field readers can be chained
// without an if after each one.
type cfgParser struct{ err error }

// cfgMap is a mapping node indexed by key.
type cfgMap struct {
	path string
	keys map[string]*yaml.Node
	// order keeps the file order of the keys (env.sensors needs it).
	order []string
}

func (m cfgMap) get(key string) (*yaml.Node, bool) {
	n, ok := m.keys[key]
	return n, ok
}

func (m cfgMap) field(key string) string {
	if m.path == "" {
		return key
	}
	return m.path + "." + key
}

func (p *cfgParser) fail(field, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
	}
}

// yamlDeref follows aliases (bounded, although yaml.v3 already refuses alias cycles).
func yamlDeref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 16 && n != nil && n.Kind == yaml.AliasNode; i++ {
		n = n.Alias
	}
	return n
}

func yamlNull(n *yaml.Node) bool {
	n = yamlDeref(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func yamlDescribe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("%s %q", n.ShortTag(), v)
	}
	return "an unexpected node"
}

// mapping indexes a mapping node; null gives an empty mapping.
func (p *cfgParser) mapping(n *yaml.Node, path string) cfgMap {
	m := cfgMap{path: path, keys: map[string]*yaml.Node{}}
	n = yamlDeref(n)
	if yamlNull(n) {
		return m
	}
	if n.Kind != yaml.MappingNode {
		p.fail(cfgPathName(path), "want a mapping, got %s", yamlDescribe(n))
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := yamlDeref(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			p.fail(cfgPathName(path), "a key is %s, not a scalar", yamlDescribe(k))
			return m
		}
		if _, dup := m.keys[k.Value]; dup {
			p.fail(m.field(k.Value), "key appears twice")
			return m
		}
		m.keys[k.Value] = n.Content[i+1]
		m.order = append(m.order, k.Value)
	}
	return m
}

func cfgPathName(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// str reads a scalar as text; null and absent give "".
func (p *cfgParser) str(m cfgMap, key string) string {
	n, ok := m.get(key)
	if !ok || yamlNull(n) {
		return ""
	}
	n = yamlDeref(n)
	if n.Kind != yaml.ScalarNode {
		p.fail(m.field(key), "want a string, got %s", yamlDescribe(n))
		return ""
	}
	return n.Value
}

// boolean reads a bool; absent or null gives false.
func (p *cfgParser) boolean(m cfgMap, key string) bool {
	b := p.optBool(m, key)
	return b != nil && *b
}

func (p *cfgParser) optBool(m cfgMap, key string) *bool {
	n, ok := m.get(key)
	if !ok || yamlNull(n) {
		return nil
	}
	n = yamlDeref(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		p.fail(m.field(key), "want true or false, got %s", yamlDescribe(n))
		return nil
	}
	return &b
}

func (p *cfgParser) intNode(n *yaml.Node, field string) int {
	n = yamlDeref(n)
	var v int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		p.fail(field, "want an integer, got %s", yamlDescribe(n))
		return 0
	}
	return v
}

// size reads a non-negative integer no larger than maxConfigDim; absent or null gives 0.
func (p *cfgParser) size(m cfgMap, key string) int {
	n, ok := m.get(key)
	if !ok || yamlNull(n) {
		return 0
	}
	v := p.intNode(n, m.field(key))
	if v < 0 || v > maxConfigDim {
		p.fail(m.field(key), "%d is out of range [0, %d]", v, maxConfigDim)
		return 0
	}
	return v
}

func (p *cfgParser) float(n *yaml.Node, field string) float64 {
	n = yamlDeref(n)
	var v float64
	if tag := n.ShortTag(); n.Kind != yaml.ScalarNode || (tag != "!!float" && tag != "!!int") || n.Decode(&v) != nil {
		p.fail(field, "want a number, got %s", yamlDescribe(n))
		return 0
	}
	return v
}

// intList reads a list of integers in [minValue, maxConfigDim]; absent or null gives nil.
func (p *cfgParser) intList(m cfgMap, key string, minValue int) []int {
	n, ok := m.get(key)
	if !ok || yamlNull(n) {
		return nil
	}
	n = yamlDeref(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) > 8 {
		p.fail(m.field(key), "want a list of at most 8 integers, got %s", yamlDescribe(n))
		return nil
	}
	out := make([]int, len(n.Content))
	for i, e := range n.Content {
		field := fmt.Sprintf("%s[%d]", m.field(key), i)
		if out[i] = p.intNode(e, field); p.err != nil {
			return nil
		}
		if out[i] < minValue || out[i] > maxConfigDim {
			p.fail(field, "%d is out of range [%d, %d]", out[i], minValue, maxConfigDim)
			return nil
		}
	}
	return out
}

// heads reads world_model.encoders/decoders/probes: modality → head config.
func (p *cfgParser) heads(wm cfgMap, key string) map[string]HeadConfig {
	out := map[string]HeadConfig{}
	n, ok := wm.get(key)
	if !ok {
		return out
	}
	mods := p.mapping(n, wm.field(key))
	for _, mod := range mods.order {
		h := p.mapping(mods.keys[mod], mods.field(mod))
		out[mod] = HeadConfig{
			Name:             p.str(h, "name"),
			Width:            p.size(h, "width"),
			HiddenSize:       p.size(h, "hidden_size"),
			HiddenLayers:     p.size(h, "hidden_layers"),
			HiddenActivation: p.str(h, "hidden_activation"),
			Norm:             p.str(h, "norm"),
			Sigmoid:          p.optBool(h, "sigmoid"),
			HaveHead:         p.optBool(h, "have_head"),
		}
		if out[mod].Name == "" {
			p.fail(h.field("name"), "missing")
		}
	}
	return out
}

// sensors reads env.sensors in file order.
func (p *cfgParser) sensors(env cfgMap) []SensorConfig {
	n, ok := env.get("sensors")
	if !ok {
		return nil
	}
	sm := p.mapping(n, env.field("sensors"))
	out := make([]SensorConfig, 0, len(sm.order))
	for _, name := range sm.order {
		s := p.mapping(sm.keys[name], sm.field(name))
		sc := SensorConfig{Name: name, Modility: p.str(s, "modility"), Order: p.str(s, "order"), Type: p.str(s, "type")}
		if sc.Modility != "visual" && sc.Modility != "tabular" {
			p.fail(s.field("modility"), "want visual or tabular, got %q", sc.Modility)
		}
		if sc.Order != "" && sc.Order != "first" && sc.Order != "second" {
			p.fail(s.field("order"), "want first or second, got %q", sc.Order)
		}
		if sc.Type != "" && sc.Type != "internal" && sc.Type != "external" {
			p.fail(s.field("type"), "want internal or external, got %q", sc.Type)
		}
		out = append(out, sc)
	}
	return out
}
