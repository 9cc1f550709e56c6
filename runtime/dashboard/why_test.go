package dashboard

import (
	"strings"
	"testing"

	"github.com/rssmd/rssmd/runtime/tick"
)

// The page says which signal raised the anomaly flag and its z-score.
func TestAnomalyWhy(t *testing.T) {
	m := loadModel(t)
	for _, tc := range []struct {
		name string
		q    tick.Quality
		want string
		not  string
	}{
		{"off", tick.Quality{ZScoreKL: 9}, "", ""},
		{"KL", tick.Quality{Anomaly: true, ZScore: 0.4, ZScoreKL: 6.25}, "KL z=+6.2 (threshold 4)", "prediction error"},
		{"error", tick.Quality{Anomaly: true, ZScore: 5.04, ZScoreKL: -1}, "prediction error z=+5.0 (threshold 4)", "KL"},
		{"both", tick.Quality{Anomaly: true, ZScore: 4.5, ZScoreKL: 7}, "prediction error z=+4.5, KL z=+7.0", ""},
		{"neither above", tick.Quality{Anomaly: true, ZScore: 1, ZScoreKL: 3.9}, "KL z=+3.9", "prediction error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(Config{}, m.Arch)
			if err != nil {
				t.Fatal(err)
			}
			s := newStepper(m)
			d.OnTick(s.step(t, 0, tc.q))
			got := d.Snapshot(0).Last.Why
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) || (tc.not != "" && strings.Contains(got, tc.not)) {
				t.Errorf("why = %q, want %q (without %q)", got, tc.want, tc.not)
			}
		})
	}
}

// The page's layout rules that a screenshot showed wrong (the browser test checks them drawn).
func TestPageLayoutRules(t *testing.T) {
	page := string(indexHTML)
	for _, want := range []string{
		"#reward-plot[hidden] + .plot { grid-column: 1 / -1; }", // no empty grid cell without the reward plot
		"frame taken → result", "filter step",                   // the latency plot's two series named
		`id="why"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Contains(page, "break-all") {
		t.Error("index.html breaks words anywhere (word-break: break-all)")
	}
}
