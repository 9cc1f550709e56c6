#!/usr/bin/python3
"""Train an AIME-NoB `rssmo*` world model on episodes recorded by `rssmd sim --record`.

Every variant of the spec (2.9) can be trained, at any width:
  * the standard continuous state (`--stoch 30`), or the discrete one of `rssmo-discrete`
    (`--discrete 32x32`: one-hot stoch, straight-through samples, categorical KL);
  * the `cnn_ha` encoder/decoder (walker models) or `dreamer_resnet` (MetaWorld `rssmo-m/l/xl`,
    `--encoder dreamer_resnet`; its binary head is SiLU + LayerNorm, `--binary-layers 3`);
  * with actions, or action-free like the VIPER models (`--action-free`: action dim 0, the
    episodes' actions are ignored, `action_free: true` in config.yaml).

The model is our reference module tree (tools/reference/rssmo_ref.py), so the state_dict keys are
exactly those of an original `model.pt`; the output folder (config.yaml + model.pt + train_log.json)
is in the ORIGINAL format and loads with `rssmd filter/convert/calibrate` like a published model.

Objective (spec 3.7, "Training loss"), with the original defaults:
  loss = mean_b sum_t [ -log p(image) - log p(is_terminal) + kl_scale * KL_t ]
  * log p(image) = -0.5 * sum (x - mu)^2 over the 3x64x64 values (Normal, std 1, no constant);
  * is_terminal: Bernoulli, target 0 (the sim never terminates);
  * KL_t = sum_d KL(q || p) (discrete: sum over groups of the categorical KL, probs clamped to
    [eps, 1-eps] before the log as the original's Categorical does), computed as 0.8 KL(sg(q) || p) + 0.2 KL(q || sg(p)) (kl_rebalance), and
    free nats 1.0 on the summed KL (no gradient below it); both change gradients only;
  * posterior samples (not means) are fed forward, as in training (discrete: a one-hot draw per
    group plus probs - sg(probs), the straight-through estimator; values stay one-hot); windows of `horizon` steps at
    random offsets, each starting from the zero state.
Adam, gradient clipping at 100 (the original `grad_clip`).

Run with Debian's interpreter: /usr/bin/python3 tools/train/train_rssmo.py --data DIR --out DIR.
It checkpoints the model folder every --save-every steps (atomically), so a run can be stopped at
any time and the last folder used.
"""

import argparse
import collections
import glob
import json
import math
import os
import sys
import time
import types

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import rssmo_ref  # noqa: E402  (our own reference model definition)

PROB_EPS = rssmo_ref.PROB_EPS


def load_episodes(folder):
    files = sorted(glob.glob(os.path.join(folder, "*.npz")),
                   key=lambda p: (len(os.path.basename(p)), os.path.basename(p)))
    if not files:
        raise SystemExit(f"no .npz episodes in {folder}")
    images, actions = [], []
    for p in files:
        with np.load(p) as z:
            img, act = z["image"], z["pre_action"].astype(np.float32)
        if img.dtype != np.uint8 or img.ndim != 4 or img.shape[1:] != (64, 64, 3):
            raise SystemExit(f"{p}: image {img.dtype} {img.shape}, want uint8 (T,64,64,3)")
        if act.ndim != 2 or act.shape[0] != img.shape[0]:
            raise SystemExit(f"{p}: pre_action {act.shape} does not match {img.shape[0]} frames")
        images.append(img)
        actions.append(act)
    T = min(i.shape[0] for i in images)
    A = actions[0].shape[1]
    img = np.stack([i[:T] for i in images])  # N,T,64,64,3 uint8
    act = np.stack([a[:T] for a in actions])  # N,T,A
    return torch.from_numpy(img), torch.from_numpy(act), A


def binary_head(args):
    """is_terminal head: cnn_ha models inherit default.yaml (128 wide, 2 layers, ELU, no norm, spec
    P22); rssmo-m/l/xl configs give SiLU + LayerNorm, hidden_size wide, 3/4/5 layers (spec 2.7)."""
    if args.encoder == "dreamer_resnet":
        return dict(kind="binary", hidden=args.binary_hidden or args.hidden,
                    layers=args.binary_layers or 3, norm="ln", act="swish")
    return dict(kind="binary", hidden=args.binary_hidden or 128, layers=args.binary_layers or 2,
                norm=None, act="elu")


def _convt_as_conv(mod, x):
    """ConvTranspose2d (output_padding 0) as a conv over the stride-dilated input with the flipped,
    in/out-swapped kernel: the same function and parameters, but torch 1.13's CPU ConvTranspose2d
    (slow_conv_transpose2d) is ~5x slower than its conv2d, and the decoder dominated training."""
    s, p, k = mod.stride[0], mod.padding[0], mod.kernel_size[0]
    B, C, H, W = x.shape
    d = x.new_zeros(B, C, (H - 1) * s + 1, (W - 1) * s + 1)
    d[:, :, ::s, ::s] = x
    return F.conv2d(d, mod.weight.flip(2, 3).transpose(0, 1), mod.bias, padding=k - 1 - p)


