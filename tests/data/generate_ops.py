"""Writes the PyTorch reference cases for the tensor ops, the losses and gradient clipping into
tests/data/conformance/ops/ (one small safetensors file per case).

Run by hand, never by CI (the tests only read the files it wrote). Needs PyTorch 2.15 and
safetensors:

    python3 tests/data/generate_ops.py            # from the repository's root

Each case calls one op the way a PyTorch user does (torch.sin(x), F.cross_entropy(x, t, ...)) on
small seeded inputs and writes NAME.safetensors with:

- the inputs under their names: float32 operands (`x`, `y`, ...; these require grad), int64
  indices or class targets (`index`, `target`), bool masks (`mask`), constant float32 options
  (`weight`, `pos_weight`);
- `output` (or `output.0`, `output.1`, ... for ops that return several tensors);
- `w` (or `w.0`, ...): random weights of the output's shape; the backward is that of
  `(output * w).sum()` (summed over the pieces), and `grad.NAME` holds each float operand's
  gradient;
- metadata: `op` (which call, see the table in conformance/ops/README.md), the call's options as
  strings (`dim`, `reduction`, ...), `grad_fn` (PyTorch's name of the output's grad_fn, empty when
  it has none) and `call` (the Python call, for people).

Clipping cases (`clip_grad_norm`, `clip_grad_value`) hold `grad.0`, `grad.1` (the gradients before),
`total_norm` and `clipped.0`, `clipped.1` (after).
"""

import json
import math
import os
import zlib

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "conformance", "ops")


def rand(*shape, low=-2.0, high=2.0):
    return (torch.rand(*shape) * (high - low) + low).requires_grad_(True)


def write(name, op, inputs, run, call, **options):
    """Runs `run(**inputs)`, the backward of the weighted sum of its output(s), and writes the case."""
    torch.manual_seed(zlib.crc32(name.encode()))
    out = run(**inputs)
    pieces = list(out) if isinstance(out, (list, tuple)) else [out]
    tensors = {}
    for key, value in inputs.items():
        tensors[key] = value.detach().clone().contiguous()
    if any(p.requires_grad for p in pieces):
        total = 0
        for i, p in enumerate(pieces):
            w = torch.rand(p.shape) * 2 - 1
            total = total + (p * w).sum()
            tensors["w" if len(pieces) == 1 else f"w.{i}"] = w
        total.backward()
        for key, value in inputs.items():
            if value.is_floating_point() and value.requires_grad:
                tensors["grad." + key] = value.grad.detach().clone().contiguous()
    for i, p in enumerate(pieces):
        tensors["output" if not isinstance(out, (list, tuple)) else f"output.{i}"] = p.detach().clone().contiguous()
    grad_fn = type(pieces[0].grad_fn).__name__ if pieces[0].grad_fn is not None else ""
    metadata = {"op": op, "call": call, "grad_fn": grad_fn, "pieces": str(len(pieces)) if isinstance(out, (list, tuple)) else ""}
    metadata.update({k: str(v) for k, v in options.items()})
    save_file(tensors, os.path.join(OUT, name + ".safetensors"), metadata=metadata)
    print(name, grad_fn, call)


def pointwise_ops():
    torch.manual_seed(1)
    write("sin", "sin", {"x": rand(2, 3, low=-4, high=4)}, lambda x: torch.sin(x), "torch.sin(x)")
    write("cos", "cos", {"x": rand(2, 3, low=-4, high=4)}, lambda x: torch.cos(x), "torch.cos(x)")
    write("rsqrt", "rsqrt", {"x": rand(3, 2, low=0.2, high=3)}, lambda x: torch.rsqrt(x), "torch.rsqrt(x)")
    write("exp", "exp", {"x": rand(4)}, lambda x: torch.exp(x), "torch.exp(x)")
    write("log", "log", {"x": rand(4, low=0.1, high=3)}, lambda x: torch.log(x), "torch.log(x)")
    write("sqrt", "sqrt", {"x": rand(4, low=0.1, high=3)}, lambda x: torch.sqrt(x), "torch.sqrt(x)")
    write("tanh", "tanh", {"x": rand(4)}, lambda x: torch.tanh(x), "torch.tanh(x)")
    write("pow", "pow", {"x": rand(2, 3, low=0.2, high=2), "y": rand(3, low=-1.5, high=2.5)},
          lambda x, y: torch.pow(x, y), "torch.pow(x, y)")
    write("pow_column", "pow", {"x": rand(3, low=0.2, high=2), "y": rand(2, 1, low=-1, high=2)},
          lambda x, y: torch.pow(x, y), "torch.pow(x, y), broadcast to [2, 3]")


