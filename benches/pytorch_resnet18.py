"""PyTorch's side of benches/resnet18.rs (issues 19 and 21), run by hand on the same machine:

    python3 benches/pytorch_resnet18.py

torchvision.models.resnet18() in eval mode, forward under no_grad on a batch of 8 images
3x64x64, on 1 and 2 threads (torch.set_num_threads): median of timed batches of iterations,
with GFLOP/s counted as the Rust bench counts them (the products of im2col + GEMM).
Skipped when torch or torchvision is not installed. With BLOCKS_BENCH_CLOCK=thread-cpu (as the
Rust bench), the 1-thread run is timed by the calling thread's CPU time (time.thread_time: with
one thread, PyTorch computes on the caller), which leaves out the time other processes take.
"""

import os
import statistics
import sys
import time

try:
    import torch
    import torchvision
except ImportError:
    print("torch or torchvision is not installed: skipped")
    sys.exit(0)

BATCH, SIDE = 8, 64


def products():
    side = SIDE // 2
    shapes = [(64, 3 * 49, BATCH * side * side)]
    side //= 2
    channels = 64
    for stage, width in enumerate([64, 128, 256, 512]):
        if stage > 0:
            side //= 2
            shapes.append((width, channels * 9, BATCH * side * side))
            shapes.append((width, channels, BATCH * side * side))
        else:
            shapes.append((width, channels * 9, BATCH * side * side))
        shapes.extend([(width, width * 9, BATCH * side * side)] * 3)
        channels = width
    shapes.append((BATCH, 512, 1000))
    return shapes


FLOPS = sum(2 * m * k * n for m, k, n in products())


def median_time(fn, seconds=3.0, warmup=1.0, clock=time.perf_counter):
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        fn()
    start = clock()
    fn()
    one = clock() - start
    per_sample = max(1, int(0.1 / max(one, 1e-9)))
    samples = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(samples) < 10:
        start = clock()
        for _ in range(per_sample):
            fn()
        samples.append((clock() - start) / per_sample)
    return statistics.median(samples)


def main():
    torch.manual_seed(0)
    model = torchvision.models.resnet18().eval()
    x = torch.randn(BATCH, 3, SIDE, SIDE)

    def run():
        with torch.no_grad():
            model(x)

    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, {FLOPS / 1e9:.3f} GFLOP by its products")
    thread_cpu = os.environ.get("BLOCKS_BENCH_CLOCK") == "thread-cpu"
    for threads in (1, 2):
        torch.set_num_threads(threads)
        clock = time.thread_time if thread_cpu and threads == 1 else time.perf_counter
        t = median_time(run, clock=clock)
        name = "thread CPU time" if clock is time.thread_time else "wall clock"
        print(f"pytorch resnet18 {threads} thread(s): {t * 1e3:.2f} ms median ({name}), {FLOPS / t / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
