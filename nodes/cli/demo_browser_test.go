package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
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

// watchPage installs, in the page, an observer that reads the dashboard's DOM on every change
// and latches what the test looks for: the page sees each event when it happens (a 1.5 s
// disturbance, the anomaly flag during it), whatever the test's polling interval and however
// slowly a loaded machine answers it.
const watchPage = `(() => {
  const g = (id) => document.getElementById(id);
  const s = window.__seen = { cams: {}, plots: {}, lats: {}, images: false, dist: false, both: false, bothNow: false,
    timeAxis: false, noWhy: "", badAxis: "", gridEmpty: false, badInfo: "" };
  const gridFull = () => { const grid = document.querySelector(".plots").getBoundingClientRect(); const rows = {};
    for (const p of document.querySelectorAll(".plots > .plot")) { if (p.hidden) continue; const r = p.getBoundingClientRect();
      const k = Math.round(r.top); rows[k] = rows[k] || [Infinity, -Infinity]; rows[k][0] = Math.min(rows[k][0], r.left); rows[k][1] = Math.max(rows[k][1], r.right); }
    return Object.values(rows).every(([l, r]) => l - grid.left < 2 && grid.right - r < 2); };
  const check = () => {
    const cam = g("cam").dataset.count || "", plot = g("plot-kl").dataset.tick || "", lat = g("plot-lat").dataset.tick || "";
    if (cam) s.cams[cam] = true;
    if (plot) s.plots[plot] = true;
    if (lat) s.lats[lat] = true;
    const src = (id) => (g(id).getAttribute("src") || "").length;
    s.images = s.images || (src("cam") > 100 && src("recon") > 100 && src("pred") > 100);
    const dist = g("disturbance").dataset.on === "1", anomaly = g("anomaly").dataset.on === "1";
    s.dist = s.dist || dist;
    s.bothNow = dist && anomaly;
    s.both = s.both || s.bothNow;
    const why = (g("why") && !g("why").hidden) ? g("why").textContent : "";
    if (anomaly && !why.includes(" z=") && !s.noWhy) s.noWhy = "anomaly flag on, why " + JSON.stringify(why);
    for (const [name, v] of [["KL", g("plot-kl").dataset.ymin || ""], ["latency", g("plot-lat").dataset.ymin || ""]]) {
      if (v !== "" && !(parseFloat(v) >= 0) && !s.badAxis) s.badAxis = "the " + name + " axis starts at " + v + ", below zero";
    }
    const xl = g("plot-kl").dataset.xlabels || "";
    s.timeAxis = s.timeAxis || (xl.includes("now") && xl.includes(" s"));
    s.gridEmpty = s.gridEmpty || !gridFull();
    const info = g("info").textContent, wb = getComputedStyle(g("info").querySelector("td:last-child") || g("info")).wordBreak;
    if ((info.includes("\x60") || wb === "break-all") && !s.badInfo) s.badInfo = "word-break " + wb + ": " + info;
  };
  new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  check();
  return true;
})()`

// seen is window.__seen, as the test reads it.
type seen struct {
	Cams, Plots, Lats  map[string]bool
	Images, Dist, Both bool
	BothNow            bool   `json:"bothNow"`
	TimeAxis           bool   `json:"timeAxis"`
	NoWhy              string `json:"noWhy"`
	BadAxis            string `json:"badAxis"`
	GridEmpty          bool   `json:"gridEmpty"`
	BadInfo            string `json:"badInfo"`
}

// done says whether every event the test waits for has happened.
func (s *seen) done() bool {
	return len(s.Cams) >= 5 && len(s.Plots) >= 5 && len(s.Lats) >= 5 && s.Images && s.TimeAxis && s.Dist && s.Both
}

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
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](watchPage)); err != nil {
		t.Fatalf("install the page observer: %v", err)
	}
	// Until everything was seen or the demo ends (its 14 s hold about four disturbances).
	var (
		st        seen
		demoErr   error
		demoEnded bool
		shot      bool
	)
	poll := time.NewTicker(150 * time.Millisecond)
	defer poll.Stop()
	for !demoEnded && !st.done() {
		select {
		case demoErr = <-done:
			demoEnded = true
		case <-poll.C:
		}
		var err error
		if st, err = chromedp.Run(bctx, chromedp.Evaluate[seen]("window.__seen")); err != nil {
			t.Fatalf("read page: %v", err)
		}
		if st.BothNow && !shot {
			shot = true
			screenshot(t, bctx)
		}
	}
	t.Logf("the page showed %d camera frames, %d/%d plot redraws, a disturbance %v, the anomaly flag during one %v (demo ended first: %v)",
		len(st.Cams), len(st.Plots), len(st.Lats), st.Dist, st.Both, demoEnded)
	cancel()
	if !demoEnded {
		demoErr = <-done
	}
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	for _, bad := range []string{st.NoWhy, st.BadAxis, st.BadInfo} {
		if bad != "" {
			t.Error(bad)
		}
	}
	if st.GridEmpty {
		t.Error("the plot grid has an empty cell")
	}
	if len(st.Cams) < 5 {
		t.Errorf("camera image updated %d times, want ≥ 5", len(st.Cams))
	}
	if len(st.Plots) < 5 || len(st.Lats) < 5 {
		t.Errorf("plots redrawn with %d/%d distinct newest ticks, want ≥ 5", len(st.Plots), len(st.Lats))
	}
	if !st.Images {
		t.Error("camera, reconstruction and prediction were never all shown")
	}
	if !st.TimeAxis {
		t.Error("the plots never labelled their time axis")
	}
	if !st.Dist {
		t.Error("the page never showed an injected disturbance")
	}
	if res.StandIn {
		t.Logf("stand-in model: anomaly indicator during a disturbance: %v (not asserted)", st.Both)
		return
	}
	if !st.Both {
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
