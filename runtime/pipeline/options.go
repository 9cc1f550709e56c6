package pipeline

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file is the one definition of every setting of a run: its key, type, default and
// meaning. The command-line flags (`--key-with-dashes`), the config file keys, the ROS 1
// private parameters (`~key`), the ROS 2 parameters (`-p key:=value`) and the documentation
// tables are all generated from Options; adding a setting is one row here plus its use.

// Kind is the type of a setting's value.
type Kind int

// Setting kinds. A float accepts an int (`rosparam set ~rate 20`); an int accepts an integral
// float; a duration is seconds (int or float, as ROS durations are written) or a Go duration
// string ("150ms").
const (
	KindFloat Kind = iota
	KindInt
	KindBool
	KindString
	KindDuration
)

func (k Kind) String() string {
	return [...]string{"float", "int", "bool", "string", "duration"}[k]
}

// Option is one setting.
type Option struct {
	// Key is the setting's one name: the config-file key and the ROS parameter; the flag is
	// the key with dashes (Flag).
	Key  string
	Kind Kind
	// Default is the typed default (float64, int, bool, string or time.Duration); nil means
	// unset, shown as DefaultDoc.
	Default    any
	DefaultDoc string
	Doc        string
	// Deprecated are older spellings users may have written; they still work, with a warning.
	Deprecated []string
	// set stores a converted value into the config.
	set func(c *Config, v any)
}

// Flag is the command-line flag of the option.
func (o Option) Flag() string { return strings.ReplaceAll(o.Key, "_", "-") }

// DefaultString is the default as documented.
func (o Option) DefaultString() string {
	if o.Default == nil {
		return o.DefaultDoc
	}
	return formatValue(o.Default)
}

func formatValue(v any) string {
	switch x := v.(type) {
	case time.Duration:
		return strconv.FormatFloat(x.Seconds(), 'g', -1, 64)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		if x == "" {
			return `""`
		}
		return x
	default:
		return fmt.Sprint(x)
	}
}

func fieldFloat(f func(*Config) *float64) func(*Config, any) {
	return func(c *Config, v any) { *f(c) = v.(float64) }
}
func fieldInt(f func(*Config) *int) func(*Config, any) {
	return func(c *Config, v any) { *f(c) = v.(int) }
}
func fieldBool(f func(*Config) *bool) func(*Config, any) {
	return func(c *Config, v any) { *f(c) = v.(bool) }
}
func fieldString(f func(*Config) *string) func(*Config, any) {
	return func(c *Config, v any) { *f(c) = v.(string) }
}
func fieldDuration(f func(*Config) *time.Duration) func(*Config, any) {
	return func(c *Config, v any) { *f(c) = v.(time.Duration) }
}

