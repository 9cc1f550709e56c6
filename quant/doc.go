// Package quant owns the int8 RSSMO world model: the post-training quantisation scheme, the
// quantised layers packed once for armkernels, the int8 bundle (SaveBundle, Load), and
// Runner, which implements model.Stepper (the same step API as model.Runner) with no
// allocation per step, on the *armkernels.Kernels its caller chooses.
//
// # Scheme
//
//   - Weights: symmetric int8 per output channel (scale max|w|/127). Linears whose input is a
//     concat of differently ranged parts (GRU [x, h], posterior [h, emb], decoder [h, s]) are
//     split into column segments, each with its own activation scale and row scales, and the
//     int32 results are summed in float. Quantize rounds to nearest; QuantizeCalibrated
//     (what calibration uses) rounds the decoder's seed and transposed-conv weights for the
//     least output error on the calibration inputs (Gram matrices, GPTQ-style error feedback
//     in act order, rounding.go), searches each scale's clip, and gives the ReLU and image transposed convs
//     a scale per (ky mod S, kx mod S, channel) — each output sum still sees one scale. On
//     the demo's rssmo-arm: int8 decoder 49.6 → 52.5 dB PSNR vs float32, median ELBO error
//     1.39% → 0.97% (calibration.TestDecoderRounding, TestTrainedVariantsAccuracy).
//   - Activations: affine int8, one calibrated scale and zero point per tensor (package
//     calibration; Points lists them, Model.Zeros holds the zero points): x ≈ s·(v − z),
//     v in [-128, 127]. One-sided tensors (ReLU and SiLU outputs) get z ≈ −128 and twice the
//     resolution of a symmetric range; the term s·z·Σ_p W[j][p] is a per-row constant folded
//     into the bias at load (for the transposed convs it depends on the output position and
//     is precomputed as the scatter's starting values). The image input is stored exactly as
//     v = p − 128 (scale 1/255) for cnn_ha.
//   - Accumulation: exact int32 in armkernels.Gemm; requantisation in float32
//     (acc·s_act·s_w[j] + b[j]); ReLU layers fold the next layer's scale and zero point into
//     one multiply-add and clamp in integers (armkernels.ReluRequant, vectorised).
//   - Encoder convs: GEMM over im2col patch rows built straight from int8 HWC activations
//     (weights reordered to [Cout][ky][kx][Cin], so each patch row is k contiguous copies).
//     The first (RGB) layer skips im2col: the image goes through the input LUT straight into
//     units of 2 pixels × 4 kernel rows, and one GEMM slides over them with overlapping rows
//     (newSlide, Runner.encodeSlide). Calibration equalises the conv+ReLU pairs per channel
//     first (calibration/equalize.go).
//   - Decoder: the cnn_ha seed Linear and the first transposed conv (1×1 input, no activation
//     between) are one Linear 542→3200 (SeedMerged). The other transposed convs are a GEMM
//     over input pixels × [ky·kx·Cout, Cin] weight rows, then an exact int32 col2im scatter
//     (armkernels.AddInt32Rows, one call per input pixel; the rows that meet in an output
//     value share its scale) and one dequantisation per output value. A transposed conv whose
//     scatter runs would be short (the last layer: K 6, S 2, Cout 3, runs of 18 values) is
//     phase-split instead (phaseSplit): every output phase (oy mod 2, ox mod 2) is a 3×3
//     correlation over the same zero-point-padded input window, so one GEMM with rows
//     [phase][Cout] writes each output once, sliding over a row-stacked input. Padding (the
//     dreamer_resnet decoder's k4 s2 p1 layers) only crops the unpadded output: the GEMM is
//     the same and the runs at the borders are clipped.
//   - 4-bit weights (QuantizeCalibratedInt4, `rssmd calibrate --int4`): the GRU, the
//     posterior's first layer and the decoder Linear can take codes in [−7, 7] with one
//     clipped scale per row. They stay int8 codes in the bundle; armkernels keeps a nibble
//     copy of any matrix whose codes fit 4 bits and its batch-1 GEMV reads that, half the
//     bytes of the memory-bound step, with the same exact int32 result.
//
// # What stays float32, and why
//
//   - LayerNorm / InstanceNorm statistics, SiLU, the GRU gates and the carried state h, the std
//     transform 2σ(ρ/2)+min_std, KL and likelihood sums: elementwise work of a few thousand
//     values per step, where int8 would add error for no measurable speed. The exponentials
//     run through armkernels.Exp (vectorised, relative error < 3e-7). The dreamer_resnet
//     InstanceNorm takes its statistics from exact int64 sums of the int32 accumulators and
//     folds norm, affine and dequantisation into one multiply-add, fused with SiLU and the
//     requantisation (normact.go).
//   - pre_memory ((S+A)×M, 18 kMACs for the walker): kept float, stored column-major so that
//     only the non-zero [stoch, action] columns are visited: a one-hot 32×32 stoch is a gather
//     of 32 columns, not a 1030-wide pass (discrete.go; bit-identical to the dense layer). The
//     categorical KL exponentiates both heads' 1024 logits in one vectorised pass.
//   - The non-image heads (is_terminal, reward): float, only used by Evaluate.
//
// # Measured (shared walker model, calibrated on seq-00 and seq-01, max ranges)
//
// Ablation on long-300 before the current scheme (symmetric activations; one layer at a time
// replaced by float32): the error was spread over the encoder (float encoder: ELBO error
// 2.06% → 1.59%, posterior-mean error/σ_p 0.060 → 0.031), the posterior head (→ 1.51%) and the
// decoder (→ 1.62%); no single layer dominated, and the systematic (mean) part of the
// posterior-mean error was only 23% of its square, so bias correction alone could not reach
// 1%. Steps, each kept (long-300 median ELBO error / KL error / posterior-mean RMS error):
// symmetric 2.02% / 2.27% / 1.8e-2; affine activations 1.22% / 1.23% / 9.6e-3; zero points for
// the decoder 1.14%; encoder equalisation 0.86% / 1.13% / 8.6e-3; seed merge 0.85% / 1.13% /
// 8.6e-3. Tried and not kept: calibrating on all eight seq-0* sequences (long-300 0.89% but
// golden 1.20%), equalisation exponents 0.3 / 0.7 / 1.0 (posterior RMS 8.6e-3 / 8.3e-3 /
// 1.09e-2, ELBO medians noisy between 0.56% and 1.05%).
//
// Range methods (measured with the earlier symmetric scheme, long-300: image PSNR min,
// rollout PSNR min, ELBO error): max 39.8–41.6 dB, 37.4–38.9 dB, 2.0%; percentile (99.99%)
// 32.4, 31.9, 2.5%; MSE 35.8, 33.6, 2.1%. Max stays the default.
//
// Accuracy now (int8 vs our float32 path, long-300 / golden input): deter cosine min
// 0.99994 / 0.99997 over every step; median per-step KL error 1.13% / 1.44%; median ELBO error
// 0.85% / 0.83% (target 1%); decoded-image PSNR min 39.8 / 44.3 dB (median 49.8); 20-step
// rollout PSNR min 39.8 / 45.9 dB.
//
// Speed (one core of the shared 2-core AMD EPYC, AVX-512 VNNI, median of 400 calls, load
// ~2.5 from other work): filter step 140 µs (was 150 before the sliding first layer), prior
// step 38.7 µs, decode 196.5 µs (was 242: phase split of the last layer, one scatter call
// per pixel). The encoder GEMMs run near the VNNI peak and the GEMVs (GRU, posterior, the
// decoder seed: 4.3 MB of weights) stream from L3, so what is left above them is ~25 µs of
// im2col, epilogues and float parts per step. rssmd bench (calibrated on seq-00, same load):
// filter 143.7 µs median, decode 201.6 µs; PyTorch float32 (one thread, OpenBLAS) 3.65 ms in
// the same period, about 25×. AVX2-only machines (GODEBUG=cpu.avx512f=off here, avx2 GEMM
// and AVX2 helpers): filter 309 µs, decode 445 µs. (On a CPU with AVX-VNNI that setting now
// picks the avxvnni GEMM; RSSMD_KERNEL=avx2 forces the AVX2 one. README's performance section
// has both for every variant.) Int8 bundle 26.3% of the float32 bundle
// (TestWalkerBundleSize).
package quant
