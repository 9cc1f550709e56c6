#!/usr/bin/env python3
"""Writes the small PyTorch checkpoints the Go checkpoint tests read.

Run from this folder with the Debian python3-torch (1.13): python3 gen_checkpoints.py
It writes:
  state_dict.pt   an nn.Module state_dict (OrderedDict + _metadata BUILD, a BatchNorm's int64
                  num_batches_tracked), the form torch.save(model.state_dict()) produces.
  views.pt        a plain dict of tensors that share storages, are views at an offset, transposed,
                  expanded (stride 0), scalar, empty, and of other dtypes, plus a Parameter and a
                  non-tensor value.
  renamed.pt      saved as "model-e100.pt" and renamed, so its zip prefix is "model-e100/".
  protocol4.pt    the state_dict saved with pickle_protocol=4 (FRAME, STACK_GLOBAL, MEMOIZE).
  expected.json   for every tensor key of every file: shape and row-major values (as float32).
Values are small deterministic numbers so the JSON stays small and exact.
"""
import collections
import json
import os

import torch

torch.manual_seed(0)


def det(*shape, scale=0.25, shift=-1.0):
    n = 1
    for d in shape:
        n *= d
    return (torch.arange(n, dtype=torch.float32) * scale + shift).reshape(shape)


def module_state_dict():
    m = torch.nn.Sequential(
        torch.nn.Linear(4, 3),
        torch.nn.LayerNorm(3),
        torch.nn.SiLU(),
        torch.nn.BatchNorm1d(3),
    )
    with torch.no_grad():
        m[0].weight.copy_(det(3, 4))
        m[0].bias.copy_(det(3, scale=0.5))
        m[1].weight.copy_(det(3, scale=-0.125, shift=1.0))
        m[1].bias.copy_(det(3, scale=0.0625, shift=0.0))
        m[3].running_mean.copy_(det(3, scale=1.5, shift=2.0))
        m[3].num_batches_tracked.fill_(7)
    return m.state_dict()


def views_dict():
    base = det(10, scale=1.0, shift=0.0)             # storage shared by the next two
    mat = det(3, 5, scale=0.5, shift=-3.0)
    d = {
        "base": base,
        "offset_view": base[2:7],                    # storage_offset 2, shares base's storage
        "strided_view": base[1::3],                  # offset 1, stride 3
        "mat": mat,
        "mat_t": mat.t(),                            # stride (1, 5), same storage as mat
        "expanded": det(3, scale=2.0, shift=1.0).expand(4, 3),  # stride (0, 1)
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
        "half": det(2, 3, scale=0.5, shift=-1.0).half(),
        "bf16": det(4, scale=0.25, shift=0.0).bfloat16(),
        "double": det(2, 2, scale=0.1, shift=0.3).double(),
        "long": torch.tensor([-3, 0, 5, 1 << 20], dtype=torch.int64),
        "int8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "bool": torch.tensor([True, False, True]),
        "param": torch.nn.Parameter(det(2, 2, scale=3.0, shift=-2.0)),
        "not_a_tensor": [1, 2.5, "three"],
        "config_like": 42,
    }
    return d


def flat(t):
    return [float(v) for v in t.detach().to(torch.float32).contiguous().reshape(-1).tolist()]


def main():
    expected = collections.OrderedDict()

    sd = module_state_dict()
    torch.save(sd, "state_dict.pt")
    expected["state_dict.pt"] = {k: {"shape": list(v.shape), "values": flat(v)} for k, v in sd.items()}

    vd = views_dict()
    torch.save(vd, "views.pt")
    expected["views.pt"] = {
        k: {"shape": list(v.shape), "values": flat(v)}
        for k, v in vd.items() if isinstance(v, torch.Tensor)
    }

    rd = collections.OrderedDict([("w", det(2, 3)), ("b", det(3, scale=-1.0, shift=0.5))])
    torch.save(rd, "model-e100.pt")
    os.replace("model-e100.pt", "renamed.pt")
    expected["renamed.pt"] = {k: {"shape": list(v.shape), "values": flat(v)} for k, v in rd.items()}

    torch.save(sd, "protocol4.pt", pickle_protocol=4)
    expected["protocol4.pt"] = expected["state_dict.pt"]

    with open("expected.json", "w") as f:
        json.dump({"torch_version": torch.__version__, "files": expected}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
