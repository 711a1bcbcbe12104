"""Writes the PyTorch reference cases for the vision layers of issue 19 (ConvTranspose2d/1d,
Upsample, InstanceNorm1d/2d, PReLU, the 1-d and adaptive pools, padding, PixelShuffle,
Hardswish, Hardsigmoid, Mish, Unflatten) into tests/data/conformance/vision/.

Run by hand, never by CI (the tests only read the files it wrote). Needs PyTorch 2.15 and
safetensors:

    python3 tests/data/generate_vision_layers.py            # from the repository's root

Each case is one layer built as a PyTorch user builds it (`nn.ConvTranspose2d(4, 6, 3, stride=2,
...)`), seeded, with parameters that are not the defaults where the defaults would hide a
mistake, and written as

- NAME.weights.safetensors: the layer's state_dict before the forward (parameters and buffers);
- NAME.io.safetensors: `input` (float32), `grad_output` (the weights of the loss
  `(output * grad_output).sum()`, so that a layer whose outputs sum to a constant still has
  gradients to compare), `output`, `input_grad`, `grad.KEY` for every parameter, `after.KEY` for
  every buffer after the forward (running statistics); the metadata: `layer` (PyTorch's class
  name), the constructor's settings (`upsample_mode` for Upsample's `mode`) (numbers, `true`/`false`, sizes as JSON lists), `mode`
  (`train` or `eval`), `grad_fn` (the output's grad_fn name) and `module_repr` (PyTorch's printout).

The test (tests/it/conformance_vision.rs) builds each layer from `layer` and the settings and
reads every size from the files. Running this again writes the same tensors and metadata.
"""

import json
import os

import torch
from safetensors.torch import save_file
from torch import nn

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "conformance", "vision")


