package main

import (
	"errors"
	"strings"
	"testing"
)

func TestWriteTable(t *testing.T) {
	walker := &variantResult{Name: "rssmo"}
	// Three rounds: the cell is the best per-round median, the bracket the median of the rounds.
	for _, r := range []struct{ f, d, of, oq, oql, od, oqd float64 }{
		{150, 200, 500, 400, 380, 1000, 900},
		{140, 210, 520, 390, 370, 1100, 950},
		{160, 190, 480, 410, 395, 1050, 920},
	} {
		walker.add(rssmdBench{Kernel: "avx512vnni", CPU: "Test CPU", FilterInt8: latency{r.f}, DecodeInt8: &latency{r.d},
			FilterMACs: 17_415_680, DecodeMACs: 24_522_240},
			ortBench{Version: "1.31.1", FilterFP32: &latency{r.of}, FilterInt8: &latency{r.oq}, FilterInt8Lin: &latency{r.oql},
				DecodeFP32: &latency{r.od}, DecodeInt8: &latency{r.oqd}, DecodeInt8Lin: &latency{r.oqd + 100},
				FilterInt8LinErr: ortErr{PosteriorCosine: 0.9991}, DecodeInt8Err: ortErr{ImageMaxAbs: 0.0123}})
		walker.addAVX2(rssmdBench{Kernel: "avx2", FilterInt8: latency{2 * r.f}, DecodeInt8: &latency{2 * r.d}})
		walker.addInt4(rssmdBench{FilterInt8: latency{r.f / 2}, DecodeInt8: &latency{r.d / 2}})
	}
	// A variant whose rssmd has no decoder and whose ORT measured no int8 graphs.
	bare := &variantResult{Name: "viper"}
	bare.add(rssmdBench{FilterInt8: latency{100}, FilterMACs: 10_000_000, AllocsPerStep: 0.5}, ortBench{FilterFP32: &latency{300}})

	var b strings.Builder
	env := tableEnv{CPU: "Test CPU", Kernel: "avx512vnni", Go: "go1.26", ORT: "1.31.1", Rounds: 3, Load: [2]string{"1.0", "2.0"}}
	if err := writeTable(&b, env, []*variantResult{walker, bare}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	var row, row2 string
	for _, l := range lines {
		if strings.HasPrefix(l, "| rssmo |") {
			row = l
		}
		if strings.HasPrefix(l, "| viper |") {
			row2 = l
		}
	}
	if row == "" || row2 == "" {
		t.Fatalf("rows missing:\n%s", out)
	}
	cells := strings.Split(row, " | ")
	want := []string{
		"| rssmo", "17.4 M / 24.5 M",
		"140 (150)", // best and median of 150, 140, 160
		"124",       // 17.4156 M MACs / 140 µs
		"190 (200)", "480 (500)",
		"370 (380) ᴸ", // the linears-only int8 graph was faster
		"1000 (1050)",
		"900 (920)",  // the full int8 graph was faster: no marker
		"3.4x, 2.6x", // 480/140, 370/140
		"5.3x, 4.7x",
		"280 (300) / 380 (400)",              // without AVX-512: best and median of 2x the rounds above
		"70 (75) / 95 (100) (6.9x, 10.5x) |", // the int4 bundle: half the rounds above; 480/70, 1000/95
	}
	if len(cells) != len(want) {
		t.Fatalf("row has %d cells, want %d: %q", len(cells), len(want), row)
	}
	for i := range want {
		if cells[i] != want[i] {
			t.Errorf("cell %d = %q, want %q (row %q)", i, cells[i], want[i], row)
		}
	}
	if !strings.Contains(row2, "| – | – |") || !strings.Contains(row2, "3.0x, –") || !strings.HasSuffix(row2, "| – / – | – |") {
		t.Errorf("missing values not shown as –: %q", row2)
	}
	for _, s := range []string{
		"CPU Test CPU, rssmd kernel avx512vnni, go1.26, ONNX Runtime 1.31.1",
		"best of 3 interleaved rounds",
		"rssmo: rssmd 0 allocs/step (kernel avx2 without AVX-512); ORT int8 vs its fp32: posterior cosine 0.999100, decoded image max |Δ| 0.0123",
		"viper: rssmd 0.5 allocs/step",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestWriteTableNoRounds(t *testing.T) {
	err := writeTable(&strings.Builder{}, tableEnv{}, []*variantResult{{Name: "rssmo-m"}})
	if !errors.Is(err, errNoData) || !strings.Contains(err.Error(), "rssmo-m") {
		t.Fatalf("err = %v, want errNoData naming the variant", err)
	}
}

func TestParseJSON(t *testing.T) {
	var b rssmdBench
	out := []byte("time=... level=INFO msg=\"int8 kernels selected\" {not json}\n{\"kernel\": \"avx2\", \"filter_step_int8_us\": {\"median\": 12.5}}\n")
	if err := parseJSON(out, &b); err != nil {
		t.Fatal(err)
	}
	if b.Kernel != "avx2" || b.FilterInt8.Median != 12.5 {
		t.Fatalf("parsed %+v", b)
	}
	for _, bad := range []string{"", "no object here", "{\"kernel\": 3}"} {
		if err := parseJSON([]byte(bad), &b); err == nil {
			t.Errorf("parseJSON(%q) = nil error", bad)
		}
	}
}
