"""Writes the .npz fixtures of runtime/capture's tests with numpy itself:

aime-episode.npz  an original AIME-NoB dataset episode (spec section 5): every
                  array float32, image (T,64,64,3) with non-integer 0..255
                  values, scalars as (T,1), extra keys the reader must ignore.
fortran.npz       an image in Fortran order, which the reader must refuse.

Run with a Python that has numpy:  python3 gen_npz.py
"""
import numpy as np

T = 4
yy, xx = np.mgrid[0:64, 0:64]
img = np.stack([xx * 4.0, yy * 4.0, (xx + yy) * 2.0], -1)[None] + np.arange(T)[:, None, None, None] * 10.3
img = np.clip(img, 0, 255).astype(np.float32)
act = np.zeros((T, 6), np.float32)
act[1:] = np.linspace(-1, 1, (T - 1) * 6, dtype=np.float32).reshape(T - 1, 6)
np.savez_compressed(
    "aime-episode.npz",
    image=img,
    pre_action=act,
    reward=np.zeros((T, 1), np.float32),
    is_first=np.eye(T, 1, dtype=np.float32),
    is_last=np.zeros((T, 1), np.float32),
    is_terminal=np.zeros((T, 1), np.float32),
    height=np.ones((T, 1), np.float32),
)
np.savez_compressed(
    "fortran.npz",
    image=np.asfortranarray(np.zeros((2, 4, 4, 3), np.uint8)),
    pre_action=np.zeros((2, 1), np.float32),
)
