"""Writes the PyTorch reference cases for torch.optim's optimizers (with parameter groups) and
torch.optim.lr_scheduler's schedules into tests/data/conformance/optim/.

Run by hand, never by CI (the tests only read the files it wrote). Needs PyTorch 2.15 and
safetensors:

    pip install torch safetensors
    python3 tests/data/generate_optim.py            # from the repository's root

Optimizer cases, `NAME.optim.safetensors`: a tiny model Sequential(Linear(3, 4), Tanh(), Linear(4, 2))
trained with MSE on a fixed batch for a few steps, the optimizer built as a PyTorch user builds it
(one group of `net.parameters()`, or two groups: weights and biases with their own settings).
Tensors: `weights.KEY` (the parameters before training), `input`, `target`, `loss` (one value per
step, before it), `step{k}.KEY` (the parameters after step k), `state3.*` and `final.*` (PyTorch's
`optimizer.state_dict()["state"]` after step 3 and after the last step, keyed `i.name` as PyTorch
numbers the parameters). Metadata: `optimizer` (the class), `groups` (JSON: each group's parameter
keys), `param_groups` / `state3_param_groups` (JSON: PyTorch's `state_dict()["param_groups"]` at the
start and after step 3), `steps`, `optimizer_repr` (PyTorch's printout).

Schedule cases, `NAME.sched.safetensors`: an optimizer with two groups (lr 0.1 and 0.05), the
schedule, then 30 times `optimizer.step(); scheduler.step()`. Tensors (float64): `lrs` [31, 2]
(`get_last_lr()` after creation and after each step), `momenta` [31, 2] (each group's `momentum` or
`betas[0]`), `metrics` [30] for ReduceLROnPlateau. Metadata: `scheduler`, `optimizer`, `config`
(JSON of the schedule's arguments).
"""

import json
import os

import torch
from safetensors.torch import save_file
from torch import nn

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "conformance", "optim")
KEYS = ["0.weight", "0.bias", "2.weight", "2.bias"]


def model(seed):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = torch.rand(6, 3)
    y = torch.randn(6, 2)
    return net, x, y


def state_tensors(opt, prefix):
    out = {}
    for index, state in opt.state_dict()["state"].items():
        for name, value in state.items():
            if torch.is_tensor(value):
                out[f"{prefix}.{index}.{name}"] = value.detach().clone().reshape(value.shape).contiguous()
    return out


def optim_case(name, seed, cls, groups, steps=5, **defaults):
    """`groups`: None for one group of net.parameters(), else [(keys, overrides), ...]."""
    net, x, y = model(seed)
    params = dict(net.named_parameters())
    if groups is None:
        spec = [(KEYS, {})]
        opt = cls(net.parameters(), **defaults)
    else:
        spec = groups
        opt = cls([dict(params=[params[k] for k in keys], **over) for keys, over in groups], **defaults)
    tensors = {f"weights.{k}": v.detach().clone() for k, v in net.state_dict().items()}
    tensors["input"], tensors["target"] = x, y
    metadata = {
        "optimizer": type(opt).__name__,
        "groups": json.dumps([keys for keys, _ in spec]),
        "param_groups": json.dumps(opt.state_dict()["param_groups"]),
        "optimizer_repr": repr(opt),
        "steps": str(steps),
    }
    losses = []
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss = nn.functional.mse_loss(net(x), y)
        losses.append(loss.item())
        loss.backward()
        opt.step()
        for k, v in net.state_dict().items():
            tensors[f"step{step}.{k}"] = v.detach().clone()
        if step == 3:
            tensors.update(state_tensors(opt, "state3"))
            metadata["state3_param_groups"] = json.dumps(opt.state_dict()["param_groups"])
    tensors.update(state_tensors(opt, "final"))
    tensors["loss"] = torch.tensor(losses)
    save_file(tensors, os.path.join(OUT, name + ".optim.safetensors"), metadata=metadata)


