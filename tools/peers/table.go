package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// latency is one measurement's summary, as both tools print it (µs).
type latency struct {
	Median float64 `json:"median"`
}

// rssmdBench is the part of `rssmd bench --json` the table uses.
type rssmdBench struct {
	Kernel        string   `json:"kernel"`
	CPU           string   `json:"cpu"`
	FilterInt8    latency  `json:"filter_step_int8_us"`
	DecodeInt8    *latency `json:"decode_int8_us"`
	AllocsPerStep float64  `json:"allocs_per_step"`
	FilterMACs    int64    `json:"filter_macs"`
	DecodeMACs    int64    `json:"decode_macs"`
}

// ortBench is ort_bench.js's output: per graph and kind (fp32, int8, int8lin) a latency, and for
// the int8 kinds how far their outputs are from float32's.
type ortBench struct {
	Version string `json:"ort_version"`

	FilterFP32    *latency `json:"filter_fp32_us"`
	FilterInt8    *latency `json:"filter_int8_us"`
	FilterInt8Lin *latency `json:"filter_int8lin_us"`
	DecodeFP32    *latency `json:"decode_fp32_us"`
	DecodeInt8    *latency `json:"decode_int8_us"`
	DecodeInt8Lin *latency `json:"decode_int8lin_us"`

	FilterInt8Err    ortErr `json:"filter_int8_err"`
	FilterInt8LinErr ortErr `json:"filter_int8lin_err"`
	DecodeInt8Err    ortErr `json:"decode_int8_err"`
	DecodeInt8LinErr ortErr `json:"decode_int8lin_err"`
}

type ortErr struct {
	PosteriorCosine float64 `json:"posterior_cosine"`
	ImageMaxAbs     float64 `json:"image_max_abs"`
}

// Metric keys of variantResult.runs.
const (
	mFilter          = "rssmd filter"
	mDecode          = "rssmd decode"
	mFilterAVX2      = "rssmd filter avx2"
	mDecodeAVX2      = "rssmd decode avx2"
	mFilterInt4      = "rssmd filter int4"
	mDecodeInt4      = "rssmd decode int4"
	mORTFilterFP32   = "ort filter fp32"
	mORTFilterInt8   = "ort filter int8"
	mORTFilterInt8L  = "ort filter int8lin"
	mORTDecodeFP32   = "ort decode fp32"
	mORTDecodeInt8   = "ort decode int8"
	mORTDecodeInt8L  = "ort decode int8lin"
	ortLinearsMarker = " ᴸ"
)

// variantResult collects one variant's per-round medians.
type variantResult struct {
	Name                   string
	Kernel, CPU            string
	AVX2Kernel             string // the kernel rssmd chose with AVX-512 off ("" if not timed)
	ORTVersion             string
	FilterMACs, DecodeMACs int64
	Allocs                 float64
	runs                   map[string][]float64
	ort                    ortBench // the last round's, for the accuracy notes
}

func (v *variantResult) add(b rssmdBench, o ortBench) {
	if v.runs == nil {
		v.runs = map[string][]float64{}
	}
	v.Kernel, v.CPU, v.ORTVersion = b.Kernel, b.CPU, o.Version
	v.FilterMACs, v.DecodeMACs = b.FilterMACs, b.DecodeMACs
	v.Allocs = max(v.Allocs, b.AllocsPerStep)
	v.ort = o
	put := func(k string, l *latency) {
		if l != nil && l.Median > 0 {
			v.runs[k] = append(v.runs[k], l.Median)
		}
	}
	put(mFilter, &b.FilterInt8)
	put(mDecode, b.DecodeInt8)
	put(mORTFilterFP32, o.FilterFP32)
	put(mORTFilterInt8, o.FilterInt8)
	put(mORTFilterInt8L, o.FilterInt8Lin)
	put(mORTDecodeFP32, o.DecodeFP32)
	put(mORTDecodeInt8, o.DecodeInt8)
	put(mORTDecodeInt8L, o.DecodeInt8Lin)
}

// addAVX2 records a round of rssmd with AVX-512 switched off.
func (v *variantResult) addAVX2(b rssmdBench) {
	if v.runs == nil {
		v.runs = map[string][]float64{}
	}
	v.AVX2Kernel = b.Kernel
	if b.FilterInt8.Median > 0 {
		v.runs[mFilterAVX2] = append(v.runs[mFilterAVX2], b.FilterInt8.Median)
	}
	if b.DecodeInt8 != nil && b.DecodeInt8.Median > 0 {
		v.runs[mDecodeAVX2] = append(v.runs[mDecodeAVX2], b.DecodeInt8.Median)
	}
}

// addInt4 records a round of rssmd on the variant's --int4 bundle.
func (v *variantResult) addInt4(b rssmdBench) {
	if v.runs == nil {
		v.runs = map[string][]float64{}
	}
	if b.FilterInt8.Median > 0 {
		v.runs[mFilterInt4] = append(v.runs[mFilterInt4], b.FilterInt8.Median)
	}
	if b.DecodeInt8 != nil && b.DecodeInt8.Median > 0 {
		v.runs[mDecodeInt4] = append(v.runs[mDecodeInt4], b.DecodeInt8.Median)
	}
}

