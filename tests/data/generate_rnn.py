"""Writes the PyTorch reference cases for nn.RNN, nn.LSTM, nn.GRU and their cells into
tests/data/conformance/rnn/.

Run by hand, never by CI (the tests only read the files it wrote). Needs PyTorch 2.15 and
safetensors:

    python3 tests/data/generate_rnn.py            # from the repository's root

Each case is built the way a PyTorch user builds it (nn.LSTM(3, 5, num_layers=2, ...)), seeded,
and written in the format of tests/data/conformance/README.md: NAME.weights.safetensors (the
state_dict) and NAME.io.safetensors:

- `input` (requires grad), `h0` (and `c0` for an LSTM) when the case gives an initial state;
- `output`, `h_n` (and `c_n`); for a cell `h` (and `c`);
- the backward of a weighted sum of everything the layer gives,
  `(output * w_output).sum() + (h_n * w_h_n).sum() (+ (c_n * w_c_n).sum())`, the weights stored as
  `w_output`, `w_h_n`, `w_c_n` (`w_h`, `w_c` for a cell): `input_grad`, `h0_grad`, `c0_grad`,
  `grad.KEY` for every parameter;
- metadata: `arch` (rnn, lstm, gru, rnn_cell, lstm_cell, gru_cell), `mode` (train/eval), the
  settings a state_dict does not show (`nonlinearity`, `batch_first`, `dropout`), `module_repr`
  (PyTorch's printout) and `keys` (the state_dict's keys in order, a JSON list).

Sizes (input_size, hidden_size, proj_size, num_layers, bidirectional, bias) are for the reader to
find in the weights; they are also in the metadata for people reading the files.
"""

import itertools
import json
import os

import torch
from safetensors.torch import save_file
from torch import nn

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "conformance", "rnn")

LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
CELLS = {"rnn_cell": nn.RNNCell, "lstm_cell": nn.LSTMCell, "gru_cell": nn.GRUCell}


def flag(value):
    return "true" if value else "false"


def save(case, net, io, metadata):
    weights = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    for key, p in net.named_parameters():
        io["grad." + key] = p.grad.detach().contiguous()
    metadata = {k: str(v) for k, v in metadata.items()}
    metadata["module_repr"] = repr(net)
    metadata["keys"] = json.dumps(list(net.state_dict().keys()))
    io = {k: v.detach().contiguous() for k, v in io.items()}
    save_file(weights, os.path.join(OUT, case + ".weights.safetensors"))
    save_file(io, os.path.join(OUT, case + ".io.safetensors"), metadata=metadata)
    print(case, "written:", repr(net))


def layer_case(case, arch, seed, *, nonlinearity="tanh", num_layers=1, bidirectional=False,
               batch_first=False, with_state=False, mode="train", dropout=0.0, bias=True,
               proj_size=0, unbatched=False, input_size=3, hidden_size=5, steps=4, batch=2):
    torch.manual_seed(seed)
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                  dropout=dropout, bias=bias)
    if arch == "rnn":
        kwargs["nonlinearity"] = nonlinearity
    if proj_size:
        kwargs["proj_size"] = proj_size
    net = LAYERS[arch](input_size, hidden_size, **kwargs)
    net.train(mode == "train")
    directions = 2 if bidirectional else 1
    real_hidden = proj_size or hidden_size
    if unbatched:
        x = torch.randn(steps, input_size)
        state_shape, cell_shape = (num_layers * directions, real_hidden), (num_layers * directions, hidden_size)
    else:
        x = torch.randn(batch, steps, input_size) if batch_first else torch.randn(steps, batch, input_size)
        state_shape = (num_layers * directions, batch, real_hidden)
        cell_shape = (num_layers * directions, batch, hidden_size)
    x.requires_grad_(True)
    io = {"input": x}
    h0 = c0 = None
    if with_state:
        h0 = torch.randn(state_shape).requires_grad_(True)
        io["h0"] = h0
        if arch == "lstm":
            c0 = torch.randn(cell_shape).requires_grad_(True)
            io["c0"] = c0
    if arch == "lstm":
        output, (h_n, c_n) = net(x, (h0, c0)) if with_state else net(x)
    else:
        output, h_n = net(x, h0) if with_state else net(x)
        c_n = None
    w_output, w_h_n = torch.randn(output.shape), torch.randn(h_n.shape)
    loss = (output * w_output).sum() + (h_n * w_h_n).sum()
    io.update(output=output, h_n=h_n, w_output=w_output, w_h_n=w_h_n)
    if c_n is not None:
        w_c_n = torch.randn(c_n.shape)
        loss = loss + (c_n * w_c_n).sum()
        io.update(c_n=c_n, w_c_n=w_c_n)
    loss.backward()
    io["input_grad"] = x.grad
    if h0 is not None:
        io["h0_grad"] = h0.grad
    if c0 is not None:
        io["c0_grad"] = c0.grad
    save(case, net, io, {
        "case": case, "arch": arch, "seed": seed, "mode": mode, "nonlinearity": nonlinearity,
        "num_layers": num_layers, "bidirectional": flag(bidirectional), "batch_first": flag(batch_first),
        "dropout": dropout, "bias": flag(bias), "proj_size": proj_size, "input_size": input_size,
        "hidden_size": hidden_size, "with_state": flag(with_state), "unbatched": flag(unbatched),
        "backward_of": "(output * w_output).sum() + (h_n * w_h_n).sum() + (c_n * w_c_n).sum()",
    })


