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
// Accuracy (int8 vs our float32 path, max-range calibration — the default — on long-300 /
// golden input): deter cosine min 0.99975 / 0.99987 over every step; median per-step KL error
// 2.3% / 3.6%; median ELBO error 2.0% / 0.86% (target 1%: not met on long-300);
// decoded-image PSNR min 41.6 / 42.9 dB; 20-step rollout PSNR min 37.4 / 40.9 dB. Range
// methods on long-300 (image PSNR min, rollout PSNR min, ELBO error): max 39.8–41.6 dB,
// 37.4–38.9 dB, 2.0%; percentile (99.99%) 32.4, 31.9, 2.5%; MSE 35.8, 33.6, 2.1%.
package quant