def index_ops():
    torch.manual_seed(2)
    x = rand(2, 3, 2)
    index = torch.tensor([[[2, 0], [2, 2]], [[1, 0], [0, 1]]])
    write("gather_dim1", "gather", {"x": x, "index": index}, lambda x, index: torch.gather(x, 1, index),
          "torch.gather(x, 1, index)", dim=1)
    index = torch.tensor([[1, 1, 0], [0, 0, 0]])
    write("gather_last", "gather", {"x": rand(2, 4), "index": index}, lambda x, index: x.gather(-1, index),
          "x.gather(-1, index)", dim=-1)
    index = torch.tensor([[0, 3], [2, 2], [1, 0]])
    write("one_hot", "one_hot", {"index": index}, lambda index: F.one_hot(index, 5).float(),
          "F.one_hot(index, 5).float()", num_classes=5)
    write("one_hot_inferred", "one_hot", {"index": index}, lambda index: F.one_hot(index).float(),
          "F.one_hot(index).float()", num_classes=-1)
    write("repeat_interleave_dim0", "repeat_interleave", {"x": rand(2, 3)},
          lambda x: x.repeat_interleave(3, dim=0), "x.repeat_interleave(3, dim=0)", repeats=3, dim=0)
    write("repeat_interleave_flat", "repeat_interleave", {"x": rand(2, 3)},
          lambda x: x.repeat_interleave(2), "x.repeat_interleave(2)", repeats=2, dim="None")
    counts = torch.tensor([2, 0, 3])
    write("repeat_interleave_counts", "repeat_interleave_counts", {"x": rand(2, 3), "counts": counts},
          lambda x, counts: x.repeat_interleave(counts, dim=1), "x.repeat_interleave(counts, dim=1)", dim=1)
    for diagonal in [-1, 0, 2]:
        write(f"tril_{diagonal}".replace("-", "m"), "tril", {"x": rand(2, 3, 4)},
              lambda x: torch.tril(x, diagonal), f"torch.tril(x, {diagonal})", diagonal=diagonal)
        write(f"triu_{diagonal}".replace("-", "m"), "triu", {"x": rand(3, 4)},
              lambda x: torch.triu(x, diagonal), f"torch.triu(x, {diagonal})", diagonal=diagonal)
    for dim in [0, 1, -1]:
        write(f"cumsum_{dim}".replace("-", "m"), "cumsum", {"x": rand(2, 3, 4)},
              lambda x: torch.cumsum(x, dim), f"torch.cumsum(x, {dim})", dim=dim)


def mask_ops():
    torch.manual_seed(3)
    mask = torch.tensor([True, False, True])
    write("where", "where", {"mask": mask, "x": rand(2, 3), "y": rand(2, 1)},
          lambda mask, x, y: torch.where(mask, x, y), "torch.where(mask, x, y)")
    scores = rand(3, 4)
    causal = torch.ones(3, 4, dtype=torch.bool).triu(1)
    write("masked_fill_causal", "masked_fill", {"x": scores, "mask": causal},
          lambda x, mask: x.masked_fill(mask, -1e9), "x.masked_fill(mask, -1e9)", value=-1e9)
    mask = torch.tensor([[[True, False, False, True]], [[False, False, True, True]]])
    write("masked_fill_broadcast", "masked_fill", {"x": rand(3, 4), "mask": mask},
          lambda x, mask: x.masked_fill(mask, 0.5), "x.masked_fill(mask [2, 1, 4], 0.5)", value=0.5)
    x = rand(2, 3)
    write("where_from_comparison", "where_gt", {"x": x, "y": rand(2, 3)},
          lambda x, y: torch.where(x > 0.25, x, y), "torch.where(x > 0.25, x, y)", threshold=0.25)