// Options is the table of every setting, in the order they are documented.
var Options = []Option{
	{Key: "model", Kind: KindString, DefaultDoc: "required", Doc: "model: original folder (config.yaml + model.pt), .pt inside one, or bundle",
		set: fieldString(func(c *Config) *string { return &c.Model })},
	{Key: "int8", Kind: KindBool, Default: false, Doc: "run the int8 path (an int8 bundle implies it)",
		set: fieldBool(func(c *Config) *bool { return &c.Int8 })},
	{Key: "source", Kind: KindString, DefaultDoc: "required", Doc: "frame source: v4l2:/dev/videoN, replay:FILE.npz, or ros (the node's image topics)",
		set: fieldString(func(c *Config) *string { return &c.Source })},
	{Key: "device", Kind: KindString, DefaultDoc: "unset", Doc: "camera device; sets source to v4l2:DEVICE (wins over source)",
		set: func(c *Config, v any) {
			if d := v.(string); d != "" {
				c.Source = "v4l2:" + d
			}
		}},
	{Key: "format", Kind: KindString, Default: "YUYV", Doc: "camera pixel format: YUYV, UYVY or MJPEG",
		set: fieldString(func(c *Config) *string { return &c.Format })},
	{Key: "width", Kind: KindInt, Default: 640, Doc: "camera width (v4l2)",
		set: fieldInt(func(c *Config) *int { return &c.Width })},
	{Key: "height", Kind: KindInt, Default: 480, Doc: "camera height (v4l2)",
		set: fieldInt(func(c *Config) *int { return &c.Height })},
	{Key: "fps", Kind: KindFloat, Default: 0.0, Doc: "camera frame rate (v4l2; 0: the driver's)",
		set: fieldFloat(func(c *Config) *float64 { return &c.FPS })},
	{Key: "crop", Kind: KindString, Default: "full", Doc: "region of interest: full or center (largest centred square)",
		set: fieldString(func(c *Config) *string { return &c.Crop })},
	{Key: "filter", Kind: KindString, Default: "bilinear", Doc: "resampling to 64x64: bilinear or area",
		set: fieldString(func(c *Config) *string { return &c.Filter })},
	{Key: "prepare", Kind: KindString, Default: PrepareArrival, Doc: "where a live source's frames (camera, ROS image topic) are decoded and resampled to 64x64: arrival (on their own goroutine as they arrive, so the tick only copies the ready image) or tick (inside the tick, before the step)",
		set: fieldString(func(c *Config) *string { return &c.Prepare })},
	{Key: "replay_rate", Kind: KindFloat, Default: 0.0, Doc: "replay frame rate in fps; 0: lockstep, one frame per tick, none skipped or repeated, ending after the last frame (the numbers of rssmd filter); > 0: played like a camera, a slower tick skips frames",
		set: fieldFloat(func(c *Config) *float64 { return &c.ReplayRate })},
	{Key: "loop", Kind: KindBool, Default: false, Doc: "loop the replay instead of stopping at its end",
		set: fieldBool(func(c *Config) *bool { return &c.Loop })},
	{Key: "rate", Kind: KindFloat, Default: 50.0, Doc: "tick rate, Hz",
		set: fieldFloat(func(c *Config) *float64 { return &c.Rate })},
	{Key: "duration", Kind: KindDuration, Default: time.Duration(0), Doc: "run time, seconds (0: until stopped)",
		set: fieldDuration(func(c *Config) *time.Duration { return &c.Duration })},
	{Key: "metrics_addr", Kind: KindString, Default: "127.0.0.1:9108", Doc: `Prometheus /metrics address ("off" disables)`,
		set: fieldString(func(c *Config) *string { return &c.MetricsAddr })},
	{Key: "record", Kind: KindString, Default: "", Doc: "write a tick log (msgp) to this file",
		set: fieldString(func(c *Config) *string { return &c.Record })},
	{Key: "record_frames", Kind: KindBool, Default: false, Doc: "keep the 64x64 frames in the tick log (calibration data)",
		set: fieldBool(func(c *Config) *bool { return &c.RecordFrames })},
	{Key: "decode_every", Kind: KindInt, Default: 1, Doc: "the monitor decodes its prediction every N-th step (0: never)",
		set: fieldInt(func(c *Config) *int { return &c.DecodeEvery })},
	{Key: "elbo", Kind: KindBool, Default: false, Doc: "compute the per-step ELBO and VIPER reward every tick (one more decode); always on for action-free models",
		set: fieldBool(func(c *Config) *bool { return &c.ELBO })},
	{Key: "horizon", Kind: KindInt, Default: 1, Doc: "open-loop prediction horizon of the monitor",
		set: fieldInt(func(c *Config) *int { return &c.Horizon })},
	{Key: "action_policy", Kind: KindString, Default: "hold", Doc: "without a new action: hold or zeros",
		set: fieldString(func(c *Config) *string { return &c.ActionPolicy })},
	{Key: "action_max_age", Kind: KindDuration, Default: 500 * time.Millisecond, Doc: "older actions are stale, seconds",
		set: fieldDuration(func(c *Config) *time.Duration { return &c.ActionMaxAge })},
	{Key: "max_frame_age", Kind: KindDuration, Default: 100 * time.Millisecond, Doc: "older frames are flagged stale, seconds",
		set: fieldDuration(func(c *Config) *time.Duration { return &c.MaxFrameAge })},
	{Key: "rt_priority", Kind: KindInt, Default: 0, Doc: "SCHED_FIFO priority 1..99 of the control thread (0: off)",
		Deprecated: []string{"realtime_priority"},
		set:        fieldInt(func(c *Config) *int { return &c.RealtimePriority })},
	// The ROS nodes' own settings.
	{Key: "frame_id", Kind: KindString, Default: "camera", Doc: "ROS: header frame_id of every stamped output",
		set: fieldString(func(c *Config) *string { return &c.FrameID })},
	{Key: "predict", Kind: KindBool, Default: true, Doc: "ROS: publish ~predicted_image (models with a decoder)",
		set: fieldBool(func(c *Config) *bool { return &c.Predict })},
	{Key: "reconstruction", Kind: KindBool, Default: false, Doc: "ROS: publish ~reconstruction (one more decode per tick)",
		set: fieldBool(func(c *Config) *bool { return &c.Reconstruction })},
	{Key: "max_horizon", Kind: KindInt, Default: 50, Doc: "ROS: largest ~imagine horizon",
		set: fieldInt(func(c *Config) *int { return &c.MaxHorizon })},
	{Key: "diagnostics_period", Kind: KindDuration, Default: time.Second, Doc: "ROS: /diagnostics period, seconds",
		set: fieldDuration(func(c *Config) *time.Duration { return &c.DiagnosticsPeriod })},
}

