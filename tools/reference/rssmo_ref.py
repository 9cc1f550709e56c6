#!/usr/bin/python3
"""Independent PyTorch reference of the AIME-NoB RSSMO world model.

Written from /work/shared/spec/rssmo.md (sections 1.7, 2, 3, 4 and the pitfalls in 7), not from the
original code. It owns three things:

* the module tree (`RSSMO`) whose state_dict keys and shapes are exactly those of an original
  `model.pt`, so one definition both loads real checkpoints (strict) and writes new ones
  (make_goldens.py);
* `load_model(dir)`: build that tree from a model folder (`config.yaml` + `model.pt`), taking every
  dimension from the tensor shapes and only the layer kinds, activations, `min_std` and `sigmoid` from
  the config;
* `filter_sequence(...)` and the `filter` CLI, which mirror the contract of `rssmd filter`
  (deterministic path: posterior mean while filtering, prior mean while rolling out).

Run it with Debian's interpreter: /usr/bin/python3 (torch 1.13, numpy, PyYAML).
"""

import argparse
import collections
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The repo's global MIN_STD: used when world_model.min_std is null (spec 1.7 step 4).
GLOBAL_MIN_STD = 1e-6
# float32 machine epsilon, PyTorch's clamp for probabilities (spec 2.9 and 3.7).
PROB_EPS = float(np.finfo(np.float32).eps)


class ModelError(Exception):
    """A model folder or input that the reference cannot handle; the CLI prints it and exits 1."""


# --------------------------------------------------------------------------------------------------
# Building blocks (spec 2.1)

def make_activation(name):
    name = (name or "elu").lower()
    table = {
        "elu": nn.ELU,
        "relu": nn.ReLU,
        "swish": nn.SiLU,
        "silu": nn.SiLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "leakyrelu": nn.LeakyReLU,
        "gelu": nn.GELU,
    }
    if name not in table:
        raise ModelError(f"unknown activation {name!r}")
    return table[name]()


class MLP(nn.Module):
    """The repo's MLP: [Linear, (LayerNorm), act] x layers, then optionally Linear head + out act.

    Parameterless modules take Sequential indices too, which fixes the key numbering (P23)."""

    def __init__(self, in_dim, out_dim, hidden, layers, norm=None, act="elu", have_head=True,
                 out_act=None):
        super().__init__()
        mods = []
        d = in_dim
        for _ in range(layers):
            mods.append(nn.Linear(d, hidden))
            if norm == "ln":
                mods.append(nn.LayerNorm(hidden))  # eps 1e-5, affine
            mods.append(make_activation(act))
            d = hidden
        if have_head:
            mods.append(nn.Linear(d, out_dim if out_dim is not None else hidden))
            mods.append(out_act if out_act is not None else nn.Identity())
        self.net = nn.Sequential(*mods)

    def forward(self, x):
        return self.net(x)


