#!/usr/bin/python3
"""Check rssmo_ref.py against the golden output of the ORIGINAL AIME-NoB code.

Runs the reference on the shared walker model and input (rollout from frame 30, 10 steps) and
compares every key of golden.npz with the tolerances of shared/testdata/README.md:
states and Gaussian statistics within 1e-4 of each array's largest magnitude, images within 1e-3,
kl/loglik/elbo within 1e-3 relative (or 0.05 absolute). Prints one JSON line per key and exits 1 on
any failure or missing key.

    /usr/bin/python3 tools/reference/check_shared.py [--testdata DIR]
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rssmo_ref  # noqa: E402

IMAGES = {"recon", "rollout_image"}
SCALARS = {"kl", "elbo"}


def default_testdata():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    return os.path.join(os.path.dirname(root), "shared", "testdata")


def compare(key, got, want):
    """Returns (ok, report dict) for one key."""
    if got.shape != want.shape:
        return False, {"key": key, "error": f"shape {got.shape} != {want.shape}"}
    err = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
    rep = {"key": key, "max_abs_err": err}
    if key in IMAGES:
        ok = err <= 1e-3
        rep["tol"] = 1e-3
    elif key in SCALARS or key.endswith("_loglik"):
        rel = np.abs(got.astype(np.float64) - want) / np.maximum(np.abs(want), 1e-30)
        rep["max_rel_err"] = float(np.max(rel))
        ok = bool(np.all((rel <= 1e-3) | (np.abs(got - want) <= 0.05)))
        rep["tol"] = "1e-3 rel or 0.05 abs"
    else:
        scale = float(np.max(np.abs(want)))
        rep["max_err_over_max_mag"] = err / scale if scale else err
        ok = err <= 1e-4 * scale
        rep["tol"] = "1e-4 * max|want|"
    rep["ok"] = bool(ok)
    return ok, rep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--testdata", default=default_testdata())
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = rssmo_ref.load_model(os.path.join(args.testdata, "models", "walker-wm-synthetic"))
    gdir = os.path.join(args.testdata, "golden", "shared-walker")
    seq = rssmo_ref.load_sequence(os.path.join(gdir, "seq.npz"))
    out = rssmo_ref.filter_sequence(model, seq, rollout_start=30, rollout_horizon=10)
    failed = False
    with np.load(os.path.join(gdir, "golden.npz")) as g:
        for key in g.files:
            if key not in out:
                print(json.dumps({"key": key, "error": "missing from reference output"}))
                failed = True
                continue
            ok, rep = compare(key, out[key], g[key])
            print(json.dumps(rep))
            failed |= not ok
        extra = sorted(set(out) - set(g.files))
        if extra:
            print(json.dumps({"extra_keys_not_in_golden": extra}))
    print("FAIL" if failed else "OK: all keys within tolerance")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
