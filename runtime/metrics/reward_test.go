package metrics

import (
	"io"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rssmd/rssmd/runtime/tick"
)

// TestViperReward: the gauge holds the last step's reward, the histogram counts the steps
// that had one (NaN — ELBO off — is not observed), in symlog-sized buckets, and neither
// allocates per tick.
func TestViperReward(t *testing.T) {
	m, err := New(Config{Stats: func() tick.Stats { return tick.Stats{} }})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []float64{0, -5.3, -5.2, math.NaN(), -7.1} {
		m.OnTick(&tick.Result{Quality: tick.Quality{Reward: r, ELBO: -math.Expm1(-r)}})
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	body := string(b)
	for _, want := range []string{
		"rssmd_viper_reward -7.1",
		"rssmd_viper_reward_hist_count 4",
		`rssmd_viper_reward_hist_bucket{le="-7"} 1`,
		`rssmd_viper_reward_hist_bucket{le="-5.25"} 2`,
		`rssmd_viper_reward_hist_bucket{le="-5"} 3`,
		`rssmd_viper_reward_hist_bucket{le="0"} 4`,
		"rssmd_viper_reward_hist_sum -17.6",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if RewardBuckets[0] > -9.3 || RewardBuckets[len(RewardBuckets)-1] < 1 {
		t.Errorf("buckets %v do not span the rewards of ELBOs −10⁴ … +1", RewardBuckets)
	}
	r := &tick.Result{Quality: tick.Quality{Reward: -5, ELBO: -147}}
	if a := testing.AllocsPerRun(100, func() { m.OnTick(r) }); a != 0 {
		t.Fatalf("%v allocations per OnTick", a)
	}
}