class LNGRUCell(nn.Module):
    """Non-standard GRU (P5): one Linear on [x, h], one LayerNorm over all 3H, gates [z, r, c]."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.input_layer = nn.Linear(input_size + hidden_size, 3 * hidden_size)
        self.norm = nn.LayerNorm(3 * hidden_size)

    def forward(self, x, h):
        g = self.norm(self.input_layer(torch.cat([x, h], dim=-1)))
        z, r, c = torch.split(g, self.hidden_size, dim=-1)
        z = torch.sigmoid(z)
        r = torch.sigmoid(r)
        cand = torch.tanh(r * c)
        return (1 - z) * cand + z * h


class CNNEncoderHa(nn.Module):
    """cnn_ha: 4 stride-2 k4 convs, no padding, no input shift, no ReLU after the last (P1, P2)."""

    def __init__(self, width):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(3, w, 4, 2), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 4, 2), nn.ReLU(),
            nn.Conv2d(2 * w, 4 * w, 4, 2), nn.ReLU(),
            nn.Conv2d(4 * w, 8 * w, 4, 2), nn.Flatten(),
        )
        self.out_dim = 32 * w

    def forward(self, x):
        return self.net(x)


class CNNDecoderHa(nn.Module):
    """cnn_ha decoder: Linear -> [32w,1,1] -> ConvT k5,5,6,6 s2 (P3); mean = raw+0.5 or sigmoid (P4)."""

    def __init__(self, feature_dim, width, sigmoid):
        super().__init__()
        w = width
        self.sigmoid = sigmoid
        self.net = nn.Sequential(
            nn.Linear(feature_dim, 32 * w), nn.Unflatten(-1, (32 * w, 1, 1)),
            nn.ConvTranspose2d(32 * w, 4 * w, 5, 2), nn.ReLU(),
            nn.ConvTranspose2d(4 * w, 2 * w, 5, 2), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 6, 2), nn.ReLU(),
            nn.ConvTranspose2d(w, 3, 6, 2),
        )

    def forward(self, feature):
        raw = self.net(feature)
        return torch.sigmoid(raw) if self.sigmoid else raw + 0.5


class DreamerResnetEncoder(nn.Module):
    """dreamer_resnet encoder: x-0.5, then per stage Conv k4 s2 p1, affine InstanceNorm, SiLU (2.8)."""

    def __init__(self, width, stages=4):
        super().__init__()
        mods = []
        cin = 3
        for i in range(stages):
            cout = width * 2 ** i
            mods += [nn.Conv2d(cin, cout, 4, 2, 1), nn.InstanceNorm2d(cout, affine=True), nn.SiLU()]
            cin = cout
        self.net = nn.Sequential(*mods)
        self.out_dim = cin * 4 * 4

    def forward(self, x):
        return torch.flatten(self.net(x - 0.5), start_dim=1)


class DreamerResnetDecoder(nn.Module):
    """dreamer_resnet decoder: Linear -> [8w,4,4] -> (ConvT k4 s2 p1, IN no affine, SiLU) x3 -> ConvT."""

    def __init__(self, feature_dim, width, sigmoid, stages=4):
        super().__init__()
        self.sigmoid = sigmoid
        c = width * 2 ** (stages - 1)
        mods = [nn.Linear(feature_dim, c * 16), nn.Unflatten(-1, (c, 4, 4))]
        for _ in range(stages - 1):
            mods += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.InstanceNorm2d(c // 2), nn.SiLU()]
            c //= 2
        mods.append(nn.ConvTranspose2d(c, 3, 4, 2, 1))
        self.net = nn.Sequential(*mods)

    def forward(self, feature):
        raw = self.net(feature)
        return torch.sigmoid(raw) if self.sigmoid else raw + 0.5


class BinaryDecoder(nn.Module):
    """MLPBinaryDecoder: prob_net MLP with Sigmoid output; keys decoders.<name>.prob_net.net.*"""

    def __init__(self, feature_dim, hidden, layers, norm, act):
        super().__init__()
        self.prob_net = MLP(feature_dim, 1, hidden, layers, norm, act, out_act=nn.Sigmoid())

    def forward(self, feature):
        return self.prob_net(feature)


class DeterministicDecoder(nn.Module):
    """MLPDeterministicDecoder (dmlp): Normal(MLP(feature), 1); keys decoders.<name>.net.net.*"""

    def __init__(self, feature_dim, out_dim, hidden, layers, norm, act):
        super().__init__()
        self.net = MLP(feature_dim, out_dim, hidden, layers, norm, act)

    def forward(self, feature):
        return self.net(feature)


# --------------------------------------------------------------------------------------------------
# The world model (spec 2.2, 2.6, 2.9, 3)

class RSSMO(nn.Module):
    """RSSMO with the original attribute names, so state_dict() gives the original keys.

    dims: deter, stoch (flat), hidden, action, groups/classes (discrete only), min_std.
    encoder: ('cnn_ha' | 'dreamer_resnet', width). decoders: OrderedDict name -> spec dict."""

    def __init__(self, deter, stoch, hidden, action_dim, encoder, decoders, min_std,
                 discrete=None):
        super().__init__()
        self.deter_dim = deter
        self.stoch_dim = stoch
        self.action_dim = action_dim
        self.min_std = min_std
        self.discrete = discrete  # None or (groups, classes)
        # Buffers first: the root's own buffers precede its children in state_dict (spec 1.2).
        self.register_buffer("initial_memory", torch.zeros(1, deter))
        self.register_buffer("initial_state", torch.zeros(1, stoch))

        kind, width = encoder
        if kind == "cnn_ha":
            enc = CNNEncoderHa(width)
        elif kind == "dreamer_resnet":
            enc = DreamerResnetEncoder(width)
        else:
            raise ModelError(f"unsupported visual encoder {kind!r}")
        self.encoders = nn.ModuleDict({"image": enc})
        emb = enc.out_dim
        feature = deter + stoch
        self.feature_dim = feature

        decs = collections.OrderedDict()
        for name, d in decoders.items():
            if d["kind"] == "cnn_ha":
                decs[name] = CNNDecoderHa(feature, d["width"], d["sigmoid"])
            elif d["kind"] == "dreamer_resnet":
                decs[name] = DreamerResnetDecoder(feature, d["width"], d["sigmoid"])
            elif d["kind"] == "binary":
                decs[name] = BinaryDecoder(feature, d["hidden"], d["layers"], d["norm"], d["act"])
            elif d["kind"] == "dmlp":
                decs[name] = DeterministicDecoder(feature, d["out"], d["hidden"], d["layers"],
                                                  d["norm"], d["act"])
            else:
                raise ModelError(f"unsupported decoder kind {d['kind']!r} for {name!r}")
        self.decoder_specs = decoders
        self.decoders = nn.ModuleDict(decs)

        head_out = stoch if discrete else 2 * stoch
        # Transition MLPs: always one hidden layer, LayerNorm, SiLU (P9).
        self.pre_memory = MLP(stoch + action_dim, None, hidden, 1, "ln", "swish", have_head=False)
        self.memory_cell = LNGRUCell(hidden, deter)
        self.prior_net = MLP(deter, head_out, hidden, 1, "ln", "swish")
        self.posterior_net = MLP(deter + emb, head_out, hidden, 1, "ln", "swish")

    # -- distributions -----------------------------------------------------------------------

    def head_stats(self, out):
        """Continuous: (mean, std) with std = 2*sigmoid(raw/2) + min_std (P8). Discrete: logits."""
        if self.discrete:
            return out
        mean, raw = torch.split(out, self.stoch_dim, dim=-1)
        return mean, 2 * torch.sigmoid(raw / 2) + self.min_std

    def mode(self, stats):
        """Deterministic stoch: Gaussian mean, or one-hot argmax per group (ties to first index)."""
        if not self.discrete:
            return stats[0]
        g, k = self.discrete
        logits = stats.reshape(*stats.shape[:-1], g, k)
        idx = torch.argmax(logits, dim=-1)  # torch returns the first maximal index
        return F.one_hot(idx, k).to(stats.dtype).reshape(stats.shape)

    def kl(self, post, prior):
        """KL(q||p) summed over stoch dims (continuous) or over groups (discrete), shape [B]."""
        if not self.discrete:
            q = torch.distributions.Normal(*post)
            p = torch.distributions.Normal(*prior)
            return torch.distributions.kl_divergence(q, p).sum(-1)
        g, k = self.discrete
        # Categorical(probs=softmax(.)) semantics: logs of probs clamped to [eps, 1-eps] (P21).
        qp = torch.softmax(post.reshape(*post.shape[:-1], g, k), -1)
        pp = torch.softmax(prior.reshape(*prior.shape[:-1], g, k), -1)
        q = torch.distributions.OneHotCategorical(probs=qp)
        p = torch.distributions.OneHotCategorical(probs=pp)
        return torch.distributions.kl_divergence(q, p).sum(-1)

    # -- steps (spec 3.2, 3.3) ---------------------------------------------------------------

    def encode(self, image):
        return self.encoders["image"](image)

    def transition(self, deter, stoch, action):
        x = self.pre_memory(torch.cat([stoch, action], dim=-1))
        return self.memory_cell(x, deter)

    def posterior_step(self, image, action, deter, stoch, is_first):
        keep = 1 - is_first
        deter, stoch = deter * keep, stoch * keep  # reset zeroes the state, GRU still runs (P11)
        emb = self.encode(image)
        h = self.transition(deter, stoch, action)
        prior = self.head_stats(self.prior_net(h))  # from the new h' (P10)
        post = self.head_stats(self.posterior_net(torch.cat([h, emb], dim=-1)))
        return h, self.mode(post), prior, post, self.kl(post, prior)

    def prior_step(self, action, deter, stoch):
        h = self.transition(deter, stoch, action)
        prior = self.head_stats(self.prior_net(h))
        return h, self.mode(prior), prior

    def feature(self, deter, stoch):
        return torch.cat([deter, stoch], dim=-1)


# --------------------------------------------------------------------------------------------------
# Loading a model folder (spec 1.7)

def read_config(model_dir):
    path = os.path.join(model_dir, "config.yaml")
    try:
        import yaml
    except ImportError as e:
        raise ModelError("PyYAML is needed to read config.yaml (apt install python3-yaml)") from e
    try:
        with open(path) as f:
            cfg = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise ModelError(f"read {path}: {e}") from e
    if not isinstance(cfg, dict) or not isinstance(cfg.get("world_model"), dict):
        raise ModelError(f"{path}: no world_model section")
    return cfg


def _mlp_layout(sd, prefix):
    """Linear indices and whether LayerNorms are present in an MLP's Sequential, from its keys."""
    linears, norms = [], []
    for key, t in sd.items():
        if key.startswith(prefix) and key.endswith(".weight"):
            idx = int(key[len(prefix):].split(".")[0])
            (linears if t.dim() == 2 else norms).append(idx)
    return sorted(linears), bool(norms)


