"""Writes the PyTorch reference cases for GroupNorm, Dropout2d, Embedding(padding_idx),
LayerNorm without affine / without bias, and channel concatenation (d2l's Inception block and
DenseNet's dense block) into tests/data/conformance/layers/.

Run by hand, never by CI (the tests only read the files it wrote). Needs PyTorch 2.15 and
safetensors:

    pip install torch safetensors
    python3 tests/data/generate_layers.py            # from the repository's root

Each case is built the way a PyTorch user builds it (nn.Sequential of nn layers), seeded, and
written in the format of tests/data/conformance/README.md and layers/README.md:
NAME.weights.safetensors (the state_dict before the forward) and NAME.io.safetensors (input,
output, input_grad, grad.KEY of every trainable parameter: the gradients of output.sum(); the
settings and PyTorch's printouts in the metadata). Running it again writes the same tensors and
metadata (safetensors may order the metadata keys in the header differently, so the bytes can differ).
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
OUT = os.path.join(HERE, "conformance", "layers")


def flag(value):
    return "true" if value else "false"


def write_case(case, arch, seed, mode, net, x, describe, settings):
    """Runs `net` on `x` in `mode`, backward of output.sum(), and writes both files."""
    weights = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    net.train(mode == "train")
    floats = x.is_floating_point()
    if floats:
        x = x.detach().clone().requires_grad_(True)
    output = net(x)
    output.sum().backward()
    io = {"input": x.detach().contiguous(), "output": output.detach().contiguous()}
    if floats:
        io["input_grad"] = x.grad.detach().contiguous()
    for key, p in net.named_parameters():
        if p.requires_grad:
            io["grad." + key] = p.grad.detach().contiguous()
    for key, b in net.named_buffers():
        io["after." + key] = b.detach().clone().contiguous()
    metadata = {
        "case": case,
        "arch": arch,
        "seed": str(seed),
        "mode": mode,
        "backward_of": "output.sum()",
        "describe": describe,
        "input_shape": json.dumps(list(x.shape)),
        "input_dtype": "float32" if floats else "int64",
        "module_repr": repr(net),
        "output_repr": repr(output),
    }
    metadata.update({k: str(v) for k, v in settings.items()})
    save_file(weights, os.path.join(OUT, case + ".weights.safetensors"))
    save_file(io, os.path.join(OUT, case + ".io.safetensors"), metadata=metadata)
    print(case, "written:", repr(net).replace("\n", " "))


def conv_gn(case, seed, channels, num_groups, affine, shape):
    """Conv2d(in, C, 3) + GroupNorm(G, C) + ReLU on odd image sizes, train mode."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(shape[1], channels, 3),
        nn.GroupNorm(num_groups, channels, affine=affine),
        nn.ReLU(),
    )
    if affine:
        with torch.no_grad():  # affine values that are not the defaults
            net[1].weight.uniform_(0.5, 1.5)
            net[1].bias.uniform_(-0.5, 0.5)
    x = torch.rand(*shape)
    describe = f"Conv2d({shape[1]},{channels},3), GroupNorm({num_groups},{channels},affine={affine}), ReLU"
    settings = {"num_groups": num_groups, "eps": 1e-5, "affine": flag(affine)}
    write_case(case, "conv_gn", seed, "train", net, x, describe, settings)