def speed_up_decoder(model):
    """Swap every ConvTranspose2d's forward for _convt_as_conv; the state_dict is unchanged."""
    for mod in model.modules():
        if isinstance(mod, torch.nn.ConvTranspose2d):
            if mod.stride[0] != mod.stride[1] or mod.padding[0] != mod.padding[1] \
                    or tuple(mod.output_padding) != (0, 0) or mod.groups != 1:
                raise SystemExit(f"unexpected ConvTranspose2d {mod}")
            mod.forward = types.MethodType(_convt_as_conv, mod)


def build_model(args, action_dim):
    decoders = collections.OrderedDict()
    decoders["image"] = dict(kind=args.encoder, width=args.width, sigmoid=False)
    decoders["is_terminal"] = binary_head(args)
    return rssmo_ref.RSSMO(args.deter, args.stoch_flat, args.hidden, action_dim,
                           (args.encoder, args.width), decoders, args.min_std,
                           discrete=args.groups_classes)


def normal_kl(mq, sq, mp, sp):
    """KL(N(mq,sq) || N(mp,sp)) per dimension, as torch.distributions computes it."""
    r = (sq / sp) ** 2
    t = ((mq - mp) / sp) ** 2
    return 0.5 * (r + t - 1 - torch.log(r))


def categorical_kl(q_logits, p_logits, groups, classes):
    """KL(q || p) summed over groups, from logits [B, G*K]; probs clamped to [eps, 1-eps] before
    the log, as the original's Categorical(probs=softmax) does (spec P21)."""
    q = torch.softmax(q_logits.reshape(-1, groups, classes), -1)
    p = torch.softmax(p_logits.reshape(-1, groups, classes), -1)
    lq = torch.log(q.clamp(PROB_EPS, 1 - PROB_EPS))
    lp = torch.log(p.clamp(PROB_EPS, 1 - PROB_EPS))
    return (q * (lq - lp)).sum((-1, -2))


def onehot_sample(logits, groups, classes):
    """A one-hot draw per group with the straight-through gradient of the probabilities."""
    probs = torch.softmax(logits.reshape(-1, groups, classes), -1)
    idx = torch.multinomial(probs.reshape(-1, classes), 1).reshape(-1, groups)
    hard = F.one_hot(idx, classes).to(probs.dtype)
    return (hard + probs - probs.detach()).reshape(logits.shape)


def window_loss(model, img_u8, act, args):
    """img_u8: [B,L,64,64,3] uint8, act: [B,L,A]. Returns loss and metrics (per frame means)."""
    B, L = img_u8.shape[:2]
    x = img_u8.permute(0, 1, 4, 2, 3).float().div_(255.0)  # B,L,3,64,64
    emb = model.encode(x.reshape(B * L, 3, 64, 64)).reshape(B, L, -1)
    deter = torch.zeros(B, args.deter)
    stoch = torch.zeros(B, args.stoch_flat)
    feats, kls, kl_losses = [], [], []
    for t in range(L):
        h = model.transition(deter, stoch, act[:, t])
        if args.groups_classes:
            g, k = args.groups_classes
            lp = model.prior_net(h)
            lq = model.posterior_net(torch.cat([h, emb[:, t]], -1))
            stoch = onehot_sample(lq, g, k)
            kl = categorical_kl(lq, lp, g, k)
            reb = (args.kl_rebalance * categorical_kl(lq.detach(), lp, g, k)
                   + (1 - args.kl_rebalance) * categorical_kl(lq, lp.detach(), g, k))
        else:
            mp, sp = model.head_stats(model.prior_net(h))
            mq, sq = model.head_stats(model.posterior_net(torch.cat([h, emb[:, t]], -1)))
            stoch = mq + sq * torch.randn_like(sq)  # posterior sample while training (spec 3.5)
            kl = normal_kl(mq, sq, mp, sp).sum(-1)  # value of KL(q||p)
            reb = (args.kl_rebalance * normal_kl(mq.detach(), sq.detach(), mp, sp).sum(-1)
                   + (1 - args.kl_rebalance) * normal_kl(mq, sq, mp.detach(), sp.detach()).sum(-1))
        deter = h
        feats.append(torch.cat([h, stoch], -1))
        kls.append(kl)
        kl_losses.append(torch.clamp_min(reb, args.free_nats))
    feat = torch.stack(feats, 1).reshape(B * L, -1)
    mu = model.decoders["image"](feat).reshape(B, L, 3, 64, 64)
    rec_nll = 0.5 * ((x - mu) ** 2).flatten(2).sum(-1)  # B,L
    p = model.decoders["is_terminal"](feat).reshape(B, L).clamp(PROB_EPS, 1 - PROB_EPS)
    term_nll = -torch.log1p(-p)  # target is_terminal = 0
    kl = torch.stack(kls, 1)
    kl_loss = torch.stack(kl_losses, 1)
    loss = (rec_nll + term_nll + args.kl_scale * kl_loss).sum(1).mean()
    with torch.no_grad():
        mse = ((x - mu.clamp(0, 1)) ** 2).mean().item()
    m = dict(loss=loss.item() / L, rec_nll=rec_nll.mean().item(), kl=kl.mean().item(),
             term_nll=term_nll.mean().item(), psnr=10 * math.log10(1 / max(mse, 1e-10)))
    return loss, m


