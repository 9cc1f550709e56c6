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
//     int32 results are summed in float.
//   - Activations: symmetric int8 with one calibrated scale per tensor (package calibration;
//     Points lists them). The image input uses its exact range (pixel·127/255, a lookup).
//   - Accumulation: exact int32 in armkernels.Gemm; requantisation in float32
//     (acc·s_act·s_w[j] + b[j]); ReLU layers fold the next layer's scale into one multiply-add
//     and clamp in integers.
//   - Encoder convs: GEMM over im2col patch rows built straight from int8 HWC activations
//     (weights reordered to [Cout][ky][kx][Cin], so each patch row is k contiguous copies).
//   - Decoder transposed convs: GEMM over input pixels × [ky·kx·Cout, Cin] weight rows, then an
//     exact int32 col2im scatter (every row of an output channel shares its scale) and one
//     dequantisation per output value.
//
// # What stays float32, and why (measured on the shared walker model, calibrated on two
// seq-0* sequences, evaluated on long-300)
//
//   - LayerNorm / InstanceNorm statistics, SiLU, the GRU gates and the carried state h, the std
//     transform 2σ(ρ/2)+min_std, KL and likelihood sums: elementwise work of a few thousand
//     values per step, where int8 would add error for no measurable speed. Sigmoid, tanh and
//     exp use a float32 polynomial (relative error < 3e-7, tested against math).
//   - pre_memory ((S+A)×M, 18 kMACs): kept float; it is off the int8 budget's critical part.
//   - The non-image heads (is_terminal, reward): float, only used by Evaluate.
//   - Prior/posterior output layers (net.3) are int8: keeping them float32 moved the median
//     KL error from 2.24% to 2.26% and the ELBO error from 2.37% to 2.07% on long-300 — not
//     worth ~20 µs per step.
//
// Accuracy (int8 vs our float32 path, MSE clipping, long-300 / golden input): deter cosine
// min 0.99975 / 0.99989 over every step; median per-step KL error 2.2% / 2.3%, ELBO 2.4% /
// 1.6% (target 1%: not met); decoded-image PSNR min 35.8 / 38.9 dB, median 46.7 / 48.2 dB;
// 20-step rollout PSNR min 33.5 / 42.8 dB (target 35: not met on long-300). Range methods on
// long-300 (PSNR min, rollout min, ELBO error): max 39.8 dB, 38.9 dB, 1.96%; percentile
// (99.99%) 32.4, 31.9, 2.48%; MSE 35.8, 33.6, 2.06%.
package quant
