#!/usr/bin/python3
"""Export our PyTorch reference of one RSSMO model folder to ONNX: the filter step and the decode.

    /usr/bin/python3 tools/peers/export_onnx.py --model DIR --out OUTDIR

Writes OUTDIR/meta.json (deter, stoch and action widths), OUTDIR/filter.onnx, OUTDIR/decode.onnx
(float32) and, through quantize_onnx.py, their dynamic-int8 versions: *.int8.onnx (every Conv,
MatMul and Gemm) and *.int8lin.onnx (the Linears only; ORT's ConvInteger is slower than its float
Conv, so the bench reports the faster of the two).

filter.onnx is what `rssmd bench` calls the filter step (quant.Runner.PosteriorStep), batch 1:
  inputs  image uint8 [1,64,64,3] (HWC, as the camera path hands it over), action float [1,A]
          (absent when A = 0, the VIPER models), deter [1,D], stoch [1,S];
  graph   uint8 -> float /255, NCHW, the visual encoder, pre_memory, the LN-GRU cell, the prior head
          on the new h', the posterior head on [h', emb], the head statistics (Gaussian mean and
          std = 2*sigmoid(raw/2)+min_std, or the discrete logits), the posterior mode as the new
          stoch (mean, or the one-hot argmax per group) and the KL(posterior || prior) summed;
  outputs deter', stoch', prior stats, posterior stats, kl.
decode.onnx: inputs deter, stoch; output the image mean [1,3,64,64] (rssmd writes HWC, the same
values).
"""

import argparse
import json
import os
import sys

import torch
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "reference"))
import rssmo_ref  # noqa: E402

OPSET = 17  # LayerNormalization is one op from 17 on; ORT >= 1.14 and onnx 1.12 know it


class FilterStep(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def step(self, image, action, deter, stoch):
        m = self.m
        x = image.to(torch.float32).permute(0, 3, 1, 2) / 255.0
        emb = m.encode(x)
        pm_in = stoch if action is None else torch.cat([stoch, action], dim=-1)
        h = m.memory_cell(m.pre_memory(pm_in), deter)
        prior_out = m.prior_net(h)
        post_out = m.posterior_net(torch.cat([h, emb], dim=-1))
        if m.discrete:
            g, k = m.discrete
            # Spec 2.9: per-group softmax, logs of probabilities clamped to [eps, 1-eps].
            q = torch.softmax(post_out.reshape(1, g, k), -1)
            p = torch.softmax(prior_out.reshape(1, g, k), -1)
            lo, hi = rssmo_ref.PROB_EPS, 1 - rssmo_ref.PROB_EPS
            kl = (q * (torch.log(q.clamp(lo, hi)) - torch.log(p.clamp(lo, hi)))).sum()
            stoch_new = m.mode(post_out)
            return h, stoch_new, prior_out, post_out, kl
        pm, ps = m.head_stats(prior_out)
        qm, qs = m.head_stats(post_out)
        kl = (torch.log(ps / qs) + (qs * qs + (qm - pm) ** 2) / (2 * ps * ps) - 0.5).sum()
        return h, qm, torch.cat([pm, ps], -1), torch.cat([qm, qs], -1), kl


class FilterStepA(FilterStep):
    def forward(self, image, action, deter, stoch):
        return self.step(image, action, deter, stoch)


class FilterStepNoA(FilterStep):
    def forward(self, image, deter, stoch):
        return self.step(image, None, deter, stoch)


class Decode(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, deter, stoch):
        dec = self.m.decoders["image"]
        x = torch.cat([deter, stoch], dim=-1)
        # The same modules in order; torch 1.13 cannot export nn.Unflatten, a reshape can.
        for mod in dec.net:
            x = x.reshape(1, *mod.unflattened_size) if isinstance(mod, nn.Unflatten) else mod(x)
        return torch.sigmoid(x) if dec.sigmoid else x + 0.5


def export(model_dir, out):
    m = rssmo_ref.load_model(model_dir).eval()
    os.makedirs(out, exist_ok=True)
    D, S, A = m.deter_dim, m.stoch_dim, m.action_dim
    g = torch.Generator().manual_seed(0)
    image = (torch.rand(1, 64, 64, 3, generator=g) * 255).to(torch.uint8)
    deter = torch.randn(1, D, generator=g) * 0.5
    stoch = torch.randn(1, S, generator=g)
    names = ["deter", "stoch"]
    if A:
        net, args = FilterStepA(m), (image, torch.randn(1, A, generator=g) * 0.5, deter, stoch)
        names = ["image", "action"] + names
    else:
        net, args = FilterStepNoA(m), (image, deter, stoch)
        names = ["image"] + names
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(dict(deter=D, stoch=S, action=A, discrete=bool(m.discrete), model=model_dir), f)
    outs = ["deter_out", "stoch_out", "prior", "posterior", "kl"]
    with torch.no_grad():
        torch.onnx.export(net, args, os.path.join(out, "filter.onnx"), input_names=names,
                          output_names=outs, opset_version=OPSET, do_constant_folding=True)
        torch.onnx.export(Decode(m), (deter, stoch), os.path.join(out, "decode.onnx"),
                          input_names=["deter", "stoch"], output_names=["image_mean"],
                          opset_version=OPSET, do_constant_folding=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="model folder (config.yaml + model.pt)")
    ap.add_argument("--out", required=True, help="output folder")
    args = ap.parse_args()
    torch.set_num_threads(1)
    try:
        export(args.model, args.out)
    except rssmo_ref.ModelError as e:
        raise SystemExit(f"export_onnx: {e}")
    import quantize_onnx
    for name in ("filter", "decode"):
        src = os.path.join(args.out, name + ".onnx")
        quantize_onnx.quantize_file(src, os.path.join(args.out, name + ".int8.onnx"))
        quantize_onnx.quantize_file(src, os.path.join(args.out, name + ".int8lin.onnx"),
                                    ("MatMul", "Gemm"))
    print(f"export_onnx: {args.model} -> {args.out}/{{filter,decode}}{{,.int8,.int8lin}}.onnx")


if __name__ == "__main__":
    main()
