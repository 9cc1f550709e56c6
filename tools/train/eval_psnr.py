#!/usr/bin/python3
"""Reconstruction and open-loop prediction PSNR of a model, measured through our Go float32 path.

For each held-out episode it runs
  rssmd filter --model M --in EP --out OUT --rollout-start S --rollout-horizon K
and compares, in [0,1] pixel units with predictions clamped to [0,1]:
  * recon (posterior reconstructions of frames 0..S-1) with the frames: reconstruction PSNR;
  * rollout_image (prior predictions of frames S..S+K-1 from the actions alone) with the frames:
    open-loop PSNR, overall and at the last step (K steps ahead);
  * a "nothing moves" baseline: frame S-1 repeated, so the open-loop numbers can be read as
    "better than not predicting the motion".
Prints one JSON line per episode and a summary line.

  /usr/bin/python3 tools/train/eval_psnr.py --model models/demo/rssmo-arm --rssmd /tmp/rssmd EP.npz...
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np


def psnr(pred, target):
    mse = float(np.mean((np.clip(pred, 0, 1) - target) ** 2))
    return 10 * math.log10(1 / max(mse, 1e-12))


def write_strip(path, img, recon, roll, S, K):
    """Top row: frames S-4 .. S+K-1; bottom: posterior reconstructions, then open-loop predictions."""
    from PIL import Image
    ts = range(max(0, S - 4), S + K)
    top = np.concatenate([img[t] for t in ts], 1)
    bot = np.concatenate([recon[t] if t < S else roll[t - S] for t in ts], 1)
    strip = np.clip(np.concatenate([top, bot], 0) * 255 + 0.5, 0, 255).astype(np.uint8)
    Image.fromarray(strip).resize((strip.shape[1] * 2, strip.shape[0] * 2), Image.NEAREST).save(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--rssmd", default="", help="rssmd binary (default: go run ./nodes/rssmd)")
    ap.add_argument("--rollout-start", type=int, default=40)
    ap.add_argument("--rollout-horizon", type=int, default=10)
    ap.add_argument("--int8", action="store_true", help="pass --int8 to rssmd filter")
    ap.add_argument("--png", default="", help="write a strip (frames, model) of the first episode here (needs PIL)")
    ap.add_argument("episodes", nargs="+")
    args = ap.parse_args(argv)
    cmd = [args.rssmd] if args.rssmd else ["go", "run", "./nodes/rssmd"]
    S, K = args.rollout_start, args.rollout_horizon
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for ep in args.episodes:
            out = os.path.join(tmp, "out.npz")
            c = cmd + ["filter", "--model", args.model, "--in", ep, "--out", out,
                       "--rollout-start", str(S), "--rollout-horizon", str(K)]
            if args.int8:
                c.append("--int8")
            r = subprocess.run(c, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{' '.join(c)}: exit {r.returncode}: {r.stderr.strip()}")
            with np.load(ep) as z:
                img = z["image"].astype(np.float32) / 255
            with np.load(out) as z:
                recon, roll = z["recon"], z["rollout_image"]
                elbo = float(np.mean(z["elbo"]))
            if recon.shape[0] != S or roll.shape[0] != K or img.shape[0] < S + K:
                sys.exit(f"{ep}: recon {recon.shape}, rollout {roll.shape}, {img.shape[0]} frames")
            row = dict(
                episode=os.path.basename(ep),
                recon_psnr=round(psnr(recon, img[:S]), 2),
                openloop_psnr=round(psnr(roll, img[S:S + K]), 2),
                openloop_last_psnr=round(psnr(roll[-1], img[S + K - 1]), 2),
                hold_last_frame_psnr=round(psnr(np.repeat(img[S - 1:S], K, 0), img[S:S + K]), 2),
                hold_last_frame_last_psnr=round(psnr(img[S - 1], img[S + K - 1]), 2),
                mean_elbo=round(elbo, 1),
            )
            rows.append(row)
            if args.png and len(rows) == 1:
                write_strip(args.png, img, recon, roll, S, K)
            print(json.dumps(row), flush=True)
    summary = {k: round(float(np.mean([r[k] for r in rows])), 2) for k in rows[0] if k != "episode"}
    summary["episodes"] = len(rows)
    print(json.dumps(dict(summary=summary)))


if __name__ == "__main__":
    main()
