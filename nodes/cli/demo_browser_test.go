package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium; outside CI its absence skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (CI must apt-get install chromium)")
	}
	t.Skip("chromium not installed (apt-get install chromium); the browser test needs it")
	return ""
}

// pageState is what the test reads from the dashboard's DOM.
type pageState struct {
	CamCount    string `json:"cam"`
	CamSrc      int    `json:"camSrc"`
	ReconSrc    int    `json:"reconSrc"`
	PredSrc     int    `json:"predSrc"`
	PlotTick    string `json:"plotTick"`
	LatTick     string `json:"latTick"`
	Anomaly     string `json:"anomaly"`
	Disturbance string `json:"dist"`
	Conn        string `json:"conn"`
	// What a screenshot once showed wrong (issue 14.15).
	Why      string `json:"why"`
	KLMin    string `json:"klMin"`
	LatMin   string `json:"latMin"`
	XLabels  string `json:"xlabels"`
	GridFull bool   `json:"gridFull"`
	InfoText string `json:"info"`
	WordWrap string `json:"wordBreak"`
}

const readPage = `(() => { const g = (id) => document.getElementById(id); return {
  cam: g("cam").dataset.count || "", camSrc: (g("cam").getAttribute("src") || "").length,
  reconSrc: (g("recon").getAttribute("src") || "").length, predSrc: (g("pred").getAttribute("src") || "").length,
  plotTick: g("plot-kl").dataset.tick || "", latTick: g("plot-lat").dataset.tick || "",
  anomaly: g("anomaly").dataset.on, dist: g("disturbance").dataset.on, conn: g("conn").textContent,
  why: (g("why") && !g("why").hidden) ? g("why").textContent : "",
  klMin: g("plot-kl").dataset.ymin || "", latMin: g("plot-lat").dataset.ymin || "", xlabels: g("plot-kl").dataset.xlabels || "",
  gridFull: (() => { const grid = document.querySelector(".plots").getBoundingClientRect(); const rows = {};
    for (const p of document.querySelectorAll(".plots > .plot")) { if (p.hidden) continue; const r = p.getBoundingClientRect();
      const k = Math.round(r.top); rows[k] = rows[k] || [Infinity, -Infinity]; rows[k][0] = Math.min(rows[k][0], r.left); rows[k][1] = Math.max(rows[k][1], r.right); }
    return Object.values(rows).every(([l, r]) => l - grid.left < 2 && grid.right - r < 2); })(),
  info: g("info").textContent, wordBreak: getComputedStyle(g("info").querySelector("td:last-child") || g("info")).wordBreak }; })()`

// TestDashboardInBrowser loads the dashboard of a running demo in headless chromium and
// checks that frames and plots update and that the anomaly indicator lights up during a
// disturbance.
func TestDashboardInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("-short: the browser test runs a 14 s demo")
	}
	urls := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	done := make(chan error, 1)
	var res *demoResult
	go func() {
		var err error
		res, err = demo(ctx, demoOptions{Addr: "127.0.0.1:0", Kind: "auto", Rate: 50, Duration: 14 * time.Second, Seed: 1,
			Every: 3 * time.Second, For: 1500 * time.Millisecond, Grace: 500 * time.Millisecond, Horizon: 10,
			OnReady: func(u string) { urls <- u }, Log: slog.New(slog.DiscardHandler)}, &out)
		done <- err
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("demo ended before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not start serving in 30 s")
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	bctx, cancelB := chromedp.NewContext(alloc)
	defer cancelB()
	if _, err := chromedp.Run(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	cams, plots, lats := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var anomalyInDisturbance, sawDisturbance, images, sawTimeAxis bool
	deadline := time.Now().Add(13 * time.Second)
	for time.Now().Before(deadline) {
		st, err := chromedp.Run(bctx, chromedp.Evaluate[pageState](readPage))
		if err != nil {
			t.Fatalf("read page: %v", err)
		}
		if st.CamCount != "" {
			cams[st.CamCount] = true
		}
		if st.PlotTick != "" {
			plots[st.PlotTick] = true
		}
		if st.LatTick != "" {
			lats[st.LatTick] = true
		}
		images = images || (st.CamSrc > 100 && st.ReconSrc > 100 && st.PredSrc > 100)
		sawDisturbance = sawDisturbance || st.Disturbance == "1"
		if st.Anomaly == "1" && !strings.Contains(st.Why, " z=") {
			t.Errorf("anomaly flag on without its cause: why %q", st.Why)
		}
		for name, v := range map[string]string{"KL": st.KLMin, "latency": st.LatMin} {
			if f, err := strconv.ParseFloat(v, 64); v != "" && (err != nil || f < 0) {
				t.Errorf("the %s axis starts at %s, below zero", name, v)
			}
		}
		sawTimeAxis = sawTimeAxis || (strings.Contains(st.XLabels, "now") && strings.Contains(st.XLabels, " s"))
		if !st.GridFull {
			t.Error("the plot grid has an empty cell")
		}
		if strings.Contains(st.InfoText, "`") || st.WordWrap == "break-all" {
			t.Errorf("info table shows backticks or breaks words (word-break %s): %q", st.WordWrap, st.InfoText)
		}
		if st.Disturbance == "1" && st.Anomaly == "1" && !anomalyInDisturbance {
			anomalyInDisturbance = true
			screenshot(t, bctx)
		}
		time.Sleep(150 * time.Millisecond)
	}
	if len(cams) < 5 {
		t.Errorf("camera image updated %d times in 13 s, want ≥ 5", len(cams))
	}
	if len(plots) < 5 || len(lats) < 5 {
		t.Errorf("plots redrawn with %d/%d distinct newest ticks, want ≥ 5", len(plots), len(lats))
	}
	if !images {
		t.Error("camera, reconstruction and prediction were never all shown")
	}
	if !sawTimeAxis {
		t.Error("the plots never labelled their time axis")
	}
	if !sawDisturbance {
		t.Error("the page never showed an injected disturbance")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.StandIn {
		t.Logf("stand-in model: anomaly indicator during a disturbance: %v (not asserted)", anomalyInDisturbance)
		return
	}
	if !anomalyInDisturbance {
		t.Error("the anomaly indicator never turned on during a disturbance")
	}
}

// screenshot keeps a picture of the page when RSSMD_SCREENSHOT names a file (the README's).
func screenshot(t *testing.T, bctx context.Context) {
	path := os.Getenv("RSSMD_SCREENSHOT")
	if path == "" {
		return
	}
	if _, err := chromedp.Run(bctx, chromedp.EmulateViewport(1400, 900)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
