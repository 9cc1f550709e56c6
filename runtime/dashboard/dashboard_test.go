package dashboard

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

const cnnha = "../../model/testdata/golden/cnnha-actions"

func loadModel(t testing.TB) *model.Model {
	t.Helper()
	m, err := model.Load(cnnha)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stepper produces real tick results from a model and a synthetic frame stream.
type stepper struct {
	run   *model.Runner
	res   tick.Result
	state model.State
	out   *model.StepOutput
	img   []uint8
	act   []float32
	t0    time.Time
}

func newStepper(m *model.Model) *stepper {
	a := m.Arch
	return &stepper{run: m.NewRunner(), state: model.NewStateFor(a), out: a.NewStepOutput(),
		img: make([]uint8, model.ImageValues), act: make([]float32, a.ActionDim), t0: time.Unix(1000, 0)}
}

// step runs tick i with quality values q and returns the result (owned by s).
func (s *stepper) step(t testing.TB, i int, q tick.Quality) *tick.Result {
	for j := range s.img {
		s.img[j] = uint8(j*7 + i*13)
	}
	for j := range s.act {
		s.act[j] = float32(math.Sin(float64(i + j)))
	}
	if err := s.run.PosteriorStep(&s.state, s.act, s.img, i == 0, s.out, nil); err != nil {
		t.Fatal(err)
	}
	r := &s.res
	r.Tick, r.Seq, r.IsFirst = uint64(i+1), uint64(i), i == 0
	r.Start = s.t0.Add(time.Duration(i) * 20 * time.Millisecond)
	r.Image, r.Action, r.State, r.Step = s.img, s.act, s.state, s.out
	r.Quality = q
	r.Stages[tick.StageTotal] = time.Duration(1000+i) * time.Microsecond
	r.Stats.Ticks, r.Stats.Steps = uint64(i+1), uint64(i+1)
	return r
}

func TestConfigErrors(t *testing.T) {
	m := loadModel(t)
	for _, tc := range []struct {
		name string
		conf Config
	}{
		{"horizon", Config{Horizon: -1}},
		{"horizon too long", Config{Horizon: 5000}},
		{"frame interval", Config{FrameInterval: time.Millisecond}},
		{"history", Config{History: 1}},
		{"history huge", Config{History: 1 << 30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.conf, m.Arch); !errors.Is(err, ErrConfig) {
				t.Fatalf("New(%+v) = %v, want ErrConfig", tc.conf, err)
			}
		})
	}
	if _, err := New(Config{}, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("nil arch: %v", err)
	}
}

func TestOnTickAllocatesNothing(t *testing.T) {
	m := loadModel(t)
	d, err := New(Config{Model: m.NewRunner(), Horizon: 3, History: 64,
		Disturbance: func(seq uint64) uint8 { return uint8(seq % 3) }}, m.Arch)
	if err != nil {
		t.Fatal(err)
	}
	s := newStepper(m)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		d.OnTick(s.step(t, i, tick.Quality{Decoded: true, MSE: 0.01, PSNR: 20, KL: 1, ELBO: math.NaN()}))
		i++
	})
	// The step itself (model runner) is part of the measured function; it allocates
	// nothing either, so any allocation here is the sink's.
	if allocs != 0 {
		t.Fatalf("OnTick allocates %.1f times per tick", allocs)
	}
	// A reader holding the lock must not stall the tick: samples stage and then arrive.
	d.mu.Lock()
	for range 10 {
		d.OnTick(s.step(t, i, tick.Quality{}))
		i++
	}
	d.mu.Unlock()
	d.OnTick(s.step(t, i, tick.Quality{}))
	st := d.Snapshot(0)
	if got := st.Series.Tick[len(st.Series.Tick)-1]; got != uint64(i+1) {
		t.Fatalf("newest sample is tick %d, want %d", got, i+1)
	}
	if len(st.Series.Tick) != 64 {
		t.Fatalf("history holds %d samples, want 64", len(st.Series.Tick))
	}
	for j := 1; j < len(st.Series.Tick); j++ {
		if st.Series.Tick[j] != st.Series.Tick[j-1]+1 {
			t.Fatalf("series not contiguous at %d: %v", j, st.Series.Tick[j-1:j+1])
		}
	}
}

