"""PyTorch's side of benches/conv.rs (issue 21), run by hand on the same machine:

    python3 benches/pytorch_conv.py

W7: Conv2d(64, 64, 3, padding=1) forward on [32, 64, 32, 32] under no_grad.
W6: one SGD step of the digits CNN at batch 64 on [64, 1, 8, 8]: Conv2d(1, 32, 3, p1, no bias),
BatchNorm2d(32), ReLU, MaxPool2d(2), Conv2d(32, 64, 3, p1, no bias), BatchNorm2d(64), ReLU,
Flatten, Linear(1024, 128), ReLU, Linear(128, 10), cross-entropy, SGD(lr=0.01).
Each on 1 and 2 threads (torch.set_num_threads): median of timed batches of iterations,
with GFLOP/s counted as the Rust bench counts them. Skipped when torch is not installed.
"""

import statistics
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    print("torch is not installed: skipped")
    sys.exit(0)

W7_FLOPS = 2 * 64 * 64 * 9 * 32 * 32 * 32
B = 64
W6_SHAPES = [
    (32, 9, B * 64), (32, B * 64, 9),
    (64, 288, B * 16), (64, B * 16, 288), (288, 64, B * 16),
    (B, 1024, 128), (128, B, 1024), (B, 128, 1024),
    (B, 128, 10), (10, B, 128), (B, 10, 128),
]
W6_FLOPS = sum(2 * m * k * n for m, k, n in W6_SHAPES)


def median_time(fn, seconds=3.0, warmup=1.0):
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        fn()
    start = time.perf_counter()
    fn()
    one = time.perf_counter() - start
    per_sample = max(1, int(0.1 / max(one, 1e-9)))
    samples = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(samples) < 10:
        start = time.perf_counter()
        for _ in range(per_sample):
            fn()
        samples.append((time.perf_counter() - start) / per_sample)
    return statistics.median(samples)


def w7():
    torch.manual_seed(0)
    x = torch.randn(32, 64, 32, 32)
    conv = nn.Conv2d(64, 64, 3, padding=1)

    def run():
        with torch.no_grad():
            conv(x)

    return median_time(run), W7_FLOPS


def w6():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Flatten(), nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x = torch.rand(B, 1, 8, 8)
    y = torch.tensor([(i * 7 + 3) % 10 for i in range(B)])
    loss_fn = nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()

    return median_time(step), W6_FLOPS


print(f"torch {torch.__version__}, {torch.get_num_threads()} threads by default")
for name, workload in [("w7", w7), ("w6", w6)]:
    for threads in (1, 2):
        torch.set_num_threads(threads)
        t, flops = workload()
        print(f"pytorch {name} {threads} thread(s): {t * 1e3:.2f} ms median, {flops / t / 1e9:.1f} GFLOP/s")
