#!/usr/bin/python3
"""A second, independent NumPy float64 implementation, checked against every golden folder.

rssmo_ref.py is checked against the original code only on the shared walker model (cnn_ha,
continuous, with actions, ELU binary head). This script re-derives the other paths directly from the
spec with plain NumPy: the discrete KL and argmax, dreamer_resnet, dmlp heads, sigmoid and
min_std defaults, and action-free models. It shares no code with rssmo_ref.py; torch is only used to
read model.pt. When /work/shared/testdata is present it also checks itself against the original
code's shared-walker golden output. It compares its output with each model/testdata/golden/*/golden.npz using the
golden tolerances and exits 1 on a mismatch.

    /usr/bin/python3 tools/reference/crosscheck_numpy.py [GOLDEN_DIR ...]
"""

import glob
import json
import os
import sys

import numpy as np
import torch
import yaml

EPS32 = 2.0 ** -23


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTS = {
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "swish": lambda x: x * sigmoid(x),
    "silu": lambda x: x * sigmoid(x),
    "relu": lambda x: np.maximum(x, 0),
}


def layer_norm(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * g + b


def instance_norm(x, g=None, b=None):
    mu = x.mean((1, 2), keepdims=True)
    var = ((x - mu) ** 2).mean((1, 2), keepdims=True)
    y = (x - mu) / np.sqrt(var + 1e-5)
    if g is not None:
        y = y * g[:, None, None] + b[:, None, None]
    return y


def conv2d(x, w, b, s, p):
    """x [Ci,H,W], w [Co,Ci,k,k]: cross-correlation with zero padding."""
    x = np.pad(x, ((0, 0), (p, p), (p, p)))
    co, ci, k, _ = w.shape
    ho = (x.shape[1] - k) // s + 1
    wo = (x.shape[2] - k) // s + 1
    out = np.zeros((co, ho, wo))
    for ky in range(k):
        for kx in range(k):
            patch = x[:, ky:ky + s * (ho - 1) + 1:s, kx:kx + s * (wo - 1) + 1:s]
            out += np.einsum("cij,oc->oij", patch, w[:, :, ky, kx])
    return out + b[:, None, None]


def conv_transpose2d(x, w, b, s, p):
    """x [Ci,H,W], w [Ci,Co,k,k]: scatter form, then crop p on each side."""
    ci, co, k, _ = w.shape
    h, wd = x.shape[1:]
    full = np.zeros((co, (h - 1) * s + k, (wd - 1) * s + k))
    for ky in range(k):
        for kx in range(k):
            full[:, ky:ky + s * (h - 1) + 1:s, kx:kx + s * (wd - 1) + 1:s] += \
                np.einsum("cij,co->oij", x, w[:, :, ky, kx])
    ho, wo = (h - 1) * s - 2 * p + k, (wd - 1) * s - 2 * p + k
    return full[:, p:p + ho, p:p + wo] + b[:, None, None]


class Model:
    def __init__(self, d):
        with open(os.path.join(d, "config.yaml")) as f:
            self.cfg = yaml.safe_load(f)
        sd = torch.load(os.path.join(d, "model.pt"), map_location="cpu")
        self.w = {k: v.double().numpy() for k, v in sd.items()}
        wm = self.cfg["world_model"]
        self.H = self.w["initial_memory"].shape[1]
        self.S = self.w["initial_state"].shape[1]
        self.A = self.w["pre_memory.net.0.weight"].shape[1] - self.S
        self.discrete = wm.get("state_distribution") == "discrete"
        self.gk = tuple(wm["state_dim"][1:]) if self.discrete else None
        ms = wm.get("min_std", 0.1)
        self.min_std = 1e-6 if ms is None else ms
        self.enc = wm["encoders"]["visual"]["name"]
        vis = wm["decoders"]["visual"]
        self.sig = vis.get("sigmoid", vis["name"] == "cnn_ha")
        self.heads = []
        for k in self.w:
            if k.startswith("decoders."):
                n = k.split(".")[1]
                if n not in self.heads:
                    self.heads.append(n)

    def lin(self, name, x):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def mlp(self, prefix, x, act, final=None):
        """Walk a Sequential by its keys: 2-D weight = Linear, 1-D = LayerNorm, then act."""
        idx = sorted({int(k[len(prefix):].split(".")[0]) for k in self.w if k.startswith(prefix)})
        for j, i in enumerate(idx):
            name = f"{prefix}{i}"
            if self.w[name + ".weight"].ndim == 2:
                x = self.lin(name, x)
                last = j == len(idx) - 1
                nxt_is_ln = not last and self.w[f"{prefix}{idx[j + 1]}.weight"].ndim == 1
                if last:
                    return final(x) if final else x
                if not nxt_is_ln:
                    x = ACTS[act](x)
            else:
                x = ACTS[act](layer_norm(x, self.w[name + ".weight"], self.w[name + ".bias"]))
        return x

    def encode(self, img):
        x = img
        p = "encoders.image.net."
        if self.enc == "cnn_ha":
            for i, ii in enumerate([0, 2, 4, 6]):
                x = conv2d(x, self.w[f"{p}{ii}.weight"], self.w[f"{p}{ii}.bias"], 2, 0)
                if i < 3:
                    x = np.maximum(x, 0)
        else:
            x = x - 0.5
            for ii in [0, 3, 6, 9]:
                x = conv2d(x, self.w[f"{p}{ii}.weight"], self.w[f"{p}{ii}.bias"], 2, 1)
                x = ACTS["silu"](instance_norm(x, self.w[f"{p}{ii + 1}.weight"],
                                               self.w[f"{p}{ii + 1}.bias"]))
        return x.reshape(-1)

    def decode_image(self, f):
        p = "decoders.image.net."
        x = self.lin(p + "0", f)
        if self.enc == "cnn_ha":
            x = x.reshape(-1, 1, 1)
            for i, (ii, k) in enumerate(zip([2, 4, 6, 8], [5, 5, 6, 6])):
                x = conv_transpose2d(x, self.w[f"{p}{ii}.weight"], self.w[f"{p}{ii}.bias"], 2, 0)
                if i < 3:
                    x = np.maximum(x, 0)
        else:
            x = x.reshape(-1, 4, 4)
            for i, ii in enumerate([2, 5, 8, 11]):
                x = conv_transpose2d(x, self.w[f"{p}{ii}.weight"], self.w[f"{p}{ii}.bias"], 2, 1)
                if i < 3:
                    x = ACTS["silu"](instance_norm(x))
        return sigmoid(x) if self.sig else x + 0.5

    def gru(self, x, h):
        g = self.lin("memory_cell.input_layer", np.concatenate([x, h]))
        g = layer_norm(g, self.w["memory_cell.norm.weight"], self.w["memory_cell.norm.bias"])
        z, r, c = np.split(g, 3)
        z, r = sigmoid(z), sigmoid(r)
        return (1 - z) * np.tanh(r * c) + z * h

    def stats(self, out):
        if self.discrete:
            return out
        return out[:self.S], 2 * sigmoid(out[self.S:] / 2) + self.min_std

    def mode(self, st):
        if not self.discrete:
            return st[0]
        g, k = self.gk
        oh = np.zeros((g, k))
        oh[np.arange(g), st.reshape(g, k).argmax(-1)] = 1
        return oh.reshape(-1)

    def kl(self, q, p):
        if not self.discrete:
            (mq, sq), (mp, sp) = q, p
            return np.sum(np.log(sp / sq) + (sq ** 2 + (mq - mp) ** 2) / (2 * sp ** 2) - 0.5)
        g, k = self.gk

        def probs(l):
            e = np.exp(l.reshape(g, k) - l.reshape(g, k).max(-1, keepdims=True))
            return e / e.sum(-1, keepdims=True)
        pq, pp = probs(q), probs(p)
        lq = np.log(np.clip(pq, EPS32, 1 - EPS32))
        lp = np.log(np.clip(pp, EPS32, 1 - EPS32))
        return np.sum(pq * (lq - lp))

    def transition(self, h, s, a):
        x = self.mlp("pre_memory.net.", np.concatenate([s, a]), "swish")
        return self.gru(x, h)

    def head_ll(self, name, f, target):
        if name == "is_terminal":
            c = self.cfg["world_model"]["decoders"]["binary"]
            prob = self.mlp(f"decoders.{name}.prob_net.net.", f,
                            c.get("hidden_activation", "elu"), final=sigmoid)
            pc = np.clip(prob, EPS32, 1 - EPS32)
            return float(np.sum(target * np.log(pc) + (1 - target) * np.log1p(-pc)))
        c = self.cfg["world_model"]["decoders"]["tabular"]
        mu = self.mlp(f"decoders.{name}.net.net.", f, c.get("hidden_activation", "elu"))
        return float(np.sum(-0.5 * (target - mu) ** 2))

    def run(self, seq, n=None, k=0):
        img = seq["image"].astype(np.float64) / 255.0
        T = img.shape[0]
        n = T if n is None else n
        act = seq.get("pre_action", np.zeros((T, 0)))
        first = seq["is_first"].astype(np.float64)
        term = seq["is_terminal"].astype(np.float64)
        h, s = np.zeros(self.H), np.zeros(self.S)
        out = {}

        def put(key, v):
            out.setdefault(key, []).append(v)
        for t in range(n):
            h, s = h * (1 - first[t]), s * (1 - first[t])
            emb = self.encode(img[t].transpose(2, 0, 1))
            h = self.transition(h, s, act[t])
            prior = self.stats(self.mlp("prior_net.net.", h, "swish"))
            post = self.stats(self.mlp("posterior_net.net.", np.concatenate([h, emb]), "swish"))
            s = self.mode(post)
            kl = self.kl(post, prior)
            put("deter", h)
            put("stoch", s)
            if self.discrete:
                put("prior_logits", prior)
                put("posterior_logits", post)
            else:
                put("prior_mean", prior[0])
                put("prior_std", prior[1])
                put("posterior_mean", post[0])
                put("posterior_std", post[1])
            put("kl", kl)
            f = np.concatenate([h, s])
            rec = self.decode_image(f)
            put("recon", rec.transpose(1, 2, 0))
            elbo = -kl + (ll := float(np.sum(-0.5 * (img[t].transpose(2, 0, 1) - rec) ** 2)))
            put("recon_loglik", ll)
            for name in self.heads:
                if name == "image":
                    continue
                if name == "is_terminal":
                    ll = self.head_ll(name, f, term[t:t + 1])
                    put("terminal_loglik", ll)
                elif name in seq:
                    ll = self.head_ll(name, f, seq[name][t:t + 1].astype(np.float64))
                    put(name + "_loglik", ll)
                else:
                    continue
                elbo += ll
            put("elbo", elbo)
        for t in range(n, n + k):
            h = self.transition(h, s, act[t])
            s = self.mode(self.stats(self.mlp("prior_net.net.", h, "swish")))
            put("rollout_deter", h)
            put("rollout_stoch", s)
            put("rollout_image", self.decode_image(np.concatenate([h, s])).transpose(1, 2, 0))
        return {key: np.array(v) for key, v in out.items()}


def check(d, model_dir=None):
    """Compare with d/golden.npz; the model is in d itself unless model_dir is given."""
    meta = json.load(open(os.path.join(d, "golden.json")))
    if "rollout" in meta:  # the shared set's golden.json nests the rollout arguments
        meta.update(rollout_start=meta["rollout"]["rollout_start"],
                    rollout_horizon=meta["rollout"]["rollout_horizon"])
    with np.load(os.path.join(d, "seq.npz")) as z:
        seq = {k: z[k] for k in z.files}
    got = Model(model_dir or d).run(seq, meta["rollout_start"], meta["rollout_horizon"] or 0)
    ok = True
    worst = {}
    with np.load(os.path.join(d, "golden.npz")) as g:
        if set(g.files) != set(got):
            print(f"{d}: keys differ: golden {sorted(g.files)} numpy {sorted(got)}")
            ok = False
        for key in g.files:
            if key not in got:
                continue
            want, have = g[key].astype(np.float64), got[key]
            err = np.abs(want - have)
            if key in ("recon", "rollout_image"):
                e, good = err.max(), err.max() <= 1e-3
            elif key in ("kl", "elbo") or key.endswith("_loglik"):
                rel = err / np.maximum(np.abs(want), 1e-30)
                e, good = rel.max(), bool(np.all((rel <= 1e-3) | (err <= 0.05)))
            else:
                e = err.max() / max(np.abs(want).max(), 1e-30)
                good = e <= 1e-4
            worst[key] = float(e)
            ok &= bool(good)
    print(json.dumps({"golden": os.path.basename(d), "ok": ok,
                      "max_err": {k: float(f"{v:.2g}") for k, v in worst.items()}}))
    return ok


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = sys.argv[1:] or sorted(
        p for p in glob.glob(os.path.join(here, "..", "..", "model", "testdata", "golden", "*"))
        if os.path.isdir(p))
    ok = all([check(os.path.normpath(d)) for d in dirs])
    # The same NumPy code against the ORIGINAL code's output, when the shared test data is here.
    shared = os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "testdata"))
    if not sys.argv[1:] and os.path.isdir(shared):
        ok &= check(os.path.join(shared, "golden", "shared-walker"),
                    os.path.join(shared, "models", "walker-wm-synthetic"))
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
