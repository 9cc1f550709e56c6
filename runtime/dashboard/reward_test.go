package dashboard

import (
	"math"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/model"
	"github.com/rssmd/rssmd/runtime/tick"
)

// TestRewardSeries: for an action-free (VIPER) model the state document carries the reward
// series (and the page has its plot); for a model with actions it carries none. The ELBO and
// reward of steps before the first decoded prediction are kept, not blanked like MSE/PSNR.
func TestRewardSeries(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want bool
	}{{"../../model/testdata/golden/cnnha-actionfree", true}, {cnnha, false}} {
		m, err := model.Load(tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(Config{Horizon: 2}, m.Arch)
		if err != nil {
			t.Fatal(err)
		}
		s := newStepper(m)
		rewards := []float64{0, -5.25, -5.5, math.NaN()}
		for i, r := range rewards {
			// Not decoded (MSE 0): as the monitor's first steps are.
			d.OnTick(s.step(t, i, tick.Quality{KL: 1, ELBO: -math.Expm1(-r), Reward: r}))
		}
		st := d.Snapshot(0)
		got := st.Series.Reward
		if !tc.want {
			if got != nil {
				t.Errorf("%s: reward series %v for a model with actions", tc.dir, got)
			}
			continue
		}
		if len(got) != len(rewards) {
			t.Fatalf("%s: reward series %v", tc.dir, got)
		}
		for i, r := range rewards {
			if g := float64(got[i]); g != r && !(math.IsNaN(g) && math.IsNaN(r)) {
				t.Errorf("reward[%d] = %v, want %v", i, g, r)
			}
		}
		if float64(st.Series.ELBO[1]) != -math.Expm1(5.25) || !math.IsNaN(float64(st.Series.MSE[1])) {
			t.Errorf("step 1: ELBO %v (want kept), MSE %v (want a gap)", st.Series.ELBO[1], st.Series.MSE[1])
		}
		if !math.IsNaN(float64(st.Last.Reward)) {
			t.Errorf("last reward %v, want NaN (the last step had none)", st.Last.Reward)
		}
	}
	if !strings.Contains(string(indexHTML), `id="plot-reward"`) {
		t.Error("page has no reward plot")
	}
}
