"""Writes the reference case for torchvision's ResNet-18 rebuilt in blocks
(examples/resnet18.rs, tests/it/resnet18.rs) into tests/data/conformance/resnet18/.

Run by hand, never by CI (the tests only read the file it wrote). Needs PyTorch 2.15,
torchvision and safetensors:

    python3 tests/data/generate_resnet18.py                 # from the repository's root
    python3 tests/data/generate_resnet18.py --real DIR      # also a torchvision-initialized file (see below)
    python3 tests/data/generate_resnet18.py --weights W.safetensors   # also the formula weights (45 MB)

With `--weights`, the formula weights are saved as torchvision's state_dict (`save_file`), so the
example runs on the repository's case by hand:

    cargo run --release --example resnet18 -- W.safetensors tests/data/conformance/resnet18/resnet18.io.safetensors

Why the weights are a formula and not a file: `torchvision.models.resnet18()` has 11.7 M float32
parameters, ~45 MB, too big to commit. Instead this script fills torchvision's own model with
weights given by a deterministic formula of (state_dict key, element index) in integer
arithmetic, which the Rust test (tests/it/resnet18.rs) computes too, bit for bit, and writes to a
temporary safetensors file before running the example's code path on it. The formula:

    h      = FNV-1a 32-bit hash of the key's UTF-8 bytes
    x      = (h + i * 0x9E3779B9) mod 2^32              for element i (row-major)
    x      = murmur3's fmix32(x)                        (xor-shifts and multiplies mod 2^32)
    u      = (x >> 8) / 2^24                             in [0, 1), exact in float32
    value  = float32(center + half * (2u - 1))           computed in float64, rounded once

with (center, half) by the kind of key, scaled like a real initialization so activations stay
O(1) through the 18 layers in eval mode:

    conv weight [O, I, kh, kw]     (0, sqrt(6 / (I kh kw)))     (Kaiming uniform)
    bn1.weight (and the stem's)    (1, 0.25);  bn2.weight and downsample.1.weight: (0.5, 0.25)
    *.bias (BatchNorm)             (0, 0.1)
    *.running_mean                 (0, 0.1)
    *.running_var                  (1, 0.5)                     (kept positive)
    fc.weight, fc.bias             (0, 4 / sqrt(in_features))   (so the logits are O(1))
    *.num_batches_tracked          int64: x mod 1000 for element 0

The input is written with the same formula under the key "input" and (center, half) = (0, 1).

Files written (`resnet18/` keeps them small, ~65 KB: the input is 46 KB):
- `resnet18.io.safetensors`: `input` float32 [2, 3, 40, 48] and `output` float32 [2, 1000],
  torchvision's `resnet18()` in eval mode on the formula weights. Metadata: `keys` (a JSON list of
  [key, shape, dtype] in the state_dict's order), `formula` (the lines above, short), `module_repr`
  (torchvision's printout), `top5` (image 0's top-5 classes).

With `--real DIR`, it also writes DIR/resnet18_real.weights.safetensors (torchvision's own random
initialization saved with `save_file(model.state_dict())`, 45 MB) and DIR/resnet18_real.io.safetensors
for running the example by hand on a file torchvision wrote (not committed).

Running it again writes the same tensors and metadata (safetensors may order the metadata keys in
the header differently, so the bytes can differ).
"""

import argparse
import json
import math
import os

import numpy as np
import torch
import torchvision
from safetensors.torch import save_file

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "conformance", "resnet18")
M32 = 0xFFFFFFFF


def fnv1a(key):
    h = 2166136261
    for b in key.encode("utf-8"):
        h ^= b
        h = (h * 16777619) & M32
    return h


def fmix32(x):
    """murmur3's finalizer on a uint64 array holding 32-bit values."""
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(0x85EBCA6B)) & np.uint64(M32)
    x = x ^ (x >> np.uint64(13))
    x = (x * np.uint64(0xC2B2AE35)) & np.uint64(M32)
    x = x ^ (x >> np.uint64(16))
    return x


def bits(key, numel):
    """The 32-bit mixed value of each element of `key`."""
    i = np.arange(numel, dtype=np.uint64)
    x = (np.uint64(fnv1a(key)) + i * np.uint64(0x9E3779B9)) & np.uint64(M32)
    return fmix32(x)


def center_half(key, shape):
    """(center, half width) of the uniform range for `key`."""
    last = key.rsplit(".", 1)[-1]
    if len(shape) == 4:
        return 0.0, math.sqrt(6.0 / (shape[1] * shape[2] * shape[3]))
    if key.startswith("fc."):
        fan_in = shape[1] if len(shape) == 2 else 512
        return 0.0, 4.0 / math.sqrt(fan_in)
    if last == "weight":
        residual_end = key.endswith("bn2.weight") or key.endswith("downsample.1.weight")
        return (0.5, 0.25) if residual_end else (1.0, 0.25)
    if last == "running_var":
        return 1.0, 0.5
    if last in ("bias", "running_mean"):
        return 0.0, 0.1
    raise ValueError(key)


def formula(key, shape, center, half):
    numel = int(np.prod(shape)) if len(shape) else 1
    u = (bits(key, numel) >> np.uint64(8)).astype(np.float64) / float(1 << 24)
    values = (center + half * (2.0 * u - 1.0)).astype(np.float32)
    return torch.from_numpy(values.reshape(shape))


def formula_state(model):
    state = {}
    for key, t in model.state_dict().items():
        shape = tuple(t.shape)
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(int(bits(key, 1)[0]) % 1000, dtype=torch.int64)
        else:
            state[key] = formula(key, shape, *center_half(key, shape))
    return state


def dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--real", help="also write a torchvision-initialized case into this folder")
    parser.add_argument("--weights", help="also save the formula weights (45 MB) to this file")
    args = parser.parse_args()

    model = torchvision.models.resnet18()
    keys = [[k, list(t.shape), dtype_name(t)] for k, t in model.state_dict().items()]
    state = formula_state(model)
    model.load_state_dict(state, strict=True)
    if args.weights:
        save_file(state, args.weights)
    model.eval()
    x = formula("input", (2, 3, 40, 48), 0.0, 1.0)
    with torch.no_grad():
        y = model(x)
    top5 = torch.topk(y[0], 5).indices.tolist()
    os.makedirs(OUT, exist_ok=True)
    metadata = {
        "keys": json.dumps(keys),
        "formula": "fnv1a(key) + i*0x9E3779B9, fmix32, u=(x>>8)/2^24, center+half*(2u-1) (see the generator)",
        "module_repr": repr(model),
        "top5": json.dumps(top5),
        "output_std": f"{y.std().item():.4f}",
    }
    save_file({"input": x, "output": y.contiguous()}, os.path.join(OUT, "resnet18.io.safetensors"), metadata=metadata)
    print("resnet18 written: output std", metadata["output_std"], "max abs", y.abs().max().item(), "top5", top5)

    if args.real:
        torch.manual_seed(0)
        real = torchvision.models.resnet18()
        real.eval()
        xr = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            yr = real(xr)
        os.makedirs(args.real, exist_ok=True)
        save_file(real.state_dict(), os.path.join(args.real, "resnet18_real.weights.safetensors"))
        save_file({"input": xr, "output": yr.contiguous()}, os.path.join(args.real, "resnet18_real.io.safetensors"))
        print("real case written to", args.real, "top5", torch.topk(yr[0], 5).indices.tolist())


if __name__ == "__main__":
    main()
