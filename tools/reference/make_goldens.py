#!/usr/bin/python3
"""Write the small golden model folders under model/testdata/golden/ (see its README.md).

Each variant is a random but well-scaled RSSMO written in the ORIGINAL exporter's format
(`config.yaml` as OmegaConf writes it, `model.pt` via torch.save(state_dict), `source.txt`), an
input `seq.npz` in the `rssmd filter` input contract, `golden.npz` computed by rssmo_ref.py, and a
`golden.json` with provenance and the rollout arguments. Everything is seeded, so a rerun with the
same torch/numpy gives the same files.

    /usr/bin/python3 tools/reference/make_goldens.py [--out model/testdata/golden] [--only NAME]
"""

import argparse
import collections
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rssmo_ref  # noqa: E402

# Minimum gap between the top two logits of every group, for discrete goldens: a smaller gap could
# flip an argmax under float32 reordering in another implementation and derail the whole sequence.
MIN_ARGMAX_GAP = 5e-3


def variant_table():
    """Name -> settings. Widths are small so the whole tree stays ~2-3 MB."""
    base = dict(deter=48, stoch=8, hidden=40, action_dim=6, encoder="cnn_ha", width=4, dec_width=2,
                discrete=None, min_std=0.1, sigmoid=False, binary=dict(hidden=24, layers=2,
                act=None, norm=None), reward=None, T=10, first=[0], terminal=[],
                rollout=None, env="dmc")
    v = collections.OrderedDict()
    v["cnnha-actions"] = dict(base, seed=101, T=12, first=[0, 5], terminal=[4], rollout=(8, 4),
                              dec_width=4,
                              about="cnn_ha w4 (encoder and decoder), A=6, is_first also at "
                                    "t=5 (with a non-zero pre_action there), is_terminal=1 at "
                                    "t=4, rollout 8+4")
    v["cnnha-actionfree"] = dict(base, seed=102, action_dim=0, T=7, rollout=(5, 2),
                                 about="VIPER-like: action_free true, A=0, seq.npz has NO "
                                       "pre_action key, rollout 5+2 with no actions")
    v["discrete"] = dict(base, seed=103, discrete=(4, 5), stoch=20, T=8, rollout=(5, 3),
                         about="rssmo-discrete style: state_dim [48, 4, 5], cnn_ha encoder "
                               "w4 + decoder w2, A=6; rollout uses the one-hot argmax of the prior (the original "
                               "raises NotImplementedError there)")
    v["resnet"] = dict(base, seed=104, encoder="dreamer_resnet", action_dim=4, T=8, sigmoid=None,
                       binary=dict(hidden=40, layers=3, act="swish", norm="ln"),
                       reward=dict(hidden=40, layers=2), rollout=(5, 3), env="metaworld",
                       about="rssmo-m style: dreamer_resnet encoder w4 + decoder w2, A=4, "
                             "is_terminal head SiLU+LayerNorm x3, dmlp 'reward' head with a "
                             "reward target in seq.npz, decoders.visual.sigmoid "
                             "absent (dreamer_resnet default: false, raw+0.5), rollout 5+3")
    v["min-std-null"] = dict(base, seed=105, min_std=None, sigmoid=None, T=5,
                             about="world_model.min_std: null (-> 1e-6) and "
                                   "decoders.visual.sigmoid absent (-> sigmoid true), no rollout")
    return v


# --------------------------------------------------------------------------------------------------
# config.yaml in the shape OmegaConf.save writes for a train_model_only run