CONFIG_TEMPLATE = """\
seed: {seed}
embodiment_dataset_name: rssmd-sim-arm
log_name: ${{embodiment_dataset_name}}/${{environment_setup}}/${{world_model.name}}/action_free=${{action_free}}/${{seed}}
horizon: {horizon}
batch_size: {batch}
batch_per_epoch: {trained_steps}
checkpoint_period: null
epoch: 1
max_num_trajectories: null
use_reward: false
use_probe: false
pretrained_model_name: null
use_fp16: false
grad_clip: {grad_clip}
environment_setup: visual
action_free: {action_free_yaml}
runtime:
  name: local
data:
  dataset:
    lazy: false
  dataloader:
    num_workers: 0
env:
  class: rssmd_sim
  name: ${{env.embodiment}}-${{env.task}}
  embodiment: arm2
  task: explore
  action_repeat: 1
  render: false
  size:
  - 64
  - 64
  sensors:
    image:
      modility: visual
      order: first
      type: external
world_model:
  intrinsic_reward_config: {{}}
  name: rssmo
  nll_reweight: none
  idm_mode: none
  predict_emb: false
  momentum_parameter: 0.01
  min_std: {min_std}
  kl_scale: {kl_scale}
  free_nats: {free_nats}
  kl_rebalance: {kl_rebalance}
  encoders:
    tabular:
      name: mlp
      hidden_size: 512
      hidden_layers: 2
      hidden_activation: swish
      norm: ln
      have_head: false
    visual:
      name: {encoder}
      width: {width}
  decoders:
    tabular:
      name: dmlp
      hidden_size: 512
      hidden_layers: 2
      hidden_activation: swish
      norm: ln
    binary:
      name: binary
{binary_yaml}    visual:
      name: {encoder}
      width: {width}
      sigmoid: false
  optimizor:
    name: Adam
    lr: {lr}
{state_yaml}  hidden_size: {hidden}
  hidden_layers: 2
  norm: ln
version:
  version: 2.0
"""