// The prediction shown is the open-loop rollout from exactly Horizon steps back with the
// actions since: rebuild it independently and compare.
func TestPredictionIsOpenLoopFromHorizonBack(t *testing.T) {
	m := loadModel(t)
	const k = 4
	d, err := New(Config{Model: m.NewRunner(), Horizon: k}, m.Arch)
	if err != nil {
		t.Fatal(err)
	}
	s := newStepper(m)
	var states []model.State
	var acts [][]float32
	const n = 9
	for i := range n {
		r := s.step(t, i, tick.Quality{})
		st := model.NewStateFor(m.Arch)
		st.CopyFrom(r.State)
		states = append(states, st)
		acts = append(acts, append([]float32(nil), r.Action...))
		d.nextFull = false // force a snapshot each step
		d.lastSnap = time.Time{}
		d.OnTick(r)
	}
	snap := d.ready
	if !snap.havePred || snap.seq != n-1 {
		t.Fatalf("snapshot seq %d havePred %v", snap.seq, snap.havePred)
	}
	if err := d.predict(snap); err != nil {
		t.Fatal(err)
	}
	got := append([]float32(nil), d.recon...)
	// Reference: from the state after step n-1-k, prior steps with actions n-k … n-1.
	run := m.NewRunner()
	roll := model.NewStateFor(m.Arch)
	roll.CopyFrom(states[n-1-k])
	out := m.Arch.NewStepOutput()
	for j := n - k; j < n; j++ {
		if err := run.PriorStep(&roll, acts[j], out, nil); err != nil {
			t.Fatal(err)
		}
	}
	want := make([]float32, model.ImageValues)
	if err := run.Decode(want, roll.Deter, roll.Stoch); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("prediction differs at %d: %v vs %v", i, got[i], want[i])
		}
	}
	// An episode start clears the history: no prediction until k steps have passed again.
	d.nextFull, d.lastSnap = false, time.Time{}
	d.OnTick(s.step(t, 0, tick.Quality{}))
	if d.ready.havePred {
		t.Fatal("prediction offered right after an episode start")
	}
}

func TestServerState(t *testing.T) {
	m := loadModel(t)
	names := map[uint8]string{1: "occluder"}
	d, err := New(Config{Addr: "127.0.0.1:0", Model: m.NewRunner(), Horizon: 2, FrameInterval: 10 * time.Millisecond,
		Disturbance:     func(seq uint64) uint8 { return uint8(seq/5) % 2 },
		DisturbanceName: func(k uint8) string { return names[k] },
		Handlers:        map[string]http.Handler{"/hello": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hi") })},
		Info:            Info{Model: "cnnha", Kind: "float32", Extra: map[string]string{"seed": "1"}}}, m.Arch)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s := newStepper(m)
	for i := range 7 {
		d.OnTick(s.step(t, i, tick.Quality{Decoded: true, MSE: 0.02, PSNR: 17, KL: 2, ELBO: math.NaN(), Anomaly: i == 6}))
	}
	var st struct {
		Info Info `json:"info"`
		Tick uint64
		Last struct {
			Anomaly     bool
			Disturbance string
			ELBO        *float64 `json:"elbo"`
		}
		Images *struct {
			Camera, Recon, Pred string
			Seq                 uint64
		}
		Series struct {
			Tick    []uint64
			Mark    []uint8
			Anomaly []uint8
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		get(t, d.URL()+"api/state?n=5", &st)
		if st.Images != nil && st.Images.Seq == 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st.Images == nil || st.Images.Seq != 6 {
		t.Fatalf("images never reached the newest snapshot: %+v", st.Images)
	}
	for name, u := range map[string]string{"camera": st.Images.Camera, "recon": st.Images.Recon, "pred": st.Images.Pred} {
		if !strings.HasPrefix(u, "data:image/png;base64,") || len(u) < 100 {
			t.Errorf("%s image is not a PNG data URL: %.40q", name, u)
		}
	}
	if st.Tick != 7 || len(st.Series.Tick) != 5 || st.Series.Tick[4] != 7 {
		t.Errorf("tick %d, series %v", st.Tick, st.Series.Tick)
	}
	if !st.Last.Anomaly || st.Last.Disturbance != "occluder" || st.Last.ELBO != nil {
		t.Errorf("last = %+v (want anomaly, occluder, null ELBO)", st.Last)
	}
	if got := st.Series.Mark; len(got) != 5 || got[0] != 0 || got[3] != 1 || got[4] != 1 {
		t.Errorf("marks %v, want seq 5,6 marked", got)
	}
	if got := st.Series.Anomaly; len(got) != 5 || got[3] != 0 || got[4] != 1 {
		t.Errorf("anomaly series %v, want only the last flagged", got)
	}
	if st.Info.Extra["seed"] != "1" {
		t.Errorf("info %+v", st.Info)
	}
	page := fetch(t, d.URL())
	for _, want := range []string{`id="anomaly"`, `id="cam"`, `id="plot-kl"`, "/api/state"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("page refers to an external resource")
	}
	if got := fetch(t, d.URL()+"hello"); got != "hi" {
		t.Errorf("extra handler: %q", got)
	}
	resp, err := http.Get(d.URL() + "api/state?n=-1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("n=-1: status %d", resp.StatusCode)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(d.URL()); err == nil {
		t.Error("server still answers after Close")
	}
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func get(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(fetch(t, url)), v); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkOnTick(b *testing.B) {
	m := loadModel(b)
	d, err := New(Config{Model: m.NewRunner()}, m.Arch)
	if err != nil {
		b.Fatal(err)
	}
	s := newStepper(m)
	r := s.step(b, 1, tick.Quality{Decoded: true})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Tick, r.Seq = uint64(i), uint64(i)
		r.Start = r.Start.Add(20 * time.Millisecond)
		d.OnTick(r)
	}
}
