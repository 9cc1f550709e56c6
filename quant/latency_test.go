package quant

import (
	"os"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/rssmd/rssmd/model"
)

// TestLatency logs median per-call latencies (robust to a loaded machine) when RSSMD_LATENCY is set.
func TestLatency(t *testing.T) {
	if os.Getenv("RSSMD_LATENCY") == "" {
		t.Skip("set RSSMD_LATENCY=1 to measure")
	}
	_, qm, seq := walker(t)
	r := qm.NewRunner(nil)
	s := model.NewStateFor(qm.Arch)
	out := qm.Arch.NewStepOutput()
	img := make([]float32, model.ImageValues)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	med := func(name string, f func(i int)) {
		var d []time.Duration
		for i := 0; i < 400; i++ {
			t0 := time.Now()
			f(i)
			d = append(d, time.Since(t0))
		}
		sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
		t.Logf("%-8s median %v  p10 %v", name, d[len(d)/2], d[len(d)/10])
	}
	med("filter", func(i int) { r.PosteriorStep(&s, seq.Action(i%seq.T), seq.Frame(i%seq.T), i%seq.T == 0, out, nil) })
	med("encode", func(i int) { r.Encode(r.emb, seq.Frame(i%seq.T)) })
	med("prior", func(i int) { r.PriorStep(&s, seq.Action(i%seq.T), out, nil) })
	med("decode", func(i int) { r.Decode(img, s.Deter, s.Stoch) })
}
