#!/usr/bin/python3
"""Time the PyTorch float32 filter step, the baseline our Go and int8 paths are compared with.

One step = encoder + posterior step, prior head included (what `rssmd` runs per tick): batch 1,
deterministic, no_grad, one thread, frames cycled from a real sequence. Prints one JSON line with
the median and p99 in microseconds, plus the encoder alone and the open-loop prior step, and the
BLAS library actually mapped into the process (so an OpenBLAS run can be told from a reference-BLAS
one).

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
        /usr/bin/python3 tools/reference/bench_torch.py --model DIR [--steps 1000]
"""

import os

# Pin BLAS/OpenMP to one thread before torch loads them: OpenBLAS reads these at start-up.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rssmo_ref  # noqa: E402


def mapped_blas():
    """Paths of the BLAS libraries mapped into this process (Linux only)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in os.path.basename(path):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def timeit(fn, steps, warmup):
    for i in range(warmup):
        fn(i)
    ts = np.empty(steps)
    for i in range(steps):
        t0 = time.perf_counter_ns()
        fn(i)
        ts[i] = time.perf_counter_ns() - t0
    return ts / 1e3  # microseconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="model folder (config.yaml + model.pt)")
    ap.add_argument("--seq", default=None, help="input .npz (default: random smooth frames)")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=100)
    args = ap.parse_args()
    if args.steps < 500:
        ap.error("--steps must be >= 500 for a meaningful p99")
    torch.set_num_threads(1)
    model = rssmo_ref.load_model(args.model)

    if args.seq:
        frames = rssmo_ref.load_sequence(args.seq)["image"]
    else:
        rng = np.random.default_rng(0)
        frames = (rng.uniform(0, 255, (16, 64, 64, 3))).astype(np.uint8)
    x = torch.from_numpy(frames).float().div(255.0).permute(0, 3, 1, 2).contiguous()
    n = x.shape[0]
    action = torch.zeros(1, model.action_dim)
    zero = torch.zeros(1, 1)
    state = [model.initial_memory.clone(), model.initial_state.clone()]

    def filter_step(i):
        h, s, _, _, _ = model.posterior_step(x[i % n:i % n + 1], action, state[0], state[1], zero)
        state[0], state[1] = h, s

    def encode(i):
        model.encode(x[i % n:i % n + 1])

    def prior_step(i):
        h, s, _ = model.prior_step(action, state[0], state[1])
        state[0], state[1] = h, s

    with torch.no_grad():
        step = timeit(filter_step, args.steps, args.warmup)
        enc = timeit(encode, args.steps, args.warmup)
        prior = timeit(prior_step, args.steps, args.warmup)

    print(json.dumps({
        "model": os.path.basename(os.path.normpath(args.model)),
        "what": "filter step = encoder + posterior step incl. prior head, B=1, deterministic",
        "steps": args.steps,
        "median_us": round(float(np.median(step)), 1),
        "p99_us": round(float(np.percentile(step, 99)), 1),
        "mean_us": round(float(step.mean()), 1),
        "encoder_median_us": round(float(np.median(enc)), 1),
        "prior_step_median_us": round(float(np.median(prior)), 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": mapped_blas(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cpu": platform.processor() or platform.machine(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