def save_folder(model, args, step, log):
    os.makedirs(args.out, exist_ok=True)
    b = binary_head(args)
    binary_yaml = f"      hidden_size: {b['hidden']}\n      hidden_layers: {b['layers']}\n"
    if b["norm"]:  # rssmo-m/l/xl style; cnn_ha models leave the class defaults (ELU, no norm)
        binary_yaml += f"      hidden_activation: {b['act']}\n      norm: {b['norm']}\n"
    if args.groups_classes:
        g, k = args.groups_classes
        state_yaml = (f"  state_distribution: discrete\n  state_dim:\n  - {args.deter}\n"
                      f"  - {g}\n  - {k}\n")
    else:
        state_yaml = f"  state_dim:\n  - {args.deter}\n  - {args.stoch}\n"
    v = {k: x for k, x in vars(args).items() if k != "groups_classes"}
    cfg = CONFIG_TEMPLATE.format(trained_steps=step, binary_yaml=binary_yaml, state_yaml=state_yaml,
                                 action_free_yaml="true" if args.action_free else "false", **v)
    tmp = os.path.join(args.out, ".tmp")
    with open(tmp + ".yaml", "w") as f:
        f.write(cfg)
    os.replace(tmp + ".yaml", os.path.join(args.out, "config.yaml"))
    torch.save(model.state_dict(), tmp + ".pt")
    os.replace(tmp + ".pt", os.path.join(args.out, "model.pt"))
    with open(tmp + ".json", "w") as f:
        json.dump(dict(args=vars(args), step=step, log=log), f)
    os.replace(tmp + ".json", os.path.join(args.out, "train_log.json"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="folder of episodes (.npz) from rssmd sim --record")
    ap.add_argument("--out", required=True, help="model folder to write (config.yaml, model.pt)")
    ap.add_argument("--deter", type=int, default=256)
    ap.add_argument("--stoch", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--width", type=int, default=32, help="encoder/decoder width")
    ap.add_argument("--encoder", choices=["cnn_ha", "dreamer_resnet"], default="cnn_ha",
                    help="visual encoder and decoder family (dreamer_resnet: rssmo-m/l/xl)")
    ap.add_argument("--discrete", default="",
                    help="GROUPSxCLASSES for a discrete one-hot state (rssmo-discrete: 32x32); "
                         "--stoch is then ignored")
    ap.add_argument("--action-free", dest="action_free", action="store_true",
                    help="no action input (VIPER models): action dim 0")
    ap.add_argument("--binary-hidden", dest="binary_hidden", type=int, default=0,
                    help="is_terminal head width (0: 128 for cnn_ha, --hidden for dreamer_resnet)")
    ap.add_argument("--binary-layers", dest="binary_layers", type=int, default=0,
                    help="is_terminal head hidden layers (0: 2 for cnn_ha, 3 for dreamer_resnet)")
    ap.add_argument("--min-std", dest="min_std", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--horizon", type=int, default=50)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--grad-clip", dest="grad_clip", type=float, default=100.0)
    ap.add_argument("--kl-scale", dest="kl_scale", type=float, default=1.0)
    ap.add_argument("--free-nats", dest="free_nats", type=float, default=1.0)
    ap.add_argument("--kl-rebalance", dest="kl_rebalance", type=float, default=0.8)
    ap.add_argument("--steps", type=int, default=100000, help="stop after this many updates")
    ap.add_argument("--minutes", type=float, default=0, help="stop after this much wall time (0: no limit)")
    ap.add_argument("--save-every", dest="save_every", type=int, default=200)
    ap.add_argument("--log-every", dest="log_every", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true",
                    help="continue from --out/model.pt and its train_log.json if present (--steps more)")
    args = ap.parse_args(argv)
    args.groups_classes = None
    args.stoch_flat = args.stoch
    if args.discrete:
        try:
            g, k = (int(v) for v in args.discrete.lower().split("x"))
        except ValueError:
            raise SystemExit(f"--discrete {args.discrete!r}: want GROUPSxCLASSES, e.g. 32x32")
        if g < 1 or k < 2:
            raise SystemExit(f"--discrete {args.discrete!r}: need >= 1 group of >= 2 classes")
        args.groups_classes, args.stoch_flat = (g, k), g * k

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    img, act, A = load_episodes(args.data)
    if args.action_free:
        act, A = act[..., :0].contiguous(), 0
    N, T = img.shape[:2]
    if T < args.horizon:
        raise SystemExit(f"episodes have {T} frames, fewer than --horizon {args.horizon}")
    model = build_model(args, A)
    log, acc = [], collections.defaultdict(float)
    step = 0
    if args.resume and os.path.exists(os.path.join(args.out, "model.pt")):
        # Weights and step count carry over; Adam's moments start afresh.
        model.load_state_dict(torch.load(os.path.join(args.out, "model.pt")))
        try:
            with open(os.path.join(args.out, "train_log.json")) as f:
                prev = json.load(f)
            step, log = int(prev["step"]), list(prev["log"])
        except (OSError, ValueError, KeyError) as e:
            print(f"no usable train_log.json ({e}); counting steps from 0", flush=True)
        print(f"resumed from {args.out} at step {step}", flush=True)
        args.steps += step
    speed_up_decoder(model)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"{N} episodes x {T} frames, action dim {A}; {nparams} parameters; "
          f"batch {args.batch} x {args.horizon}", flush=True)
    start = time.time()
    acc_n = 0  # updates accumulated in acc since the last log line
    while step < args.steps:
        ei = torch.randint(0, N, (args.batch,), generator=gen)
        oi = torch.randint(0, T - args.horizon + 1, (args.batch,), generator=gen)
        idx = oi[:, None] + torch.arange(args.horizon)[None]
        b_img = img[ei[:, None], idx]
        b_act = act[ei[:, None], idx]
        loss, m = window_loss(model, b_img, b_act, args)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        if not torch.isfinite(gn):
            raise SystemExit(f"step {step}: non-finite gradient norm")
        opt.step()
        step += 1
        for k, v in m.items():
            acc[k] += v
        acc["grad_norm"] += gn.item()
        acc_n += 1
        if step % args.log_every == 0:
            rec = {k: round(v / acc_n, 4) for k, v in acc.items()}
            acc_n = 0
            rec.update(step=step, lr=args.lr, minutes=round((time.time() - start) / 60, 2))
            log.append(rec)
            print(json.dumps(rec), flush=True)
            acc.clear()
        done = args.minutes > 0 and time.time() - start > 60 * args.minutes
        if step % args.save_every == 0 or done or step == args.steps:
            save_folder(model, args, step, log)
        if done:
            break
    print(f"done: {step} steps in {(time.time() - start) / 60:.1f} min; wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