def build_from_state_dict(sd, cfg):
    wm = cfg["world_model"]
    need = ["initial_memory", "initial_state", "pre_memory.net.0.weight", "prior_net.net.3.weight",
            "posterior_net.net.0.weight", "encoders.image.net.0.weight"]
    for k in need:
        if k not in sd:
            raise ModelError(f"checkpoint lacks {k}")
    deter = sd["initial_memory"].shape[1]
    stoch = sd["initial_state"].shape[1]
    hidden, pm_in = sd["pre_memory.net.0.weight"].shape
    action_dim = pm_in - stoch
    if action_dim < 0:
        raise ModelError(f"pre_memory input {pm_in} is smaller than stoch {stoch}")
    head_out = sd["prior_net.net.3.weight"].shape[0]
    dist = wm.get("state_distribution") or "continuous"
    if head_out == 2 * stoch:
        discrete = None
        if dist != "continuous":
            raise ModelError(f"config says {dist} states but prior head has 2*stoch outputs")
    elif head_out == stoch:
        sdim = wm.get("state_dim")
        if dist != "discrete" or not isinstance(sdim, list) or len(sdim) != 3:
            raise ModelError("discrete-shaped heads need state_distribution: discrete and "
                             "state_dim [deter, groups, classes]")
        discrete = (int(sdim[1]), int(sdim[2]))
        if discrete[0] * discrete[1] != stoch:
            raise ModelError(f"groups*classes {discrete} != stoch {stoch}")
    else:
        raise ModelError(f"prior head width {head_out} fits neither 2*{stoch} nor {stoch}")
    if any(k.startswith("encoders.") and not k.startswith("encoders.image.") for k in sd):
        raise ModelError("only the visual 'image' encoder is supported (no tabular inputs)")

    enc_kind = "dreamer_resnet" if "encoders.image.net.1.weight" in sd else "cnn_ha"
    enc_cfg = (wm.get("encoders") or {}).get("visual") or {}
    if enc_cfg.get("name", enc_kind) != enc_kind:
        raise ModelError(f"config encoder {enc_cfg.get('name')!r} but checkpoint looks {enc_kind}")
    width = sd["encoders.image.net.0.weight"].shape[0]

    min_std = wm.get("min_std", 0.1)
    min_std = GLOBAL_MIN_STD if min_std is None else float(min_std)

    dec_cfgs = wm.get("decoders") or {}
    names = []
    for k in sd:
        if k.startswith("decoders."):
            n = k.split(".")[1]
            if n not in names:
                names.append(n)
    decoders = collections.OrderedDict()
    for n in names:
        p = f"decoders.{n}."
        if p + "prob_net.net.0.weight" in sd:
            c = dec_cfgs.get("binary") or {}
            lin, norm = _mlp_layout(sd, p + "prob_net.net.")
            decoders[n] = dict(kind="binary", hidden=sd[p + "prob_net.net.0.weight"].shape[0],
                               layers=len(lin) - 1, norm="ln" if norm else None,
                               act=c.get("hidden_activation", "elu"))
            if (c.get("norm") == "ln") != norm:
                raise ModelError(f"{n}: config norm {c.get('norm')!r} disagrees with checkpoint")
        elif p + "net.net.0.weight" in sd:
            c = dec_cfgs.get("tabular") or {}
            lin, norm = _mlp_layout(sd, p + "net.net.")
            decoders[n] = dict(kind="dmlp", hidden=sd[p + "net.net.0.weight"].shape[0],
                               layers=len(lin) - 1, norm="ln" if norm else None,
                               act=c.get("hidden_activation", "elu"),
                               out=sd[f"{p}net.net.{lin[-1]}.weight"].shape[0])
        elif n == "image":
            c = dec_cfgs.get("visual") or {}
            kind = c.get("name", "cnn_ha")
            # Class defaults when the key is absent: cnn_ha sigmoid=True, dreamer_resnet False (1.7).
            sig = c.get("sigmoid", kind == "cnn_ha")
            if kind not in ("cnn_ha", "dreamer_resnet"):
                raise ModelError(f"unsupported visual decoder {kind!r}")
            # Both decoders' first ConvT outputs 4w channels: [32w, 4w, 5, 5] or [8w, 4w, 4, 4].
            dwidth = sd[p + "net.2.weight"].shape[1] // 4
            decoders[n] = dict(kind=kind, width=dwidth, sigmoid=bool(sig))
        else:
            raise ModelError(f"cannot tell the kind of decoder {n!r} from its keys")

    model = RSSMO(deter, stoch, hidden, action_dim, (enc_kind, width), decoders, min_std,
                  discrete=discrete)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        raise ModelError(f"checkpoint does not match the architecture read from it: {e}") from e
    if bool(cfg.get("action_free")) != (action_dim == 0):
        raise ModelError(f"config action_free={cfg.get('action_free')} but action dim {action_dim}")
    return model.eval()


