"""Prints the known answers in blocks-core/tests/optim_*.rs, computed by torch.optim.

Run with any PyTorch 2.x (the numbers in the tests came from 2.15, CPU, float32):
    python optim_reference.py > /tmp/reference.txt
The tests do not run this; it documents where their expected values came from.
"""

import math
import struct

import torch

torch.set_num_threads(1)

INIT = {
    "p0": [[0.5, -1.2, 0.3], [2.0, 0.1, -0.7]],
    "p1": [0.4, -0.9],
    "p2": [1.5],
}
A = [[1.0, 0.5, 2.0], [0.25, 3.0, 1.0]]
STEPS = 5


def params(frozen_p2=False):
    p0 = torch.tensor(INIT["p0"], requires_grad=True)
    p1 = torch.tensor(INIT["p1"], requires_grad=True)
    p2 = torch.tensor(INIT["p2"], requires_grad=not frozen_p2)
    return p0, p1, p2


def loss_of(p0, p1, p2):
    # Same expression, same order, as `loss_of` in the Rust tests.
    a = torch.tensor(A)
    return (p0 * p0 * a).sum() + (p1 * p1 * p1 * p1).sum() + (p1 * p2).sum() + (p2 * p2).sum()


def run(make, steps=STEPS, frozen_p2=False, listed=None):
    p0, p1, p2 = params(frozen_p2)
    opt = make(listed(p0, p1, p2) if listed else [p0, p1, p2])
    trace = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_of(p0, p1, p2)
        loss.backward()
        opt.step()
        trace.append([v for p in (p0, p1, p2) for v in p.detach().flatten().tolist()])
    return trace, opt


def f32(v):
    # The fewest significant digits that name the float32 exactly (at most nine);
    # Rust wants a dot in a float literal.
    exact = struct.unpack("f", struct.pack("f", v))[0]
    for digits in range(1, 10):
        text = "%.*g" % (digits, exact)
        if struct.unpack("f", struct.pack("f", float(text)))[0] == exact:
            break
    return text if any(c in text for c in ".en") else text + ".0"


def rust(name, trace):
    rows = ",\n".join("    [" + ", ".join(f32(v) for v in row) + "]" for row in trace)
    print(f"#[rustfmt::skip]\nconst {name}: [[f32; 9]; {len(trace)}] = [\n{rows},\n];")


O = torch.optim
CASES = {
    "SGD_PLAIN": lambda p: O.SGD(p, lr=0.1),
    "SGD_MOMENTUM": lambda p: O.SGD(p, lr=0.05, momentum=0.9),
    "SGD_DAMPENING": lambda p: O.SGD(p, lr=0.05, momentum=0.9, dampening=0.5),
    "SGD_NESTEROV": lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "SGD_WEIGHT_DECAY": lambda p: O.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.3),
    "SGD_MAXIMIZE": lambda p: O.SGD(p, lr=0.01, momentum=0.5, maximize=True),
    "ADAM_DEFAULT": lambda p: O.Adam(p, lr=0.1),
    "ADAM_L2": lambda p: O.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.3),
    "ADAM_AMSGRAD": lambda p: O.Adam(p, lr=0.05, amsgrad=True),
    "ADAMW": lambda p: O.AdamW(p, lr=0.1, weight_decay=0.3),
    "ADAMW_AMSGRAD": lambda p: O.Adam(p, lr=0.1, weight_decay=0.3, amsgrad=True, decoupled_weight_decay=True),
    "ADAM_MAXIMIZE": lambda p: O.Adam(p, lr=0.01, maximize=True),
}

for name, make in CASES.items():
    trace, _ = run(make)
    rust(name, trace)

# A frozen parameter (requires_grad=False) gets no gradient and is skipped.
trace, _ = run(lambda p: O.Adam(p, lr=0.1), frozen_p2=True)
rust("ADAM_FROZEN_P2", trace)

# AMSGrad over 12 steps, where max_exp_avg_sq and exp_avg_sq part ways.
trace, _ = run(lambda p: O.Adam(p, lr=0.2, betas=(0.5, 0.6), amsgrad=True), steps=12)
rust("ADAM_AMSGRAD_LONG", trace)

for name, make in [("SGD", lambda p: O.SGD(p, lr=0.1)), ("ADAM", lambda p: O.Adam(p)),
                   ("ADAMW", lambda p: O.AdamW(p, lr=0.01, amsgrad=True))]:
    print(f"// repr {name}: {make([torch.zeros(1, requires_grad=True)])!r}")


def schedule(make, epochs, lr=0.1):
    w = torch.zeros(1, requires_grad=True)
    opt = O.SGD([w], lr=lr)
    sched = make(opt)
    rates = [sched.get_last_lr()[0]]
    for _ in range(epochs):
        opt.step()
        sched.step()
        rates.append(sched.get_last_lr()[0])
    return rates


def rust64(name, rates):
    print(f"const {name}: [f64; {len(rates)}] = [" + ", ".join(repr(r) for r in rates) + "];")


rust64("STEP_LR_3_0_1", schedule(lambda o: O.lr_scheduler.StepLR(o, step_size=3, gamma=0.1), 12))
rust64("STEP_LR_1_0_7", schedule(lambda o: O.lr_scheduler.StepLR(o, step_size=1, gamma=0.7), 10, lr=0.3))
rust64("COSINE_10", schedule(lambda o: O.lr_scheduler.CosineAnnealingLR(o, T_max=10), 25))
rust64("COSINE_7_ETA", schedule(lambda o: O.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01), 30, lr=0.5))
closed = [0.01 + (0.5 - 0.01) * (1 + math.cos(math.pi * e / 7)) / 2 for e in range(31)]
rust64("COSINE_7_ETA_CLOSED_FORM", closed)