def text(value):
    """A setting as the metadata holds it: booleans lowercase, tuples as JSON lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return json.dumps(list(value))
    return str(value)


def write_case(case, seed, net, x, settings, mode="train", randomize=True):
    """Runs `net` on `x` in `mode`, the backward of (output * grad_output).sum(), and writes both files."""
    torch.manual_seed(seed)
    if randomize:
        with torch.no_grad():  # parameters that are not their initial values
            for p in net.parameters():
                p.uniform_(-1.0, 1.0)
    weights = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    net.train(mode == "train")
    x = x.detach().clone().requires_grad_(True)
    output = net(x)
    grad_output = torch.rand(output.shape) * 2 - 1
    output.backward(grad_output)
    # Copies: a view's output shares the input's memory, which safetensors refuses.
    io = {
        "input": x.detach().clone().contiguous(),
        "grad_output": grad_output.clone().contiguous(),
        "output": output.detach().clone().contiguous(),
        "input_grad": x.grad.detach().clone().contiguous(),
    }
    for key, p in net.named_parameters():
        io["grad." + key] = p.grad.detach().contiguous()
    for key, b in net.named_buffers():
        io["after." + key] = b.detach().clone().contiguous()
    metadata = {
        "case": case,
        "layer": type(net).__name__,
        "mode": mode,
        "grad_fn": output.grad_fn.name(),
        "module_repr": repr(net),
        "backward_of": "(output * grad_output).sum()",
    }
    assert not set(settings) & set(metadata), "a setting named as a metadata key"
    metadata.update({k: text(v) for k, v in settings.items()})
    save_file(weights, os.path.join(OUT, case + ".weights.safetensors"))
    save_file(io, os.path.join(OUT, case + ".io.safetensors"), metadata=metadata)
    print(case, "written:", repr(net), tuple(x.shape), "->", tuple(output.shape))


def conv_transpose(case, seed, dims, cin, cout, kernel, shape, **options):
    """nn.ConvTranspose{dims}d(cin, cout, kernel, **options) on rand(shape)."""
    torch.manual_seed(seed)
    cls = nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose1d
    net = cls(cin, cout, kernel, **options)
    x = torch.rand(*shape) * 2 - 1
    settings = {"in_channels": cin, "out_channels": cout, "kernel_size": kernel}
    settings.update(options)
    write_case(case, seed, net, x, settings, randomize=False)


def conv_transpose_cases():
    conv_transpose("conv_transpose2d_stride2", 1, 2, 16, 8, 3, (2, 16, 5, 5), stride=2, padding=1, output_padding=1)
    conv_transpose("conv_transpose2d_plain", 2, 2, 3, 4, (2, 3), (2, 3, 4, 5))
    conv_transpose(
        "conv_transpose2d_groups_dilation",
        3,
        2,
        4,
        6,
        (3, 2),
        (1, 4, 3, 4),
        stride=(2, 1),
        padding=(1, 0),
        dilation=(1, 3),
        output_padding=(1, 2),
        groups=2,
        bias=False,
    )
    conv_transpose("conv_transpose1d_stride3", 4, 1, 3, 5, 4, (2, 3, 6), stride=3, padding=1, output_padding=2)
    conv_transpose("conv_transpose1d_groups", 5, 1, 4, 2, 3, (3, 4, 5), groups=2, dilation=2)


def single(case, seed, net, shape, settings, mode="train", scale=1.0):
    """One parameter-free or randomized layer on rand(shape) scaled to [-scale, scale)."""
    torch.manual_seed(seed)
    x = (torch.rand(*shape) * 2 - 1) * scale
    write_case(case, seed, net, x, settings, mode=mode)


def upsample_cases():
    single("upsample_nearest_scale2", 10, nn.Upsample(scale_factor=2), (2, 3, 3, 4), {"scale_factor": 2.0})
    single("upsample_nearest_size", 11, nn.Upsample(size=(5, 7)), (1, 2, 3, 3), {"size": (5, 7)})
    single(
        "upsample_nearest_scale_pair", 12, nn.Upsample(scale_factor=(1.5, 0.5)), (1, 2, 4, 6), {"scale_factor": (1.5, 0.5)}
    )
    single(
        "upsample_bilinear_align",
        13,
        nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True),
        (2, 2, 3, 4),
        {"size": (5, 7), "upsample_mode": "bilinear", "align_corners": True},
    )
    single(
        "upsample_bilinear_scale",
        14,
        nn.Upsample(scale_factor=1.5, mode="bilinear"),
        (1, 3, 4, 3),
        {"scale_factor": 1.5, "upsample_mode": "bilinear", "align_corners": False},
    )
    single(
        "upsample_bilinear_size",
        15,
        nn.Upsample(size=(7, 2), mode="bilinear", align_corners=False),
        (1, 2, 3, 5),
        {"size": (7, 2), "upsample_mode": "bilinear", "align_corners": False},
    )


def instance_norm_cases():
    for dims, cls in ((1, nn.InstanceNorm1d), (2, nn.InstanceNorm2d)):
        shape = (3, 4, 6) if dims == 1 else (2, 3, 4, 5)
        channels = shape[1]
        single(f"instance_norm{dims}d_default", 20 + dims, cls(channels), shape, {"num_features": channels}, scale=2.0)
        for mode in ("train", "eval"):
            net = cls(channels, affine=True, track_running_stats=True, momentum=0.3, eps=1e-3)
            torch.manual_seed(30 + dims)
            with torch.no_grad():  # running statistics that are not the initial ones
                net.running_mean.uniform_(-0.5, 0.5)
                net.running_var.uniform_(0.5, 1.5)
                net.num_batches_tracked.fill_(3)
            settings = {"num_features": channels, "affine": True, "track_running_stats": True, "momentum": 0.3, "eps": 1e-3}
            single(f"instance_norm{dims}d_tracked_{mode}", 30 + dims, net, shape, settings, mode=mode, scale=2.0)
    net = nn.InstanceNorm2d(3, affine=True, bias=False)
    single("instance_norm2d_unbatched_no_bias", 40, net, (3, 4, 4), {"num_features": 3, "affine": True, "bias": False})


def prelu_cases():
    single("prelu_one", 50, nn.PReLU(), (2, 3, 4), {"num_parameters": 1}, scale=2.0)
    single("prelu_channels", 51, nn.PReLU(3, init=0.1), (2, 3, 2, 2), {"num_parameters": 3, "init": 0.1}, scale=2.0)


def activation_cases():
    for seed, cls in enumerate((nn.Hardswish, nn.Hardsigmoid, nn.Mish)):
        single(cls.__name__.lower(), 60 + seed, cls(), (2, 3, 5), {}, scale=5.0)


def pool_cases():
    single("max_pool1d", 70, nn.MaxPool1d(3, stride=2, padding=1), (2, 3, 9), {"kernel_size": 3, "stride": 2, "padding": 1})
    single(
        "max_pool1d_dilation_ceil",
        71,
        nn.MaxPool1d(2, stride=3, padding=1, dilation=2, ceil_mode=True),
        (1, 2, 10),
        {"kernel_size": 2, "stride": 3, "padding": 1, "dilation": 2, "ceil_mode": True},
    )
    single("avg_pool1d", 72, nn.AvgPool1d(3, stride=2, padding=1), (2, 3, 8), {"kernel_size": 3, "stride": 2, "padding": 1})
    single(
        "avg_pool1d_ceil_no_pad_count",
        73,
        nn.AvgPool1d(4, stride=3, padding=2, ceil_mode=True, count_include_pad=False),
        (1, 2, 9),
        {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True, "count_include_pad": False},
    )
    single("adaptive_avg_pool1d", 74, nn.AdaptiveAvgPool1d(3), (2, 3, 7), {"output_size": 3})
    single("adaptive_max_pool2d", 75, nn.AdaptiveMaxPool2d((2, 3)), (2, 3, 5, 7), {"output_size": (2, 3)})
    single("adaptive_max_pool2d_square", 76, nn.AdaptiveMaxPool2d(4), (1, 2, 6, 5), {"output_size": 4})


def padding_cases():
    single("zero_pad2d", 80, nn.ZeroPad2d((1, 2, 0, 3)), (2, 2, 3, 4), {"padding": (1, 2, 0, 3)})
    single("constant_pad2d", 81, nn.ConstantPad2d(1, 3.5), (1, 2, 3, 3), {"padding": 1, "value": 3.5})
    single("reflection_pad2d", 82, nn.ReflectionPad2d((2, 1, 3, 0)), (2, 2, 4, 3), {"padding": (2, 1, 3, 0)})
    single("reflection_pad2d_unbatched", 83, nn.ReflectionPad2d(1), (2, 3, 3), {"padding": 1})


def reshape_cases():
    single("pixel_shuffle", 90, nn.PixelShuffle(2), (2, 8, 3, 2), {"upscale_factor": 2})
    single("pixel_shuffle_3", 91, nn.PixelShuffle(3), (1, 9, 2, 2), {"upscale_factor": 3})
    single("unflatten", 92, nn.Unflatten(1, (2, 3, 2)), (4, 12), {"dim": 1, "unflattened_size": (2, 3, 2)})
    single("unflatten_last", 93, nn.Unflatten(-1, (2, 2)), (2, 3, 4), {"dim": -1, "unflattened_size": (2, 2)})
    single("unflatten_inferred", 94, nn.Unflatten(1, (3, -1)), (2, 12, 2), {"dim": 1, "unflattened_size": (3, -1)})


CASES = [conv_transpose_cases, upsample_cases, instance_norm_cases, prelu_cases, activation_cases, pool_cases, padding_cases, reshape_cases]

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for cases in CASES:
        cases()