def make_config(name, v):
    act_free = v["action_dim"] == 0
    wm = collections.OrderedDict()
    wm["intrinsic_reward_config"] = {}
    wm["name"] = "rssmo"
    wm["nll_reweight"] = "none"
    wm["idm_mode"] = "none"
    wm["predict_emb"] = False
    wm["momentum_parameter"] = 0.01
    wm["min_std"] = v["min_std"]
    wm["kl_scale"] = 1.0
    wm["free_nats"] = 1.0
    wm["kl_rebalance"] = 0.8
    enc = v["encoder"]
    wm["encoders"] = collections.OrderedDict([
        ("tabular", dict(name="mlp", hidden_size=v["hidden"], hidden_layers=2,
                         hidden_activation="swish", norm="ln", have_head=False)),
        ("visual", dict(name=enc, width=v["width"])),
    ])
    binary = collections.OrderedDict(name="binary", hidden_size=v["binary"]["hidden"],
                                     hidden_layers=v["binary"]["layers"])
    if v["binary"]["act"]:
        binary["hidden_activation"] = v["binary"]["act"]
    if v["binary"]["norm"]:
        binary["norm"] = v["binary"]["norm"]
    visual = collections.OrderedDict(name=enc, width=v["dec_width"])
    if v["sigmoid"] is not None:
        visual["sigmoid"] = v["sigmoid"]
    tab_hidden = v["reward"]["hidden"] if v["reward"] else v["hidden"]
    tab_layers = v["reward"]["layers"] if v["reward"] else 2
    wm["decoders"] = collections.OrderedDict([
        ("tabular", dict(name="dmlp", hidden_size=tab_hidden, hidden_layers=tab_layers,
                         hidden_activation="swish", norm="ln")),
        ("binary", binary),
        ("visual", visual),
    ])
    wm["probes"] = collections.OrderedDict([
        ("tabular", dict(name="dmlp", hidden_size=v["hidden"], hidden_layers=2,
                         hidden_activation="swish", norm="ln")),
        ("visual", dict(name=enc, width=v["width"], sigmoid=False)),
    ])
    wm["optimizor"] = dict(name="Adam", lr=0.0003)
    if v["discrete"]:
        wm["state_dim"] = [v["deter"], v["discrete"][0], v["discrete"][1]]
        wm["state_distribution"] = "discrete"
    else:
        wm["state_dim"] = [v["deter"], v["stoch"]]
    wm["hidden_size"] = v["hidden"]
    wm["hidden_layers"] = 3 if enc == "dreamer_resnet" else 2  # unused by the transition (P9)
    wm["norm"] = "ln"

    if v["env"] == "metaworld":
        env = collections.OrderedDict([
            ("class", "metaworld"), ("name", "${env.embodiment}-${env.task}"),
            ("embodiment", "mw"), ("task", "door-open"), ("action_repeat", 2), ("render", False),
            ("size", [64, 64]),
            ("sensors", collections.OrderedDict([
                ("image", dict(modility="visual", order="first", type="external")),
                ("state", dict(modility="tabular", order="first")),
            ])),
        ])
        dataset = "synthetic-golden-" + name
    else:
        env = collections.OrderedDict([
            ("class", "dmc"), ("name", "${env.embodiment}-${env.task}"), ("embodiment", "walker"),
            ("task", "walk"), ("supported_tasks", ["stand", "walk", "run"]),
            ("action_repeat", 2), ("render", False), ("size", [64, 64]),
            ("sensors", collections.OrderedDict([
                ("image", dict(modility="visual", order="first", type="external")),
                ("orientations", dict(modility="tabular", order="first")),
                ("height", dict(modility="tabular", order="first")),
                ("velocity", dict(modility="tabular", order="second")),
            ])),
        ])
        dataset = "synthetic-golden-" + name
    cfg = collections.OrderedDict()
    cfg["seed"] = v["seed"]
    cfg["embodiment_dataset_name"] = dataset
    cfg["log_name"] = ("${embodiment_dataset_name}/${environment_setup}/${world_model.name}/"
                       "action_free=${action_free}/${seed}/${now:%Y-%m-%d-%H-%M-%S}")
    cfg["horizon"] = 50
    cfg["batch_size"] = 50
    cfg["batch_per_epoch"] = 100
    cfg["checkpoint_period"] = None
    cfg["epoch"] = 0
    cfg["max_num_trajectories"] = None
    cfg["use_reward"] = v["reward"] is not None
    cfg["use_probe"] = False
    cfg["pretrained_model_name"] = None
    cfg["use_fp16"] = False
    cfg["grad_clip"] = 100.0
    cfg["environment_setup"] = "visual"
    cfg["action_free"] = act_free
    cfg["runtime"] = dict(name="local")
    cfg["data"] = dict(dataset=dict(lazy=True), dataloader=dict(num_workers=4))
    cfg["env"] = env
    cfg["world_model"] = wm
    cfg["version"] = dict(version=2.0)
    return cfg


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(collections.OrderedDict,
                        lambda d, data: d.represent_dict(data.items()))