def load_model(model_dir):
    cfg = read_config(model_dir)
    path = os.path.join(model_dir, "model.pt")
    try:
        sd = torch.load(path, map_location="cpu")
    except (OSError, RuntimeError) as e:
        raise ModelError(f"load {path}: {e}") from e
    return build_from_state_dict(sd, cfg)


# --------------------------------------------------------------------------------------------------
# The filter contract

def _head_loglik(model, name, out, target):
    """Per-frame log-likelihood without Gaussian constants (spec 3.7), shape [B]."""
    kind = model.decoder_specs[name]["kind"]
    if kind == "binary":
        p = out.clamp(PROB_EPS, 1 - PROB_EPS)
        logit = torch.log(p) - torch.log1p(-p)
        return -F.binary_cross_entropy_with_logits(logit, target, reduction="none").sum(-1)
    # Normal with std 1: -0.5*(x-mu)^2 - log(1).
    return (-0.5 * (target - out) ** 2).flatten(1).sum(-1)


def _loglik_key(name):
    return {"image": "recon_loglik", "is_terminal": "terminal_loglik"}.get(name, name + "_loglik")


def load_sequence(path):
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise ModelError(f"read {path}: {e}") from e


def filter_sequence(model, seq, rollout_start=None, rollout_horizon=None):
    """Run the rssmd filter contract on a loaded sequence dict; returns name -> float32 array."""
    if "image" not in seq:
        raise ModelError("input has no 'image'")
    img = seq["image"]
    if img.dtype != np.uint8 or img.ndim != 4 or img.shape[1:] != (64, 64, 3):
        raise ModelError(f"image must be uint8 (T,64,64,3), got {img.dtype} {img.shape}")
    T = img.shape[0]
    A = model.action_dim
    act = seq.get("pre_action")
    if act is None:
        act = np.zeros((T, 0), np.float32)
    act = np.asarray(act, np.float32)
    if act.ndim != 2 or act.shape[0] != T:
        raise ModelError(f"pre_action must be (T={T}, A), got {act.shape}")
    if act.shape[1] != A:
        raise ModelError(f"pre_action has {act.shape[1]} columns, model action dim is {A}")

    def flag(name):
        v = seq.get(name)
        if v is None:
            return np.zeros(T, np.float32)
        v = np.asarray(v, np.float32).reshape(-1)
        if v.shape[0] != T:
            raise ModelError(f"{name} must have T={T} rows, got {v.shape}")
        return v

    is_first = flag("is_first")
    if rollout_start is None:
        if rollout_horizon:
            raise ModelError("--rollout-horizon needs --rollout-start")
        N, K = T, 0
    else:
        N, K = int(rollout_start), int(rollout_horizon or 0)
        if N < 1 or K < 1 or N + K > T:
            raise ModelError(f"rollout start {N} horizon {K} must satisfy 1<=N, 1<=K, N+K<={T}")

    # Targets for heads: is_terminal defaults to zeros; other non-image heads need their key.
    targets = {}
    for name in model.decoder_specs:
        if name == "image":
            continue
        if name == "is_terminal":
            targets[name] = flag("is_terminal").reshape(T, 1)
        elif name in seq:
            v = np.asarray(seq[name], np.float32).reshape(T, -1)
            targets[name] = v

    x = torch.from_numpy(img).float().div(255.0).permute(0, 3, 1, 2).contiguous()
    a = torch.from_numpy(act)
    firsts = torch.from_numpy(is_first).reshape(T, 1)
    deter = model.initial_memory.clone()
    stoch = model.initial_state.clone()
    rows = collections.defaultdict(list)
    with torch.no_grad():
        for t in range(N):
            deter, stoch, prior, post, kl = model.posterior_step(
                x[t:t + 1], a[t:t + 1], deter, stoch, firsts[t:t + 1])
            rows["deter"].append(deter)
            rows["stoch"].append(stoch)
            if model.discrete:
                rows["prior_logits"].append(prior)
                rows["posterior_logits"].append(post)
            else:
                rows["prior_mean"].append(prior[0])
                rows["prior_std"].append(prior[1])
                rows["posterior_mean"].append(post[0])
                rows["posterior_std"].append(post[1])
            rows["kl"].append(kl)
            feat = model.feature(deter, stoch)
            elbo = -kl
            for name, dec in model.decoders.items():
                out = dec(feat)
                if name == "image":
                    rows["recon"].append(out.permute(0, 2, 3, 1))
                    ll = _head_loglik(model, name, out, x[t:t + 1])
                elif name in targets:
                    tgt = torch.from_numpy(targets[name][t:t + 1])
                    ll = _head_loglik(model, name, out, tgt)
                else:
                    continue
                rows[_loglik_key(name)].append(ll)
                elbo = elbo + ll
            rows["elbo"].append(elbo)
        for t in range(N, N + K):
            # Discrete: the original raises here; we use the one-hot argmax of the prior (P12).
            deter, stoch, _ = model.prior_step(a[t:t + 1], deter, stoch)
            rows["rollout_deter"].append(deter)
            rows["rollout_stoch"].append(stoch)
            img_out = model.decoders["image"](model.feature(deter, stoch))
            rows["rollout_image"].append(img_out.permute(0, 2, 3, 1))
    return {k: torch.cat(v, 0).numpy().astype(np.float32) for k, v in rows.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    fp = sub.add_parser("filter", help="filter a sequence (rssmd filter contract)")
    fp.add_argument("--model", required=True, help="model folder (config.yaml + model.pt)")
    fp.add_argument("--in", dest="inp", required=True, help="input sequence .npz")
    fp.add_argument("--out", required=True, help="output .npz")
    fp.add_argument("--rollout-start", type=int, default=None)
    fp.add_argument("--rollout-horizon", type=int, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # reproducible reductions, like the original golden run
    try:
        model = load_model(args.model)
        out = filter_sequence(model, load_sequence(args.inp), args.rollout_start,
                              args.rollout_horizon)
        np.savez_compressed(args.out, **out)
    except ModelError as e:
        print(f"rssmo_ref: {e}", file=sys.stderr)
        return 1
    print(json.dumps({k: list(v.shape) for k, v in out.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