def cell_case(case, arch, seed, *, nonlinearity="tanh", bias=True, with_state=False, unbatched=False,
              input_size=3, hidden_size=5, batch=2):
    torch.manual_seed(seed)
    kwargs = {"bias": bias}
    if arch == "rnn_cell":
        kwargs["nonlinearity"] = nonlinearity
    net = CELLS[arch](input_size, hidden_size, **kwargs)
    shape = (hidden_size,) if unbatched else (batch, hidden_size)
    x = (torch.randn(input_size) if unbatched else torch.randn(batch, input_size)).requires_grad_(True)
    io = {"input": x}
    h0 = c0 = None
    if with_state:
        h0 = torch.randn(shape).requires_grad_(True)
        io["h0"] = h0
        if arch == "lstm_cell":
            c0 = torch.randn(shape).requires_grad_(True)
            io["c0"] = c0
    if arch == "lstm_cell":
        h, c = net(x, (h0, c0)) if with_state else net(x)
    else:
        h, c = (net(x, h0) if with_state else net(x)), None
    w_h = torch.randn(h.shape)
    loss = (h * w_h).sum()
    io.update(h=h, w_h=w_h)
    if c is not None:
        w_c = torch.randn(c.shape)
        loss = loss + (c * w_c).sum()
        io.update(c=c, w_c=w_c)
    loss.backward()
    io["input_grad"] = x.grad
    if h0 is not None:
        io["h0_grad"] = h0.grad
    if c0 is not None:
        io["c0_grad"] = c0.grad
    save(case, net, io, {
        "case": case, "arch": arch, "seed": seed, "mode": "train", "nonlinearity": nonlinearity,
        "bias": flag(bias), "input_size": input_size, "hidden_size": hidden_size,
        "with_state": flag(with_state), "unbatched": flag(unbatched),
        "backward_of": "(h * w_h).sum() + (c * w_c).sum()",
    })


class LSTMClassifier(nn.Module):
    """A user's LSTM classifier: the last step's output of a 2-layer bidirectional LSTM, then a Linear."""

    def __init__(self, input_size, hidden_size, classes):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden_size, classes)

    def forward(self, x):
        output, _ = self.lstm(x)
        return self.head(output[:, -1])


def training_case(case, seed, input_size, hidden_size, classes, shape, steps, lr):
    """Adam for `steps` full-batch steps on cross-entropy, written to rnn_training/: the loss before
    each step (`loss`), the final parameters (`final.KEY`), the input and targets, and PyTorch's
    printouts of the model and the optimizer."""
    out = os.path.join(HERE, "conformance", "rnn_training")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(seed)
    net = LSTMClassifier(input_size, hidden_size, classes)
    weights = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    x = torch.randn(shape)
    target = torch.randint(0, classes, (shape[0],))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), target)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    io = {"input": x, "target": target, "loss": torch.tensor(losses)}
    for key, v in net.state_dict().items():
        io["final." + key] = v.detach().clone().contiguous()
    metadata = {
        "case": case, "arch": "lstm_classifier", "seed": str(seed), "mode": "train",
        "describe": "LSTM(num_layers=2, batch_first, bidirectional) + Linear on the last step, "
                    "cross-entropy, Adam, full batch",
        "input_size": str(input_size), "hidden_size": str(hidden_size), "classes": str(classes),
        "steps": str(steps), "optimizer": "adam", "lr": str(lr), "optimizer_repr": repr(opt),
        "keys": json.dumps(list(weights.keys())), "module_repr": repr(net),
    }
    save_file(weights, os.path.join(out, case + ".weights.safetensors"))
    save_file(io, os.path.join(out, case + ".io.safetensors"), metadata=metadata)
    print(case, "written")