def dump_config(cfg):
    # OmegaConf uses PyYAML block style with insertion order and indentless lists, like this.
    return yaml.dump(cfg, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True)


# --------------------------------------------------------------------------------------------------
# Random but well-scaled weights

def init_weights(model, gen):
    """N(0, g^2/fan_in) weights (g ~ 1.3), N(0, 0.1^2) biases, norm gains 1 +- 0.2.

    PyTorch's default init shrinks activations layer by layer; these keep them O(1) so every
    nonlinearity is exercised. The image decoders' last layer is scaled down so the mean image
    stays roughly in [0, 1]."""

    def normal(shape, std):
        return torch.randn(shape, generator=gen) * std

    for mname, m in model.named_modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            fan_in = m.weight[0].numel()
            m.weight.data = normal(m.weight.shape, 1.3 / math.sqrt(fan_in))
            m.bias.data = normal(m.bias.shape, 0.1)
        elif isinstance(m, nn.ConvTranspose2d):
            cin, _, k, _ = m.weight.shape
            s = m.stride[0]
            fan_in = cin * (k / s) ** 2  # inputs reaching one output pixel
            m.weight.data = normal(m.weight.shape, 1.3 / math.sqrt(fan_in))
            m.bias.data = normal(m.bias.shape, 0.1)
        elif isinstance(m, (nn.LayerNorm, nn.InstanceNorm2d)) and m.weight is not None:
            m.weight.data = 1 + normal(m.weight.shape, 0.2)
            m.bias.data = normal(m.bias.shape, 0.2)
    for dec in model.decoders.values():
        if isinstance(dec, (rssmo_ref.CNNDecoderHa, rssmo_ref.DreamerResnetDecoder)):
            last = [m for m in dec.modules() if isinstance(m, nn.ConvTranspose2d)][-1]
            # raw+0.5 decoders need small raw outputs; a sigmoid decoder wants its full range.
            scale = 1.0 if dec.sigmoid else 0.25
            if isinstance(dec, rssmo_ref.DreamerResnetDecoder):
                scale *= 0.4  # InstanceNorm+SiLU feed it O(1) inputs
            last.weight.data *= scale
            last.bias.data *= scale
    if model.discrete:
        # Wider logits make clear argmaxes, so the one-hot states are robust (see MIN_ARGMAX_GAP).
        for net in (model.prior_net, model.posterior_net):
            net.net[3].weight.data *= 2


def build_variant(v):
    dec = collections.OrderedDict()
    # Absent key -> class default: cnn_ha True, dreamer_resnet False (spec 1.7 step 5).
    sig = (v["encoder"] == "cnn_ha") if v["sigmoid"] is None else v["sigmoid"]
    dec["image"] = dict(kind=v["encoder"], width=v["dec_width"], sigmoid=sig)
    # Head order as parse_world_model_config appends them: reward, then is_terminal (spec 1.6).
    if v["reward"]:
        dec["reward"] = dict(kind="dmlp", out=1, hidden=v["reward"]["hidden"],
                             layers=v["reward"]["layers"], norm="ln", act="swish")
    b = v["binary"]
    dec["is_terminal"] = dict(kind="binary", hidden=b["hidden"], layers=b["layers"],
                              norm=b["norm"], act=b["act"] or "elu")
    min_std = rssmo_ref.GLOBAL_MIN_STD if v["min_std"] is None else v["min_std"]
    model = rssmo_ref.RSSMO(v["deter"], v["stoch"], v["hidden"], v["action_dim"],
                            (v["encoder"], v["width"]), dec, min_std, discrete=v["discrete"])
    gen = torch.Generator().manual_seed(v["seed"])
    init_weights(model, gen)
    return model.eval()