def sched_case(name, make_opt, make_sched, config, metrics=None):
    w, b = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(1))
    opt = make_opt([{"params": [w]}, {"params": [b], "lr": 0.05}])
    sched = make_sched(opt)

    def momenta():
        return [g["betas"][0] if "betas" in g else g.get("momentum", 0.0) for g in opt.param_groups]

    lrs, moms = [list(sched.get_last_lr())], [momenta()]
    for epoch in range(30):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        lrs.append(list(sched.get_last_lr()))
        moms.append(momenta())
    tensors = {
        "lrs": torch.tensor(lrs, dtype=torch.float64),
        "momenta": torch.tensor(moms, dtype=torch.float64),
    }
    if metrics is not None:
        tensors["metrics"] = torch.tensor(metrics, dtype=torch.float64)
    metadata = {"scheduler": type(sched).__name__, "optimizer": type(opt).__name__, "config": json.dumps(config)}
    save_file(tensors, os.path.join(OUT, name + ".sched.safetensors"), metadata=metadata)


def optimizers():
    W, B = ["0.weight", "2.weight"], ["0.bias", "2.bias"]
    SGD, Adam, AdamW, RMSprop = torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.optim.RMSprop
    optim_case("sgd_nesterov", 1, SGD, None, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2)
    optim_case("sgd_dampening_groups", 2, SGD, [(W, {}), (B, {"lr": 0.05, "weight_decay": 0.0})],
               lr=0.1, momentum=0.9, dampening=0.3, weight_decay=1e-2)
    optim_case("adam_groups", 3, Adam, [(W, {}), (B, {"lr": 1e-3, "weight_decay": 0.0, "amsgrad": True})],
               lr=1e-2, weight_decay=1e-2)
    optim_case("adamw_groups", 4, AdamW, [(W, {}), (B, {"weight_decay": 0.0})], lr=1e-2, weight_decay=0.1)
    optim_case("rmsprop", 5, RMSprop, None)
    optim_case("rmsprop_centered_momentum", 6, RMSprop, None, lr=1e-2, alpha=0.9, momentum=0.9,
               centered=True, weight_decay=1e-2)
    optim_case("rmsprop_groups", 7, RMSprop, [(W, {"momentum": 0.5}), (B, {"lr": 1e-3, "centered": True})],
               lr=1e-2)
    optim_case("rmsprop_maximize", 8, RMSprop, None, lr=1e-3, maximize=True)
    optim_case("adagrad", 9, torch.optim.Adagrad, None, lr=0.1, lr_decay=0.01,
               initial_accumulator_value=0.1, weight_decay=1e-2)
    optim_case("adagrad_groups", 10, torch.optim.Adagrad, [(W, {}), (B, {"lr": 0.05, "lr_decay": 0.1})], lr=0.1)
    optim_case("adadelta", 11, torch.optim.Adadelta, None)
    optim_case("adadelta_groups", 12, torch.optim.Adadelta,
               [(W, {}), (B, {"lr": 0.5, "weight_decay": 0.0})], rho=0.95, weight_decay=1e-2)
    optim_case("adamax", 13, torch.optim.Adamax, None, lr=0.02, weight_decay=1e-2)
    optim_case("adamax_groups", 14, torch.optim.Adamax, [(W, {}), (B, {"lr": 0.002, "betas": (0.8, 0.99)})],
               lr=0.02)
    optim_case("nadam", 15, torch.optim.NAdam, None, lr=0.02)
    optim_case("nadam_l2", 16, torch.optim.NAdam, None, lr=0.01, weight_decay=0.1)
    optim_case("nadam_decoupled_groups", 17, torch.optim.NAdam, [(W, {}), (B, {"lr": 0.01, "weight_decay": 0.0})],
               lr=0.02, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01)
    optim_case("radam", 18, torch.optim.RAdam, None, lr=0.02)
    # beta2 = 0.9 turns the rectification on from step 7.
    optim_case("radam_rectified", 19, torch.optim.RAdam, None, steps=9, lr=0.02, betas=(0.9, 0.9), weight_decay=1e-2)
    optim_case("radam_decoupled_groups", 20, torch.optim.RAdam,
               [(W, {}), (B, {"lr": 0.005, "weight_decay": 0.0})], steps=9, lr=0.02, betas=(0.9, 0.9),
               weight_decay=0.1, decoupled_weight_decay=True)