// stat is a metric over rounds: the best per-round median and the median of them; NaN if absent.
func (v *variantResult) stat(k string) (best, med float64) {
	r := slices.Clone(v.runs[k])
	if len(r) == 0 {
		return math.NaN(), math.NaN()
	}
	slices.Sort(r)
	return r[0], r[len(r)/2]
}

// bestInt8 returns the faster of ONNX Runtime's two int8 graphs (all convs and linears, or the
// linears only) and whether the linears-only one won.
func (v *variantResult) bestInt8(all, lin string) (best, med float64, linears bool) {
	b, m := v.stat(all)
	bl, ml := v.stat(lin)
	if !math.IsNaN(bl) && (math.IsNaN(b) || bl < b) {
		return bl, ml, true
	}
	return b, m, false
}

type tableEnv struct {
	CPU, Kernel, Go, ORT string
	Rounds               int
	Load                 [2]string
}

func cell(best, med float64) string {
	if math.IsNaN(best) {
		return "–"
	}
	return fmt.Sprintf("%.0f (%.0f)", best, med)
}

func ratio(num, den float64) string {
	if math.IsNaN(num) || math.IsNaN(den) || den == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1fx", num/den)
}

// writeTable prints the markdown table README's performance section holds, and notes under it.
func writeTable(w io.Writer, env tableEnv, res []*variantResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "CPU %s, rssmd kernel %s, %s, ONNX Runtime %s (onnxruntime-node, 1 intra-op thread); best of %d interleaved rounds (median of the rounds in brackets), µs; load %s at the start, %s at the end\n\n",
		orUnknown(env.CPU), orUnknown(env.Kernel), env.Go, orUnknown(env.ORT), env.Rounds, env.Load[0], env.Load[1])
	b.WriteString("| variant | MACs filter / decode | rssmd int8 filter | GMAC/s | rssmd int8 decode | ORT fp32 filter | ORT int8 filter | ORT fp32 decode | ORT int8 decode | filter: ORT fp32 / rssmd, ORT int8 / rssmd | decode: same | rssmd without AVX-512: filter / decode | rssmd --int4: filter / decode (ORT fp32 / it) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var notes []string
	for _, v := range res {
		if len(v.runs) == 0 {
			return fmt.Errorf("%s: %w", v.Name, errNoData)
		}
		f, fm := v.stat(mFilter)
		d, dm := v.stat(mDecode)
		of, ofm := v.stat(mORTFilterFP32)
		od, odm := v.stat(mORTDecodeFP32)
		oq, oqm, qlin := v.bestInt8(mORTFilterInt8, mORTFilterInt8L)
		oqd, oqdm, qdlin := v.bestInt8(mORTDecodeInt8, mORTDecodeInt8L)
		gmacs := "–"
		if !math.IsNaN(f) && f > 0 {
			gmacs = fmt.Sprintf("%.0f", float64(v.FilterMACs)/f/1e3)
		}
		mark := func(s string, lin bool) string {
			if lin && s != "–" {
				return s + ortLinearsMarker
			}
			return s
		}
		fa, fam := v.stat(mFilterAVX2)
		da, dam := v.stat(mDecodeAVX2)
		int4 := "–"
		if f4, f4m := v.stat(mFilterInt4); !math.IsNaN(f4) {
			d4, d4m := v.stat(mDecodeInt4)
			int4 = fmt.Sprintf("%s / %s (%s, %s)", cell(f4, f4m), cell(d4, d4m), ratio(of, f4), ratio(od, d4))
		}
		fmt.Fprintf(&b, "| %s | %.1f M / %.1f M | %s | %s | %s | %s | %s | %s | %s | %s, %s | %s, %s | %s / %s | %s |\n",
			v.Name, float64(v.FilterMACs)/1e6, float64(v.DecodeMACs)/1e6,
			cell(f, fm), gmacs, cell(d, dm), cell(of, ofm), mark(cell(oq, oqm), qlin),
			cell(od, odm), mark(cell(oqd, oqdm), qdlin),
			ratio(of, f), ratio(oq, f), ratio(od, d), ratio(oqd, d), cell(fa, fam), cell(da, dam), int4)
		fe, de := v.ort.FilterInt8Err, v.ort.DecodeInt8Err
		if qlin {
			fe = v.ort.FilterInt8LinErr
		}
		if qdlin {
			de = v.ort.DecodeInt8LinErr
		}
		avx := ""
		if v.AVX2Kernel != "" {
			avx = " (kernel " + v.AVX2Kernel + " without AVX-512)"
		}
		notes = append(notes, fmt.Sprintf("%s: rssmd %g allocs/step%s; ORT int8 vs its fp32: posterior cosine %.6f, decoded image max |Δ| %.4f",
			v.Name, v.Allocs, avx, fe.PosteriorCosine, de.ImageMaxAbs))
	}
	b.WriteString("\n" + ortLinearsMarker[1:] + ": ONNX Runtime's int8 graph with only the Linears quantised was the faster one (its ConvInteger is slower than its float Conv).\n")
	for _, n := range notes {
		b.WriteString(n + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