# --------------------------------------------------------------------------------------------------
# Input sequences: smooth synthetic frames (gradient background, soft moving disc and square)

def make_sequence(v, rng):
    T = v["T"]
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float64) / 63.0
    bg0 = rng.uniform(0.1, 0.5, 3)
    bg1 = rng.uniform(0.3, 0.8, 3)
    c_disc = rng.uniform(0.5, 1.0, 3)
    c_sq = rng.uniform(0.0, 0.6, 3)
    p = rng.uniform(0.3, 0.7, 2)
    vel = rng.uniform(-0.06, 0.06, 2)
    q = rng.uniform(0.25, 0.75, 2)
    images = np.empty((T, 64, 64, 3), np.uint8)
    for t in range(T):
        w = (0.5 + 0.5 * np.sin(0.4 * t)) * xx + 0.5 * yy
        img = bg0 + (bg1 - bg0) * w[..., None] / 1.5
        p = p + vel
        vel = np.where((p < 0.15) | (p > 0.85), -vel, vel)
        r2 = (xx - p[0]) ** 2 + (yy - p[1]) ** 2
        disc = 1 / (1 + np.exp((np.sqrt(r2) - 0.16) / 0.02))
        img = img * (1 - disc[..., None]) + c_disc * disc[..., None]
        qt = q + 0.1 * np.array([np.cos(0.5 * t), np.sin(0.5 * t)])
        sx = 1 / (1 + np.exp((np.abs(xx - qt[0]) - 0.1) / 0.015))
        sy = 1 / (1 + np.exp((np.abs(yy - qt[1]) - 0.1) / 0.015))
        sq = (sx * sy)[..., None]
        img = img * (1 - 0.8 * sq) + c_sq * 0.8 * sq
        images[t] = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)
    seq = collections.OrderedDict(image=images)
    if v["action_dim"]:
        act = rng.uniform(-1, 1, (T, v["action_dim"])).astype(np.float32)
        act[0] = 0  # env reset: no action before frame 0
        seq["pre_action"] = act
    first = np.zeros(T, bool)
    first[v["first"]] = True
    term = np.zeros(T, bool)
    term[v["terminal"]] = True
    seq["is_first"] = first
    seq["is_terminal"] = term
    if v["reward"]:
        seq["reward"] = rng.uniform(0, 1, T).astype(np.float32)
    return seq