// optionIndex finds options by key and by deprecated spelling.
var optionIndex = func() map[string]*Option {
	m := map[string]*Option{}
	for i := range Options {
		o := &Options[i]
		m[o.Key] = o
		for _, d := range o.Deprecated {
			m[d] = o
		}
	}
	return m
}()

// LookupOption returns the option for a key or one of its deprecated spellings.
func LookupOption(key string) (*Option, bool) {
	o, ok := optionIndex[key]
	return o, ok
}

// Defaults is the configuration before any file, flag or parameter is applied.
func Defaults() Config {
	var c Config
	for _, o := range Options {
		if o.Default != nil {
			o.set(&c, o.Default)
		}
	}
	return c
}

// ErrOption marks a setting with a value of the wrong type or out of range.
var ErrOption = errors.New("bad setting")

// Convert types a raw value (a flag's string, a YAML/JSON or ROS parameter value) by the
// option's kind.
func (o *Option) Convert(v any) (any, error) {
	switch x := v.(type) {
	case int64: // ROS 2 parameters are int64
		if x > math.MaxInt32 || x < math.MinInt32 {
			return nil, fmt.Errorf("%d out of range", x)
		}
		v = int(x)
	case int32:
		v = int(x)
	case float32:
		v = float64(x)
	}
	if s, ok := v.(string); ok && o.Kind != KindString && o.Kind != KindDuration {
		parsed, err := parseString(o.Kind, s)
		if err != nil {
			return nil, err
		}
		v = parsed
	}
	switch o.Kind {
	case KindFloat:
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%v is not finite", x)
			}
			return x, nil
		case int:
			return float64(x), nil
		}
	case KindInt:
		switch x := v.(type) {
		case int:
			return x, nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<31 {
				return int(x), nil
			}
		}
	case KindBool:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case KindString:
		switch x := v.(type) {
		case string:
			return x, nil
		case int, float64, bool:
			// `_frame_id:=1` is YAML for the int 1; the user meant the string.
			return fmt.Sprint(x), nil
		}
	case KindDuration:
		var sec float64
		switch x := v.(type) {
		case time.Duration:
			sec = x.Seconds()
		case int:
			sec = float64(x)
		case float64:
			sec = x
		case string:
			s := strings.TrimSpace(x)
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				sec = f
			} else if d, err := time.ParseDuration(s); err == nil {
				sec = d.Seconds()
			} else {
				return nil, fmt.Errorf("%q: want seconds or a duration like 150ms", x)
			}
		default:
			return nil, fmt.Errorf("%v (%T): want seconds", v, v)
		}
		if math.IsNaN(sec) || sec < 0 || sec > 1e6 {
			return nil, fmt.Errorf("%v s out of range 0..1e6", sec)
		}
		return time.Duration(sec * float64(time.Second)), nil
	}
	return nil, fmt.Errorf("%v (%T): want a %s", v, v, o.Kind)
}

// parseString reads a command-line string as the kind's value.
func parseString(k Kind, s string) (any, error) {
	s = strings.TrimSpace(s)
	switch k {
	case KindFloat:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%q: want a number", s)
		}
		return f, nil
	case KindInt:
		i, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%q: want an integer", s)
		}
		return i, nil
	case KindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q: want true or false", s)
		}
		return b, nil
	}
	return s, nil
}

// Layer is one source of settings: raw values by key (or deprecated spelling).
type Layer struct {
	Name   string // "config file x.yaml", "flags", "ROS parameters": quoted in errors
	Values map[string]any
	// UnknownOK: an unknown key is reported (in Resolved.Unknown) rather than refused, as ROS
	// parameter namespaces may hold other tools' values.
	UnknownOK bool
}

// Resolved is the outcome of Resolve.
type Resolved struct {
	Config   Config
	Warnings []string // deprecated spellings used
	Unknown  []string // unknown keys of UnknownOK layers, "layer: key", sorted
}

