"""Writes the PyTorch reference cases for the layer gaps of issue 19 that a PyTorch user still hit:
`nn.Upsample` / `F.interpolate` on 3-D `[N, C, L]` (nearest, linear) and 5-D `[N, C, D, H, W]`
(nearest, trilinear) input with `recompute_scale_factor`, 4-D nearest by a factor whose output
size is the input's or twice it, `nn.ZeroPad2d` / `nn.ConstantPad2d` / `nn.ReflectionPad2d` with
negative (cropping) padding, and `OneCycleLR` with momentum ranges per parameter group. Output:
tests/data/conformance/layer_gaps/.

Run by hand, never by CI (the tests only read the files it wrote). Needs PyTorch 2.15 and
safetensors:

    python3 tests/data/generate_layer_gaps.py            # from the repository's root

Files:

- NAME.io.safetensors, one per layer case: `input` (float32), `grad_output` (the weights of the loss
  `(output * grad_output).sum()`), `output`, `input_grad`; the metadata: `layer` (PyTorch's class
  name), the constructor's settings as given (`size` or `scale_factor` as a number or a JSON list,
  `upsample_mode` for Upsample's `mode`, `align_corners`, `recompute_scale_factor`, `padding`,
  `value`), `grad_fn` and `module_repr` (PyTorch's printout).
- NAME.sched.safetensors, one per OneCycleLR case: two parameter groups (rates 0.1 and 0.05) of the
  optimizer the metadata names (`optimizer`), `lrs` [31, 2] (`get_last_lr()` after creation and
  after each of 30 steps) and `momenta` [31, 2] (each group's `momentum`, or `betas[0]` for Adam),
  and the scheduler's arguments in the metadata `config` (JSON).
- errors.safetensors: PyTorch's messages for refused settings, in its metadata.

Running this again writes the same tensors and metadata.
"""

import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "conformance", "layer_gaps")