def main():
    training_case("lstm_classifier_adam", 400, 5, 8, 3, (6, 7, 5), 4, 0.01)
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.endswith(".safetensors"):
            os.remove(os.path.join(OUT, name))
    seed = 100
    # Every layer type x num_layers 1/2 x bidirectional x batch_first x initial state; the mode
    # alternates so that both train (dropout 0) and eval appear for every layer type.
    for arch, num_layers, bidirectional, batch_first, with_state in itertools.product(
            ["rnn", "lstm", "gru"], [1, 2], [False, True], [False, True], [False, True]):
        seed += 1
        mode = "train" if (num_layers + bidirectional + batch_first + with_state) % 2 == 0 else "eval"
        case = "{}_l{}{}{}{}".format(arch, num_layers, "_bi" if bidirectional else "",
                                     "_bf" if batch_first else "", "_h0" if with_state else "")
        layer_case(case, arch, seed, num_layers=num_layers, bidirectional=bidirectional,
                   batch_first=batch_first, with_state=with_state, mode=mode)
    # The rest of the settings on odd sizes.
    layer_case("rnn_relu_l2_bi", "rnn", 201, nonlinearity="relu", num_layers=2, bidirectional=True,
               with_state=True, input_size=4, hidden_size=3, steps=5, batch=3)
    layer_case("rnn_no_bias", "rnn", 202, bias=False, num_layers=2)
    layer_case("lstm_no_bias_bf", "lstm", 203, bias=False, batch_first=True, bidirectional=True)
    layer_case("gru_no_bias_l2", "gru", 204, bias=False, num_layers=2, with_state=True)
    layer_case("lstm_proj", "lstm", 205, proj_size=2, num_layers=2, with_state=True)
    layer_case("lstm_proj_bi_bf", "lstm", 206, proj_size=3, bidirectional=True, batch_first=True,
               hidden_size=4)
    layer_case("lstm_unbatched", "lstm", 207, unbatched=True, num_layers=2, bidirectional=True, with_state=True)
    layer_case("gru_unbatched", "gru", 208, unbatched=True, batch_first=True)
    layer_case("rnn_unbatched", "rnn", 209, unbatched=True, nonlinearity="relu")
    # Dropout between layers in eval: no dropout at all, numbers as PyTorch's.
    layer_case("lstm_dropout_eval", "lstm", 210, num_layers=3, dropout=0.5, mode="eval", steps=3)
    layer_case("gru_dropout_eval", "gru", 211, num_layers=2, dropout=0.25, mode="eval", bidirectional=True)
    layer_case("lstm_odd", "lstm", 212, num_layers=2, input_size=7, hidden_size=6, steps=9, batch=1,
               with_state=True, batch_first=True)
    for arch, nonlinearity, bias, with_state, unbatched, seed in [
        ("rnn_cell", "tanh", True, False, False, 301), ("rnn_cell", "relu", True, True, False, 302),
        ("rnn_cell", "tanh", False, True, True, 303), ("lstm_cell", "tanh", True, False, False, 304),
        ("lstm_cell", "tanh", True, True, False, 305), ("lstm_cell", "tanh", False, True, True, 306),
        ("gru_cell", "tanh", True, False, False, 307), ("gru_cell", "tanh", True, True, False, 308),
        ("gru_cell", "tanh", False, True, True, 309),
    ]:
        case = "{}{}{}{}{}".format(arch, "_relu" if nonlinearity == "relu" else "", "" if bias else "_no_bias",
                                   "_h0" if with_state else "", "_unbatched" if unbatched else "")
        cell_case(case, arch, seed, nonlinearity=nonlinearity, bias=bias, with_state=with_state,
                  unbatched=unbatched)


if __name__ == "__main__":
    main()