def embed_pad(case, seed, padding_idx):
    """Embedding(10, 4, padding_idx) + Linear(4, 3) on int64 indices that pick the padding row."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Embedding(10, 4, padding_idx=padding_idx), nn.Linear(4, 3))
    x = torch.randint(0, 10, (3, 5))
    x[0, 0] = x[2, 3] = net[0].padding_idx
    describe = f"Embedding(10,4,padding_idx={padding_idx}), Linear(4,3) on int64 indices of shape [3, 5]"
    write_case(case, "embed_pad", seed, "train", net, x, describe, {"padding_idx": padding_idx})


def ln_mlp(case, seed, elementwise_affine, bias):
    """Linear(8, 16) + LayerNorm(16, elementwise_affine, bias) + ReLU + Linear(16, 4)."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Linear(8, 16),
        nn.LayerNorm(16, elementwise_affine=elementwise_affine, bias=bias),
        nn.ReLU(),
        nn.Linear(16, 4),
    )
    if elementwise_affine:
        with torch.no_grad():
            net[1].weight.uniform_(0.5, 1.5)
    x = torch.rand(3, 8) * 2 - 1
    describe = f"Linear(8,16), LayerNorm(16, elementwise_affine={elementwise_affine}, bias={bias}), ReLU, Linear(16,4)"
    settings = {"elementwise_affine": flag(elementwise_affine), "bias": flag(bias), "eps": 1e-5}
    write_case(case, "ln_mlp", seed, "train", net, x, describe, settings)


def conv_dropout2d(case, seed, p):
    """Conv2d(2, 4, 3, padding=1), ReLU, Dropout2d(p), Conv2d(4, 3, 1) in eval mode (the identity)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Dropout2d(p), nn.Conv2d(4, 3, 1))
    x = torch.rand(2, 2, 5, 3)
    describe = f"Conv2d(2,4,3,padding=1), ReLU, Dropout2d({p}), Conv2d(4,3,1) in eval mode (dropout2d is the identity)"
    write_case(case, "conv_dropout2d", seed, "eval", net, x, describe, {"p": p})


class Inception(nn.Module):
    """d2l 8.4's Inception block, as the book writes it."""

    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


def conv_block(input_channels, num_channels):
    """d2l 8.7's conv_block: BatchNorm2d, ReLU, Conv2d(3x3, padding 1)."""
    return nn.Sequential(
        nn.BatchNorm2d(input_channels), nn.ReLU(), nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1)
    )


class DenseBlock(nn.Module):
    """d2l 8.7's dense block: each conv block's output concatenated to its input."""

    def __init__(self, num_convs, input_channels, num_channels):
        super().__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels * i + input_channels, num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def inception(case, seed, in_channels, c1, c2, c3, c4, shape):
    """d2l's Inception block on odd image sizes."""
    torch.manual_seed(seed)
    net = Inception(in_channels, c1, c2, c3, c4)
    x = torch.rand(*shape)
    describe = f"d2l Inception({in_channels}, {c1}, {c2}, {c3}, {c4})"
    settings = {"in_channels": in_channels, "c1": c1, "c2": json.dumps(c2), "c3": json.dumps(c3), "c4": c4}
    write_case(case, "inception", seed, "train", net, x, describe, settings)


def dense_block(case, seed, num_convs, input_channels, num_channels, shape):
    """d2l's DenseBlock in train mode (BatchNorm with batch statistics, running statistics updated)."""
    torch.manual_seed(seed)
    net = DenseBlock(num_convs, input_channels, num_channels)
    x = torch.rand(*shape)
    describe = f"d2l DenseBlock({num_convs}, {input_channels}, {num_channels})"
    settings = {"num_convs": num_convs, "input_channels": input_channels, "num_channels": num_channels}
    write_case(case, "dense_block", seed, "train", net, x, describe, settings)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    conv_gn("group_norm", 40, channels=6, num_groups=3, affine=True, shape=(2, 3, 7, 5))
    conv_gn("group_norm_plain", 41, channels=4, num_groups=2, affine=False, shape=(3, 2, 5, 6))
    embed_pad("embed_padding", 42, padding_idx=0)
    ln_mlp("layer_norm_plain", 43, elementwise_affine=False, bias=True)
    ln_mlp("layer_norm_no_bias", 44, elementwise_affine=True, bias=False)
    conv_dropout2d("dropout2d_eval", 45, p=0.3)
    inception("inception", 46, in_channels=3, c1=2, c2=[2, 3], c3=[1, 2], c4=2, shape=(2, 3, 5, 7))
    dense_block("dense_block", 47, num_convs=2, input_channels=3, num_channels=4, shape=(3, 3, 5, 4))