def text(value):
    """A setting as the metadata holds it: booleans lowercase, tuples as JSON lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return json.dumps(list(value))
    return str(value)


def layer_case(case, seed, net, shape, settings):
    """`net` on rand(shape) in [-1, 1), the backward of (output * grad_output).sum(), written."""
    torch.manual_seed(seed)
    x = (torch.rand(*shape) * 2 - 1).requires_grad_(True)
    output = net(x)
    grad_output = torch.rand(output.shape) * 2 - 1
    output.backward(grad_output)
    io = {
        "input": x.detach().clone().contiguous(),
        "grad_output": grad_output.clone().contiguous(),
        "output": output.detach().clone().contiguous(),
        "input_grad": x.grad.detach().clone().contiguous(),
    }
    metadata = {
        "case": case,
        "layer": type(net).__name__,
        "grad_fn": output.grad_fn.name(),
        "module_repr": repr(net),
        "backward_of": "(output * grad_output).sum()",
    }
    assert not set(settings) & set(metadata), "a setting named as a metadata key"
    metadata.update({k: text(v) for k, v in settings.items()})
    save_file(io, os.path.join(OUT, case + ".io.safetensors"), metadata=metadata)
    print(case, "written:", repr(net), tuple(x.shape), "->", tuple(output.shape))


def upsample(case, seed, shape, **settings):
    """nn.Upsample(**settings) on rand(shape); `mode` is written as `upsample_mode`."""
    net = nn.Upsample(**settings)
    written = dict(settings)
    if "mode" in written:
        written["upsample_mode"] = written.pop("mode")
    layer_case(case, seed, net, shape, written)


def upsample_cases():
    # 3-D [N, C, L]: nearest and linear.
    upsample("up1d_nearest_scale2", 20, (2, 3, 5), scale_factor=2)
    upsample("up1d_nearest_size7", 21, (2, 2, 5), size=7)
    upsample("up1d_nearest_scale1_7", 22, (1, 2, 6), scale_factor=1.7)
    upsample("up1d_nearest_scale1_7_recompute", 23, (1, 2, 6), scale_factor=1.7, recompute_scale_factor=True)
    upsample("up1d_nearest_down", 24, (1, 2, 9), scale_factor=(0.4,))
    upsample("up1d_linear_scale2_5", 25, (2, 2, 4), scale_factor=2.5, mode="linear")
    upsample("up1d_linear_align_size8", 26, (1, 3, 5), size=8, mode="linear", align_corners=True)
    upsample("up1d_linear_down_size3", 27, (1, 2, 7), size=(3,), mode="linear")
    upsample("up1d_linear_scale1_7_recompute", 28, (1, 2, 6), scale_factor=1.7, mode="linear",
             recompute_scale_factor=True)
    upsample("up1d_linear_align_size1", 29, (1, 2, 4), size=1, mode="linear", align_corners=True)
    # 5-D [N, C, D, H, W]: nearest and trilinear.
    upsample("up3d_nearest_scales", 30, (1, 2, 2, 3, 4), scale_factor=(2.0, 1.5, 1.0))
    upsample("up3d_nearest_size", 31, (2, 1, 3, 2, 4), size=(4, 5, 3))
    upsample("up3d_nearest_scale2_recompute", 32, (1, 2, 2, 2, 3), scale_factor=2.5, recompute_scale_factor=True)
    upsample("up3d_trilinear_scale2", 33, (1, 2, 2, 3, 2), scale_factor=2, mode="trilinear")
    upsample("up3d_trilinear_align_size", 34, (2, 1, 3, 4, 2), size=(4, 3, 5), mode="trilinear", align_corners=True)
    upsample("up3d_trilinear_scales", 35, (1, 2, 3, 4, 5), scale_factor=(1.5, 2.0, 0.7), mode="trilinear")
    upsample("up3d_trilinear_size_int", 36, (1, 1, 2, 3, 3), size=4, mode="trilinear")
    # 4-D: nearest by a factor that gives the input's size, or twice it (PyTorch uses 1/scale).
    upsample("up2d_nearest_scale1_2", 40, (1, 2, 3, 4), scale_factor=1.2)
    upsample("up2d_nearest_scale2_1", 41, (1, 2, 3, 4), scale_factor=2.1)
    upsample("up2d_bilinear_scale1_7_recompute", 42, (1, 2, 3, 4), scale_factor=(1.7, 1.3), mode="bilinear",
             recompute_scale_factor=True)


def padding_cases():
    layer_case("zeropad_mixed_signs", 50, nn.ZeroPad2d((-1, 2, 0, -2)), (2, 3, 4, 5), {"padding": (-1, 2, 0, -2)})
    layer_case("zeropad_all_negative", 51, nn.ZeroPad2d(-1), (1, 2, 4, 5), {"padding": -1})
    layer_case("zeropad_crop_one_side", 52, nn.ZeroPad2d((0, -3, -1, 0)), (2, 4, 5), {"padding": (0, -3, -1, 0)})
    layer_case("constantpad_mixed_signs", 53, nn.ConstantPad2d((2, -1, -2, 1), 1.5), (1, 2, 4, 4),
               {"padding": (2, -1, -2, 1), "value": 1.5})
    layer_case("reflectionpad_mixed_signs", 54, nn.ReflectionPad2d((-1, 2, 1, -2)), (1, 2, 4, 5),
               {"padding": (-1, 2, 1, -2)})


def sched_case(name, make_opt, make_sched, config):
    w, b = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(1))
    opt = make_opt([{"params": [w]}, {"params": [b], "lr": 0.05}])
    sched = make_sched(opt)

    def momenta():
        return [g["betas"][0] if "betas" in g else g.get("momentum", 0.0) for g in opt.param_groups]

    lrs, moms = [list(sched.get_last_lr())], [momenta()]
    for _ in range(30):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        moms.append(momenta())
    tensors = {
        "lrs": torch.tensor(lrs, dtype=torch.float64),
        "momenta": torch.tensor(moms, dtype=torch.float64),
        "betas1": torch.tensor([g["betas"][1] if "betas" in g else 0.0 for g in opt.param_groups],
                               dtype=torch.float64),
    }
    metadata = {"scheduler": type(sched).__name__, "optimizer": type(opt).__name__, "config": json.dumps(config)}
    save_file(tensors, os.path.join(OUT, name + ".sched.safetensors"), metadata=metadata)
    print(name, "written")


def scheduler_cases():
    S, O = torch.optim.lr_scheduler, torch.optim
    sched_case("onecycle_sgd_group_momenta",
               lambda g: O.SGD(g, lr=0.1, momentum=0.0),
               lambda o: S.OneCycleLR(o, [1.0, 0.5], total_steps=30, base_momentum=[0.8, 0.7],
                                      max_momentum=[0.9, 0.95]),
               {"max_lr": [1.0, 0.5], "total_steps": 30, "base_momentum": [0.8, 0.7], "max_momentum": [0.9, 0.95]})
    sched_case("onecycle_adam_group_momenta_three_phase",
               lambda g: O.Adam(g, lr=0.1, betas=(0.9, 0.99)),
               lambda o: S.OneCycleLR(o, 0.3, total_steps=30, pct_start=0.2, anneal_strategy="linear",
                                      three_phase=True, base_momentum=[0.85, 0.6], max_momentum=0.9),
               {"max_lr": [0.3], "total_steps": 30, "pct_start": 0.2, "anneal_strategy": "linear",
                "three_phase": True, "base_momentum": [0.85, 0.6], "max_momentum": [0.9]})
    sched_case("onecycle_rmsprop_group_momenta",
               lambda g: O.RMSprop(g, lr=0.1),
               lambda o: S.OneCycleLR(o, [0.2, 0.4], total_steps=30, base_momentum=0.5, max_momentum=[0.6, 0.99]),
               {"max_lr": [0.2, 0.4], "total_steps": 30, "base_momentum": [0.5], "max_momentum": [0.6, 0.99]})


def errors():
    """PyTorch's messages for refused settings, in `errors.safetensors`'s metadata."""
    S, O = torch.optim.lr_scheduler, torch.optim

    def two_groups():
        return O.SGD([{"params": [nn.Parameter(torch.ones(1))]}, {"params": [nn.Parameter(torch.ones(1))]}],
                     lr=0.1, momentum=0.9)

    x3, x4, x5 = torch.rand(1, 1, 3), torch.rand(1, 1, 3, 4), torch.rand(1, 1, 2, 3, 4)
    cases = {
        "bilinear 3D": lambda: F.interpolate(x3, size=4, mode="bilinear"),
        "bilinear 5D": lambda: F.interpolate(x5, size=4, mode="bilinear"),
        "linear 4D": lambda: F.interpolate(x4, size=4, mode="linear"),
        "trilinear 3D": lambda: F.interpolate(x3, size=4, mode="trilinear"),
        "nearest 2D": lambda: F.interpolate(torch.rand(1, 3), size=4, mode="nearest"),
        "linear 6D": lambda: F.interpolate(torch.rand(1, 1, 1, 2, 2, 2), size=4, mode="linear"),
        "size length": lambda: F.interpolate(x4, size=(4, 4, 4)),
        "scale_factor length": lambda: F.interpolate(x4, scale_factor=(2.0, 2.0, 2.0)),
        "output 1D zero": lambda: F.interpolate(x3, scale_factor=0.2),
        "output 3D zero": lambda: F.interpolate(x5, size=(2, 0, 1), mode="trilinear"),
        "recompute with size": lambda: F.interpolate(x3, size=5, recompute_scale_factor=True),
        "pad too negative": lambda: F.pad(x4, (-5, 2, 0, 0)),
        "reflection too large": lambda: F.pad(x4, (4, 0, 0, 0), mode="reflect"),
        "OneCycleLR base_momentum": lambda: S.OneCycleLR(two_groups(), 0.1, total_steps=10, base_momentum=[0.8]),
        "OneCycleLR max_momentum": lambda: S.OneCycleLR(two_groups(), 0.1, total_steps=10,
                                                        max_momentum=[0.9, 0.9, 0.9]),
        "OneCycleLR max_lr": lambda: S.OneCycleLR(two_groups(), [0.1, 0.2, 0.3], total_steps=10),
    }
    messages = {}
    for name, make in cases.items():
        try:
            make()
        except (ValueError, RuntimeError, NotImplementedError) as error:
            messages[name] = str(error)
        else:
            raise SystemExit(f"{name}: PyTorch accepted it")
    save_file({"none": torch.zeros(1)}, os.path.join(OUT, "errors.safetensors"), metadata=messages)
    for name, message in messages.items():
        print(f"{name}: {message}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    upsample_cases()
    padding_cases()
    scheduler_cases()
    errors()
    print("wrote", len(os.listdir(OUT)), "files to", OUT)
