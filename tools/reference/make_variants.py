#!/usr/bin/python3
"""Write random-init, full-size model folders of every published RSSMO variant (spec 2.9).

Each folder is in the ORIGINAL exporter's format (`config.yaml`, `model.pt`, `source.txt`) plus a
`calib.npz` (smooth synthetic frames with the variant's action width) that `rssmd calibrate` and
`rssmd bench` can use. The weights are random but well scaled (make_goldens.init_weights), so the
folders are good for speed and for exercising inspect/bench/calibrate end to end; they prove
nothing about accuracy (a trained model does that). Parameter and MAC counts are checked against
the spec's table before anything is written.

    /usr/bin/python3 tools/reference/make_variants.py --out DIR [--only rssmo-l,rssmo-xl]

Variants: rssmo (walker, cnn_ha), rssmo-discrete, viper (action-free rssmo), rssmo-m, rssmo-l,
rssmo-xl (MetaWorld, dreamer_resnet).
"""

import argparse
import collections
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens  # noqa: E402

# Spec 2.9: params (with the is_terminal head), MACs per filter step and per image-decoder call.
SPEC = {
    "rssmo": (7601980, 17415680, 24522240),
    "rssmo-discrete": (10245060, 18911744, 25540096),
    "rssmo-m": (21554108, 69435648, 65458176),
    "rssmo-l": (52803452, 130665984, 120832000),
    "rssmo-xl": (155638780, 315254784, 281911296),
}


def variants():
    walker = dict(deter=512, stoch=30, hidden=512, action_dim=6, encoder="cnn_ha", width=32,
                  dec_width=32, discrete=None, min_std=0.1, sigmoid=False,
                  binary=dict(hidden=128, layers=2, act=None, norm=None), reward=None,
                  env="dmc", seed=201)
    v = collections.OrderedDict()
    v["rssmo"] = walker
    v["rssmo-discrete"] = dict(walker, discrete=(32, 32), stoch=1024, seed=202)
    v["viper"] = dict(walker, action_dim=0, seed=203)

    def metaworld(deter, hidden, width, layers, seed):
        return dict(walker, deter=deter, hidden=hidden, action_dim=4, encoder="dreamer_resnet",
                    width=width, dec_width=width, sigmoid=None, env="metaworld", seed=seed,
                    binary=dict(hidden=hidden, layers=layers, act="swish", norm="ln"))

    v["rssmo-m"] = metaworld(1024, 640, 48, 3, 204)
    v["rssmo-l"] = metaworld(2048, 768, 64, 4, 205)
    v["rssmo-xl"] = metaworld(4096, 1024, 96, 5, 206)
    return v


def conv_macs(m, x):
    """MACs of every Conv2d / ConvTranspose2d / Linear inside module m for input x (B=1)."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, torch.nn.Linear):
            total[0] += mod.weight.numel() * (out.numel() // out.shape[-1])
        elif isinstance(mod, torch.nn.Conv2d):
            total[0] += mod.weight.numel() * out.shape[-1] * out.shape[-2]
        elif isinstance(mod, torch.nn.ConvTranspose2d):
            total[0] += mod.weight.numel() * inp[0].shape[-1] * inp[0].shape[-2]

    hs = [mm.register_forward_hook(hook) for mm in m.modules()
          if isinstance(mm, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    with torch.no_grad():
        m(*x) if isinstance(x, tuple) else m(x)
    for h in hs:
        h.remove()
    return total[0]


def count(model):
    """(params, filter-step MACs, image-decoder MACs) as the spec's table counts them."""
    params = sum(t.numel() for k, t in model.state_dict().items()
                 if k not in ("initial_memory", "initial_state"))
    img = torch.zeros(1, 3, 64, 64)
    filt = conv_macs(model.encoders["image"], img)
    for net in (model.pre_memory, model.memory_cell, model.prior_net, model.posterior_net):
        filt += sum(m.weight.numel() for m in net.modules() if isinstance(m, torch.nn.Linear))
    dec = conv_macs(model.decoders["image"], torch.zeros(1, model.feature_dim))
    return params, filt, dec


def write(out_root, name, v):
    model = make_goldens.build_variant(v)
    got = count(model)
    if name in SPEC and got != SPEC[name]:
        raise SystemExit(f"{name}: params/filter/decode MACs {got}, spec 2.9 says {SPEC[name]}")
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.yaml"), "w") as f:
        f.write(make_goldens.dump_config(make_goldens.make_config(name, v)))
    torch.save(model.state_dict(), os.path.join(d, "model.pt"))
    with open(os.path.join(d, "source.txt"), "w") as f:
        f.write(f"random-init {name} from tools/reference/make_variants.py (seed {v['seed']})\n")
    rng = np.random.default_rng(v["seed"])
    seq = make_goldens.make_sequence(dict(v, T=32, first=[0], terminal=[]), rng)
    np.savez_compressed(os.path.join(d, "calib.npz"), **seq)
    print(f"{name}: {d} params {got[0]:,} filter MACs {got[1]:,} decode MACs {got[2]:,}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="folder to write <variant>/ folders into")
    ap.add_argument("--only", default="", help="comma-separated variant names (default: all)")
    args = ap.parse_args()
    vs = variants()
    names = [n for n in args.only.split(",") if n] or list(vs)
    for n in names:
        if n not in vs:
            raise SystemExit(f"unknown variant {n!r}; known: {', '.join(vs)}")
    torch.set_num_threads(1)
    for n in names:
        write(args.out, n, vs[n])


if __name__ == "__main__":
    main()
