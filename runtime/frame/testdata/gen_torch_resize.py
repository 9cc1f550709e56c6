"""Writes torch_resize.npz: RGB uint8 inputs and what PyTorch's
F.interpolate(mode="bilinear", align_corners=False, antialias=False) makes of
them at 64x64 (float32, before rounding). The Go test checks that
runtime/frame's Bilinear filter matches this within 1 LSB after rounding.

Run with a Python that has numpy and torch:  python3 gen_torch_resize.py
"""
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(7)
out = {}
for h, w in [(120, 160), (84, 84), (38, 50), (48, 40)]:
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 255 // w), (yy * 255 // h), (xx * 7 + yy * 13) % 256], -1).astype(np.float64)
    img += rng.integers(0, 40, size=img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    t = torch.from_numpy(img).permute(2, 0, 1)[None].double()
    r = F.interpolate(t, size=(64, 64), mode="bilinear", align_corners=False, antialias=False)
    out[f"in_{h}x{w}"] = img
    out[f"out_{h}x{w}"] = r[0].permute(1, 2, 0).numpy().astype(np.float32)
np.savez_compressed("torch_resize.npz", **out)
print("torch", torch.__version__, "numpy", np.__version__)