// Resolve applies the layers over the defaults, lowest precedence first (rssmd: config file,
// then explicit flags, then ROS parameters), and validates the result. Within a layer
// `source` is applied before `device`, so the device wins.
func Resolve(layers ...Layer) (Resolved, error) {
	r := Resolved{Config: Defaults()}
	for _, l := range layers {
		if err := applyLayer(&r, l); err != nil {
			return r, err
		}
	}
	sort.Strings(r.Unknown)
	return r, r.Config.Validate()
}

func applyLayer(r *Resolved, l Layer) error {
	type kv struct {
		o *Option
		v any
	}
	var vals []kv
	seen := map[*Option]string{}
	keys := make([]string, 0, len(l.Values))
	for k := range l.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o, ok := optionIndex[k]
		if !ok {
			if l.UnknownOK {
				r.Unknown = append(r.Unknown, l.Name+": "+k)
				continue
			}
			return fmt.Errorf("%w: %s: unknown key %q%s", ErrOption, l.Name, k, suggest(k))
		}
		if prev, dup := seen[o]; dup {
			return fmt.Errorf("%w: %s: %q and %q are the same setting", ErrOption, l.Name, prev, k)
		}
		seen[o] = k
		if k != o.Key {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %q is deprecated, write %q", l.Name, k, o.Key))
		}
		v, err := o.Convert(l.Values[k])
		if err != nil {
			return fmt.Errorf("%w: %s: %s: %w", ErrOption, l.Name, o.Key, err)
		}
		vals = append(vals, kv{o, v})
	}
	// Table order, so that device (after source) wins within a layer.
	sort.SliceStable(vals, func(i, j int) bool { return optionRank[vals[i].o] < optionRank[vals[j].o] })
	for _, x := range vals {
		x.o.set(&r.Config, x.v)
	}
	return nil
}

var optionRank = func() map[*Option]int {
	m := map[*Option]int{}
	for i := range Options {
		m[&Options[i]] = i
	}
	return m
}()

// suggest names the option a mistyped key most likely meant.
func suggest(k string) string {
	n := strings.NewReplacer("-", "_").Replace(strings.ToLower(k))
	if o, ok := optionIndex[n]; ok {
		return fmt.Sprintf(" (did you mean %q?)", o.Key)
	}
	return ""
}

// FlagValues binds every option to a flag of fs. After fs.Parse, Layer returns the flags
// given explicitly, so unset flags do not hide the config file's values.
type FlagValues struct {
	fs  *flag.FlagSet
	raw map[string]string
}

// BindFlags defines one flag per option on fs (help text and default from the table).
func BindFlags(fs *flag.FlagSet) *FlagValues {
	fv := &FlagValues{fs: fs, raw: map[string]string{}}
	for i := range Options {
		o := &Options[i]
		doc := o.Doc
		if o.Default == nil && o.DefaultDoc != "" && o.DefaultDoc != "required" {
			doc += " (default " + o.DefaultDoc + ")"
		}
		fs.Var(&flagValue{o: o, fv: fv}, o.Flag(), doc)
	}
	return fv
}

// Layer is the explicitly given flags.
func (fv *FlagValues) Layer() Layer {
	l := Layer{Name: "flags", Values: map[string]any{}}
	fv.fs.Visit(func(f *flag.Flag) {
		if v, ok := fv.raw[f.Name]; ok {
			l.Values[strings.ReplaceAll(f.Name, "-", "_")] = v
		}
	})
	return l
}

type flagValue struct {
	o  *Option
	fv *FlagValues
}

func (f *flagValue) String() string {
	if f == nil || f.o == nil {
		return ""
	}
	if f.o.Default == nil || reflect.ValueOf(f.o.Default).IsZero() {
		return "" // the flag package then shows no default
	}
	return formatValue(f.o.Default)
}

func (f *flagValue) Set(s string) error {
	if _, err := f.o.Convert(s); err != nil {
		return err
	}
	f.fv.raw[f.o.Flag()] = s
	return nil
}

func (f *flagValue) IsBoolFlag() bool { return f.o.Kind == KindBool }

// MarkdownTable is the documentation table of the options, as README.md shows it.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Key (config, ROS `~key`) | Flag | Type | Default | Meaning |\n|---|---|---|---|---|\n")
	for _, o := range Options {
		fmt.Fprintf(&b, "| `%s` | `--%s` | %s | %s | %s |\n", o.Key, o.Flag(), o.Kind, o.DefaultString(), o.Doc)
	}
	return b.String()
}