def matmul_ops():
    torch.manual_seed(4)
    write("bmm", "bmm", {"x": rand(2, 3, 4), "y": rand(2, 4, 5)}, lambda x, y: torch.bmm(x, y), "torch.bmm(x, y)")
    shapes = [((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((4,), (2, 4, 3)),
              ((2, 3, 4), (4,)), ((1, 3, 4), (2, 4, 2)), ((2, 3, 4), (2, 4, 5))]
    for a, b in shapes:
        name = "matmul_" + "x".join(map(str, a)) + "_" + "x".join(map(str, b))
        write(name, "matmul", {"x": rand(*a), "y": rand(*b)}, lambda x, y: torch.matmul(x, y),
              f"torch.matmul(x {list(a)}, y {list(b)})")


def split_ops():
    torch.manual_seed(5)
    write("chunk", "chunk", {"x": rand(5, 2)}, lambda x: x.chunk(3, 0), "x.chunk(3, 0)", chunks=3, dim=0)
    write("split", "split", {"x": rand(2, 7)}, lambda x: x.split(3, -1), "x.split(3, -1)", split_size=3, dim=-1)
    write("split_with_sizes", "split_with_sizes", {"x": rand(2, 6)}, lambda x: x.split([1, 4, 1], 1),
          "x.split([1, 4, 1], 1)", sizes=json.dumps([1, 4, 1]), dim=1)


def class_losses():
    torch.manual_seed(6)
    cases = [("2d", (5, 4), torch.tensor([1, -100, 3, 0, 3])), ("4d", (2, 4, 2, 3), None), ("1d", (4,), torch.tensor(2))]
    for shape_name, shape, target in cases:
        if target is None:
            target = torch.randint(0, 4, (2, 2, 3))
            target[0, 1, 2] = -100
            target[1, 0, 0] = -100
        for reduction in ["mean", "sum", "none"]:
            for smoothing in [0.0, 0.15]:
                for weighted in [False, True]:
                    weight = torch.tensor([0.5, 2.0, 1.0, 0.25]) if weighted else None
                    name = f"cross_entropy_{shape_name}_{reduction}" + (f"_smooth" if smoothing else "") + ("_weight" if weighted else "")
                    inputs = {"x": rand(*shape, low=-3, high=3), "target": target}
                    if weighted:
                        inputs["weight"] = weight.requires_grad_(False)

                    def run(x, target, weight=None, reduction=reduction, smoothing=smoothing):
                        return F.cross_entropy(x, target, weight=weight, reduction=reduction, label_smoothing=smoothing)

                    write(name, "cross_entropy", inputs, run,
                          f"F.cross_entropy(x, target, weight={'weight' if weighted else None}, reduction='{reduction}', "
                          f"label_smoothing={smoothing})", reduction=reduction, label_smoothing=smoothing, ignore_index=-100)
    target = torch.tensor([0, 1, 2, 2, 1])
    for reduction in ["mean", "sum", "none"]:
        for weighted in [False, True]:
            inputs = {"x": F.log_softmax(torch.rand(5, 3) * 4 - 2, dim=1).detach().requires_grad_(True), "target": target}
            if weighted:
                inputs["weight"] = torch.tensor([0.5, 2.0, 1.5])

            def run(x, target, weight=None, reduction=reduction):
                return F.nll_loss(x, target, weight=weight, ignore_index=1, reduction=reduction)

            write(f"nll_loss_{reduction}" + ("_weight" if weighted else ""), "nll_loss", inputs, run,
                  f"F.nll_loss(x, target, weight=..., ignore_index=1, reduction='{reduction}')",
                  reduction=reduction, ignore_index=1)
    # The forms without options: F.cross_entropy(x, target) / F.nll_loss on targets in range.
    write("cross_entropy_plain", "cross_entropy_plain", {"x": rand(3, 5), "target": torch.tensor([4, 0, 2])},
          lambda x, target: F.cross_entropy(x, target), "F.cross_entropy(x, target)")


def regression_losses():
    torch.manual_seed(7)
    for reduction in ["mean", "sum", "none"]:
        pair = lambda: {"x": rand(2, 5, low=-2, high=2), "y": rand(2, 5, low=-2, high=2)}
        write(f"mse_loss_{reduction}", "mse_loss", pair(), lambda x, y: F.mse_loss(x, y, reduction=reduction),
              f"F.mse_loss(x, y, reduction='{reduction}')", reduction=reduction)
        write(f"l1_loss_{reduction}", "l1_loss", pair(), lambda x, y: F.l1_loss(x, y, reduction=reduction),
              f"F.l1_loss(x, y, reduction='{reduction}')", reduction=reduction)
        for beta in [0.0, 0.5, 1.0]:
            write(f"smooth_l1_loss_{reduction}_beta{beta}".replace(".", "_"), "smooth_l1_loss", pair(),
                  lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
                  f"F.smooth_l1_loss(x, y, reduction='{reduction}', beta={beta})", reduction=reduction, beta=beta)
        for delta in [0.5, 2.0]:
            write(f"huber_loss_{reduction}_delta{delta}".replace(".", "_"), "huber_loss", pair(),
                  lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=delta),
                  f"F.huber_loss(x, y, reduction='{reduction}', delta={delta})", reduction=reduction, delta=delta)


def probability_losses():
    torch.manual_seed(8)
    for reduction in ["mean", "sum", "none"]:
        for weighted, positive in [(False, False), (True, False), (False, True), (True, True)]:
            inputs = {"x": rand(3, 4, low=-4, high=4), "y": rand(3, 4, low=0, high=1)}
            if weighted:
                inputs["weight"] = torch.rand(3, 1) + 0.5
            if positive:
                inputs["pos_weight"] = torch.tensor([1.0, 3.0, 0.5, 2.0])

            def run(x, y, weight=None, pos_weight=None, reduction=reduction):
                return F.binary_cross_entropy_with_logits(x, y, weight=weight, reduction=reduction, pos_weight=pos_weight)

            name = f"bce_with_logits_{reduction}" + ("_weight" if weighted else "") + ("_pos_weight" if positive else "")
            write(name, "bce_with_logits", inputs, run,
                  f"F.binary_cross_entropy_with_logits(x, y, weight=..., reduction='{reduction}', pos_weight=...)",
                  reduction=reduction)
    for reduction in ["mean", "batchmean", "sum", "none"]:
        for log_target in [False, True]:
            x = F.log_softmax(torch.rand(3, 4) * 4 - 2, dim=1).detach().requires_grad_(True)
            p = torch.softmax(torch.rand(3, 4) * 4 - 2, dim=1)
            y = (p.log() if log_target else p).detach().requires_grad_(True)
            write(f"kl_div_{reduction}" + ("_log_target" if log_target else ""), "kl_div", {"x": x, "y": y},
                  lambda x, y: F.kl_div(x, y, reduction=reduction, log_target=log_target),
                  f"F.kl_div(x, y, reduction='{reduction}', log_target={log_target})",
                  reduction=reduction, log_target=str(log_target).lower())


def clipping():
    torch.manual_seed(9)
    cases = [(2.0, 1.0), (2.0, 100.0), (1.0, 2.0), (math.inf, 0.5), (3.0, 1.0), (0.5, 4.0)]
    for norm_type, max_norm in cases:
        a, b = torch.zeros(3, 2, requires_grad=True), torch.zeros(4, requires_grad=True)
        a.grad, b.grad = torch.rand(3, 2) * 4 - 2, torch.rand(4) * 4 - 2
        before = {"grad.0": a.grad.clone(), "grad.1": b.grad.clone()}
        total = torch.nn.utils.clip_grad_norm_([a, b], max_norm, norm_type)
        tensors = dict(before, total_norm=total.detach().clone(), **{"clipped.0": a.grad.clone(), "clipped.1": b.grad.clone()})
        name = f"clip_grad_norm_{norm_type}_{max_norm}".replace(".", "_")
        call = f"torch.nn.utils.clip_grad_norm_([a, b], {max_norm}, {norm_type})"
        save_file(tensors, os.path.join(OUT, name + ".safetensors"),
                  metadata={"op": "clip_grad_norm", "call": call, "max_norm": str(max_norm), "norm_type": str(norm_type)})
        print(name, call)
    a, b = torch.zeros(3, 2, requires_grad=True), torch.zeros(4, requires_grad=True)
    a.grad, b.grad = torch.rand(3, 2) * 4 - 2, torch.rand(4) * 4 - 2
    before = {"grad.0": a.grad.clone(), "grad.1": b.grad.clone()}
    torch.nn.utils.clip_grad_value_([a, b], 0.75)
    tensors = dict(before, **{"clipped.0": a.grad.clone(), "clipped.1": b.grad.clone()})
    save_file(tensors, os.path.join(OUT, "clip_grad_value.safetensors"),
              metadata={"op": "clip_grad_value", "call": "torch.nn.utils.clip_grad_value_([a, b], 0.75)", "clip_value": "0.75"})
    print("clip_grad_value")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".safetensors"):
            os.remove(os.path.join(OUT, old))
    pointwise_ops()
    index_ops()
    mask_ops()
    matmul_ops()
    split_ops()
    class_losses()
    regression_losses()
    probability_losses()
    clipping()