def schedulers():
    S = torch.optim.lr_scheduler

    def sgd(groups):
        return torch.optim.SGD(groups, lr=0.1, momentum=0.9)

    def adam(groups):
        return torch.optim.Adam(groups, lr=0.1)

    sched_case("step", sgd, lambda o: S.StepLR(o, 7, 0.5), {"step_size": 7, "gamma": 0.5})
    sched_case("cosine", sgd, lambda o: S.CosineAnnealingLR(o, 10, 0.001), {"T_max": 10, "eta_min": 0.001})
    sched_case("multistep", sgd, lambda o: S.MultiStepLR(o, [5, 12, 12, 20], 0.5),
               {"milestones": [5, 12, 12, 20], "gamma": 0.5})
    sched_case("exponential", sgd, lambda o: S.ExponentialLR(o, 0.9), {"gamma": 0.9})
    sched_case("linear_warmup", sgd, lambda o: S.LinearLR(o, 0.1, 1.0, 10),
               {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 10})
    sched_case("linear_decay", sgd, lambda o: S.LinearLR(o, 1.0, 0.2, 20),
               {"start_factor": 1.0, "end_factor": 0.2, "total_iters": 20})
    sched_case("onecycle_cos", sgd, lambda o: S.OneCycleLR(o, [0.5, 0.2], total_steps=30),
               {"max_lr": [0.5, 0.2], "total_steps": 30})
    sched_case("onecycle_linear_three_phase", adam,
               lambda o: S.OneCycleLR(o, 0.3, total_steps=30, pct_start=0.25, anneal_strategy="linear",
                                      three_phase=True, base_momentum=0.8, max_momentum=0.9),
               {"max_lr": [0.3], "total_steps": 30, "pct_start": 0.25, "anneal_strategy": "linear",
                "three_phase": True, "base_momentum": 0.8, "max_momentum": 0.9})
    sched_case("onecycle_no_momentum", sgd,
               lambda o: S.OneCycleLR(o, 1.0, total_steps=31, cycle_momentum=False, div_factor=10.0,
                                      final_div_factor=100.0),
               {"max_lr": [1.0], "total_steps": 31, "cycle_momentum": False, "div_factor": 10.0,
                "final_div_factor": 100.0})
    losses = [1.0, 0.9, 0.85, 0.85, 0.86, 0.84, 0.849, 0.85, 0.8, 0.8, 0.8, 0.8, 0.79, 0.7999, 0.8,
              0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    sched_case("plateau_min_rel", sgd,
               lambda o: S.ReduceLROnPlateau(o, patience=2, factor=0.5, threshold=0.01, cooldown=1,
                                             min_lr=[0.01, 0.001]),
               {"patience": 2, "factor": 0.5, "threshold": 0.01, "cooldown": 1, "min_lr": [0.01, 0.001]},
               metrics=losses)
    accuracy = [0.1, 0.2, 0.22, 0.3, 0.3, 0.31, 0.5, 0.52, 0.53, 0.6, 0.6, 0.6, 0.66, 0.7, 0.7, 0.7,
                0.71, 0.8, 0.8, 0.8, 0.8, 0.81, 0.82, 0.9, 0.9, 0.9, 0.9, 0.9, 0.95, 0.95]
    sched_case("plateau_max_abs", sgd,
               lambda o: S.ReduceLROnPlateau(o, mode="max", threshold_mode="abs", threshold=0.05, patience=1,
                                             factor=0.3, min_lr=0.005),
               {"mode": "max", "threshold_mode": "abs", "threshold": 0.05, "patience": 1, "factor": 0.3,
                "min_lr": [0.005]},
               metrics=accuracy)

    def warmup_cosine(o):
        warmup = S.LinearLR(o, start_factor=0.1, total_iters=5)
        cosine = S.CosineAnnealingLR(o, T_max=25)
        return S.SequentialLR(o, [warmup, cosine], milestones=[5])

    sched_case("sequential_warmup_cosine", sgd, warmup_cosine,
               {"warmup": {"start_factor": 0.1, "total_iters": 5}, "T_max": 25, "milestones": [5]})
    sched_case("lambda", sgd, lambda o: S.LambdaLR(o, lambda epoch: 0.95**epoch), {"lr_lambda": "0.95 ** epoch"})
    sched_case("lambda_per_group", sgd,
               lambda o: S.LambdaLR(o, [lambda epoch: 0.95**epoch, lambda epoch: 1.0 / (epoch + 1)]),
               {"lr_lambda": ["0.95 ** epoch", "1.0 / (epoch + 1)"]})


def errors():
    """PyTorch's ValueError messages for invalid settings, in `errors.safetensors`'s metadata."""
    p = [nn.Parameter(torch.ones(1))]
    O, S = torch.optim, torch.optim.lr_scheduler

    def duplicate():
        opt = O.SGD(p, lr=0.1)
        opt.add_param_group({"params": p})

    cases = {
        "SGD lr": lambda: O.SGD(p, lr=-1.0),
        "SGD momentum": lambda: O.SGD(p, lr=0.1, momentum=-0.5),
        "SGD nesterov": lambda: O.SGD(p, lr=0.1, nesterov=True),
        "SGD add_param_group": duplicate,
        "Adam betas": lambda: O.Adam(p, betas=(1.0, 0.999)),
        "RMSprop lr": lambda: O.RMSprop(p, lr=-1.0),
        "RMSprop alpha": lambda: O.RMSprop(p, alpha=-0.5),
        "RMSprop momentum": lambda: O.RMSprop(p, momentum=-0.1),
        "RMSprop eps": lambda: O.RMSprop(p, eps=-1e-8),
        "Adagrad lr_decay": lambda: O.Adagrad(p, lr_decay=-1.0),
        "Adagrad initial_accumulator_value": lambda: O.Adagrad(p, initial_accumulator_value=-0.5),
        "Adagrad weight_decay": lambda: O.Adagrad(p, weight_decay=-0.1),
        "Adadelta rho": lambda: O.Adadelta(p, rho=1.5),
        "Adadelta eps": lambda: O.Adadelta(p, eps=-1e-6),
        "Adamax betas": lambda: O.Adamax(p, betas=(0.9, 1.0)),
        "NAdam momentum_decay": lambda: O.NAdam(p, momentum_decay=-1.0),
        "NAdam betas": lambda: O.NAdam(p, betas=(-0.1, 0.999)),
        "RAdam weight_decay": lambda: O.RAdam(p, weight_decay=-1e-3),
        "RAdam eps": lambda: O.RAdam(p, eps=-1.0),
        "LinearLR start_factor": lambda: S.LinearLR(O.SGD(p, lr=0.1), start_factor=0.0),
        "LinearLR end_factor": lambda: S.LinearLR(O.SGD(p, lr=0.1), end_factor=1.5),
        "OneCycleLR pct_start": lambda: S.OneCycleLR(O.SGD(p, lr=0.1, momentum=0.9), 0.1, total_steps=10,
                                                     pct_start=1.5),
        "OneCycleLR cycle_momentum": lambda: S.OneCycleLR(O.Adagrad(p), 0.1, total_steps=10),
        "ReduceLROnPlateau factor": lambda: S.ReduceLROnPlateau(O.SGD(p, lr=0.1), factor=1.0),
        "SequentialLR milestones": lambda: (lambda o: S.SequentialLR(o, [S.ExponentialLR(o, 0.9)], milestones=[3]))(
            O.SGD(p, lr=0.1)),
    }
    messages = {}
    for name, make in cases.items():
        try:
            make()
        except ValueError as error:
            messages[name] = str(error)
        else:
            raise SystemExit(f"{name}: PyTorch accepted it")
    save_file({"none": torch.zeros(1)}, os.path.join(OUT, "errors.safetensors"), metadata=messages)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    optimizers()
    schedulers()
    errors()
    print("wrote", len(os.listdir(OUT)), "files to", OUT)