def argmax_gap(logits, groups, classes):
    x = np.sort(logits.reshape(-1, groups, classes), axis=-1)
    return float(np.min(x[..., -1] - x[..., -2]))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_variant(out_root, name, v):
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    # Discrete goldens must not sit on an argmax knife edge: bump the seed until every gap is wide.
    for attempt in range(50):
        seed = v["seed"] + 1000 * attempt
        vv = dict(v, seed=seed)
        model = build_variant(vv)
        seq = make_sequence(vv, np.random.default_rng(seed))
        args = vv["rollout"] or (None, None)
        out = rssmo_ref.filter_sequence(model, seq, *args)
        gap = None
        if vv["discrete"]:
            g, k = vv["discrete"]
            keys = ["posterior_logits", "prior_logits"]
            gap = min(argmax_gap(out[kk], g, k) for kk in keys)
            # the rollout's argmax is taken on prior logits we do not output; recompute them
            gap = min(gap, rollout_prior_gap(model, seq, args, g, k))
            if gap < MIN_ARGMAX_GAP:
                continue
        break
    else:
        raise RuntimeError(f"{name}: no seed with argmax gaps >= {MIN_ARGMAX_GAP}")

    cfg = make_config(name, vv)
    with open(os.path.join(d, "config.yaml"), "w") as f:
        f.write(dump_config(cfg))
    # Saved under the name model.pt, so the zip prefix is model/ as in an exported folder.
    torch.save(model.state_dict(), os.path.join(d, "model.pt"))
    with open(os.path.join(d, "source.txt"), "w") as f:
        f.write(f"generated by tools/reference/make_goldens.py ({name}, seed {seed})\n")
    np.savez_compressed(os.path.join(d, "seq.npz"), **seq)
    np.savez_compressed(os.path.join(d, "golden.npz"), **out)

    # The reference must read back exactly what we wrote (config parsing + key-shape inference).
    back = rssmo_ref.load_model(d)
    again = rssmo_ref.filter_sequence(back, rssmo_ref.load_sequence(os.path.join(d, "seq.npz")),
                                      *args)
    for k in out:
        if not np.array_equal(out[k], again[k]):
            raise RuntimeError(f"{name}: reloaded model differs on {k}")

    meta = collections.OrderedDict()
    meta["variant"] = name
    meta["about"] = vv["about"]
    meta["seed"] = seed
    meta["generator"] = "tools/reference/make_goldens.py"
    meta["reference"] = "tools/reference/rssmo_ref.py (checked against the original code's "\
                        "shared-walker golden by tools/reference/check_shared.py)"
    meta["torch"] = torch.__version__
    meta["numpy"] = np.__version__
    meta["threads"] = torch.get_num_threads()
    meta["model_pt_sha256"] = sha256(os.path.join(d, "model.pt"))
    meta["config_yaml_sha256"] = sha256(os.path.join(d, "config.yaml"))
    meta["input_sha256"] = sha256(os.path.join(d, "seq.npz"))
    meta["dims"] = dict(deter=model.deter_dim, stoch=model.stoch_dim,
                        hidden=vv["hidden"], action=model.action_dim,
                        emb=model.encoders["image"].out_dim, feature=model.feature_dim,
                        groups_classes=list(vv["discrete"]) if vv["discrete"] else None,
                        min_std=model.min_std, encoder=vv["encoder"], width=vv["width"],
                        decoder_width=vv["dec_width"],
                        image_sigmoid=model.decoder_specs["image"]["sigmoid"])
    meta["decoders"] = list(model.decoder_specs)
    meta["params"] = int(sum(p.numel() for p in model.parameters()))
    meta["input_shapes"] = {k: f"{a.shape} {a.dtype}" for k, a in seq.items()}
    meta["rollout_start"], meta["rollout_horizon"] = args
    meta["outputs"] = {k: f"{a.shape} {a.dtype}" for k, a in out.items()}
    meta["elbo_decomposition"] = " + ".join(k for k in out if k.endswith("_loglik")) + " - kl"
    if gap is not None:
        meta["min_argmax_gap"] = gap
    meta["stats"] = {k: dict(min=float(a.min()), max=float(a.max()), std=float(a.std()))
                     for k, a in out.items()}
    with open(os.path.join(d, "golden.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    return meta


def rollout_prior_gap(model, seq, args, g, k):
    """Smallest top-2 gap of the prior logits behind the discrete rollout's argmax."""
    n, h = args
    if n is None:
        return float("inf")
    sub = {kk: vv[:n] for kk, vv in seq.items()}
    st = rssmo_ref.filter_sequence(model, sub)
    deter = torch.from_numpy(st["deter"][-1:])
    stoch = torch.from_numpy(st["stoch"][-1:])
    act = seq.get("pre_action")
    gap = float("inf")
    with torch.no_grad():
        for t in range(n, n + h):
            a = torch.from_numpy(act[t:t + 1]) if act is not None else torch.zeros(1, 0)
            deter, stoch, logits = model.prior_step(a, deter, stoch)
            gap = min(gap, argmax_gap(logits.numpy(), g, k))
    return gap


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "model", "testdata", "golden"))
    ap.add_argument("--only", default=None, help="write only this variant")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name, v in variant_table().items():
        if args.only and name != args.only:
            continue
        meta = write_variant(os.path.normpath(args.out), name, v)
        s = meta["stats"]
        print(json.dumps(dict(variant=name, seed=meta["seed"], params=meta["params"],
                              kl=[round(s["kl"]["min"], 3), round(s["kl"]["max"], 3)],
                              elbo=[round(s["elbo"]["min"], 2), round(s["elbo"]["max"], 2)],
                              recon=[round(s["recon"]["min"], 3), round(s["recon"]["max"], 3)],
                              deter_std=round(s["deter"]["std"], 3),
                              gap=meta.get("min_argmax_gap"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
