"""PyTorch's side of benches/sequence.rs (issue 18), run by hand on the same machine:

    python3 benches/pytorch_sequence.py

The same two training steps, on 1 and 2 threads (torch.set_num_threads), median of timed batches
of steps: an LSTM step (nn.LSTM(28, 256) on [35, 64, 28], a Linear(256, 28) on every step,
cross-entropy, backward, clip_grad_norm_(1.0), SGD) and a TransformerEncoderLayer step
((256, 8, dim_feedforward=1024, dropout=0, batch_first=True) on [32, 64, 256], mean of squares,
backward, Adam). Skipped when torch is not installed.
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


def median_time(fn, seconds=3.0, warmup=1.0):
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        fn()
    samples = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(samples) < 10:
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def lstm_step():
    torch.manual_seed(0)
    lstm, head = nn.LSTM(28, 256), nn.Linear(256, 28)
    params = list(lstm.parameters()) + list(head.parameters())
    sgd = torch.optim.SGD(params, lr=0.1)
    x = torch.randn(35, 64, 28)
    targets = torch.tensor([(i * 7) % 28 for i in range(35 * 64)])

    def step():
        output, _ = lstm(x)
        loss = nn.functional.cross_entropy(head(output.reshape(-1, 256)), targets)
        sgd.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        sgd.step()

    return step


def encoder_layer_step():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(256, 8, dim_feedforward=1024, dropout=0.0, batch_first=True)
    adam = torch.optim.Adam(layer.parameters(), lr=1e-4)
    x = torch.randn(32, 64, 256)

    def step():
        y = layer(x)
        loss = (y * y).mean()
        adam.zero_grad()
        loss.backward()
        adam.step()

    return step


def main():
    for name, make in [("lstm step", lstm_step), ("transformer encoder layer step", encoder_layer_step)]:
        times = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            times.append(median_time(make()))
        print(f"pytorch {name}: 1 thread {times[0] * 1e3:.2f} ms, 2 threads {times[1] * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
