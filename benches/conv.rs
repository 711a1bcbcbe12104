//! The convolution workloads of issue 21, each paired in the same run with
//! a hand-written floor (faer products of the same shapes, nothing else)
//! and the machine's FMA peak probe:
//!
//! - **W7**: `Conv2d(64, 64, 3, padding=1)` (with bias) forward on
//!   `[32, 64, 32, 32]` under `no_grad`, on 1 and 2 threads; the floor is
//!   the one product `[64, 576] · [576, 32768]` (the same multiply-adds),
//!   on 1 thread and cut in two column halves on 2.
//! - **W6**: one SGD step of a digits CNN at batch 64 on `[64, 1, 8, 8]`:
//!   Conv2d(1, 32, 3, p1, no bias), BatchNorm2d(32), ReLU, MaxPool2d(2),
//!   Conv2d(32, 64, 3, p1, no bias), BatchNorm2d(64), ReLU, Flatten (1024),
//!   Linear(1024, 128), ReLU, Linear(128, 10), cross-entropy, SGD, on 1 and
//!   2 threads; the floor is every product of the step (forward, the
//!   weights' gradients, the inputs' gradients except the first layer's),
//!   by faer on 1 thread.
//! - **W7 train**: W7 with gradients (forward, then the input's, weight's
//!   and bias's gradients); the floor is its three products.
//!
//! ```text
//! cargo bench --bench conv -- --warm-up-time 1 --measurement-time 3
//! cargo bench --bench conv -- w7_conv # the convolution forward only
//! cargo bench --bench conv -- w7_train # its forward and backward
//! cargo bench --bench conv -- w6_scaling # W6 on 2 threads against 1, paired, and the ceiling
//! CONV_BENCH_PROFILE=w6 cargo bench --bench conv   # the blocks side alone, for perf
//! CONV_BENCH_PROFILE=w6 CONV_BENCH_THREADS=2 cargo bench --bench conv   # the same on 2 threads
//! ```
//!
//! `benches/pytorch_conv.py` runs the same two workloads in PyTorch.

mod common;

use std::hint::black_box;
use std::time::Duration;

use blocks::optim::{Optimizer, Sgd, SgdConfig};
use blocks::{Conv2dOptions, Tensor, manual_seed, no_grad, set_num_threads};
use common::scaling::{two_streams_against_one, two_threads_against_one};
use common::timing::Clock;
use common::{Peak, bench, median, selected};
use criterion::Criterion;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};

/// One faer product `m × k` by `k × n` into a kept output, on one thread.
struct Product {
    a: Mat<f32>,
    b: Mat<f32>,
    c: Mat<f32>,
}

impl Product {
    fn new((m, k, n): (usize, usize, usize)) -> Self {
        let value = |i: usize, j: usize| ((i * 31 + j * 17) % 23) as f32 / 23.0 - 0.5;
        Product { a: Mat::from_fn(m, k, value), b: Mat::from_fn(k, n, value), c: Mat::zeros(m, n) }
    }

    fn run(&mut self) {
        matmul(self.c.as_mut(), Accum::Replace, self.a.as_ref(), self.b.as_ref(), 1.0, Par::Seq);
    }

    /// The product with its output's columns cut in two halves, one per
    /// thread (a scoped thread for the second).
    fn run_two_threads(&mut self) {
        let half = self.c.ncols() / 2;
        let (b0, b1) = self.b.as_ref().split_at_col(half);
        let (c0, c1) = self.c.as_mut().split_at_col_mut(half);
        let a = self.a.as_ref();
        std::thread::scope(|scope| {
            scope.spawn(move || matmul(c1, Accum::Replace, a, b1, 1.0, Par::Seq));
            matmul(c0, Accum::Replace, a, b0, 1.0, Par::Seq);
        });
    }
}

/// `2 · m · k · n` summed over `shapes`.
fn flops(shapes: &[(usize, usize, usize)]) -> f64 {
    shapes.iter().map(|&(m, k, n)| 2.0 * (m * k * n) as f64).sum()
}

const W7_SHAPE: (usize, usize, usize) = (64, 64 * 9, 32 * 32 * 32);

fn w7(c: &mut Criterion, clock: Clock, peak: Option<&Peak>) {
    manual_seed(0);
    let x = Tensor::randn([32, 64, 32, 32]);
    let w = Tensor::randn([64, 64, 3, 3]) * (1.0 / 24.0);
    let b = Tensor::randn([64]) * 0.1;
    let same = Conv2dOptions { padding: [1, 1], ..Default::default() };
    let forward = || no_grad(|| x.conv2d(&w, Some(&b), same));
    let mut floor = Product::new(W7_SHAPE);
    let samples = 10;
    let mut group = c.benchmark_group("w7_conv_forward");
    group.sample_size(samples);
    set_num_threads(1);
    let floor_1 = bench(&mut group, "floor_1_thread", clock, || floor.run());
    let blocks_1 = bench(&mut group, "blocks_1_thread", clock, forward);
    set_num_threads(2);
    let floor_2 = bench(&mut group, "floor_2_threads", Clock::Wall, || floor.run_two_threads());
    let blocks_2 = bench(&mut group, "blocks_2_threads", Clock::Wall, forward);
    set_num_threads(1);
    group.finish();
    let flops = flops(&[W7_SHAPE]);
    report("w7", flops, peak, samples, [&floor_1, &blocks_1, &floor_2, &blocks_2]);
}

/// The products of W7's forward and backward: `W · cols`, `Wᵀ · dy` and
/// `dy · colsᵀ`.
const W7_TRAIN_SHAPES: [(usize, usize, usize); 3] =
    [W7_SHAPE, (W7_SHAPE.1, W7_SHAPE.0, W7_SHAPE.2), (W7_SHAPE.0, W7_SHAPE.2, W7_SHAPE.1)];

/// W7 with gradients: the forward, then `backward()` of `sum(y ⊙ c)` to the
/// input, the weight and the bias; the floor is the three products on one
/// thread (and their outputs' columns or rows cut in two on 2).
fn w7_train(c: &mut Criterion, clock: Clock, peak: Option<&Peak>) {
    manual_seed(0);
    let x = Tensor::randn([32, 64, 32, 32]).requires_grad_(true);
    let w = (Tensor::randn([64, 64, 3, 3]) * (1.0 / 24.0)).requires_grad_(true);
    let b = (Tensor::randn([64]) * 0.1).requires_grad_(true);
    let dy = Tensor::randn([32, 64, 32, 32]);
    let same = Conv2dOptions { padding: [1, 1], ..Default::default() };
    let step = || {
        (&x.conv2d(&w, Some(&b), same) * &dy).sum().backward();
        for p in [&x, &w, &b] {
            p.zero_grad();
        }
    };
    let mut floor: Vec<Product> = W7_TRAIN_SHAPES.iter().map(|&s| Product::new(s)).collect();
    let samples = 10;
    let mut group = c.benchmark_group("w7_train_conv_forward_backward");
    group.sample_size(samples);
    set_num_threads(1);
    let floor_1 = bench(&mut group, "floor_1_thread", clock, || floor.iter_mut().for_each(Product::run));
    let blocks_1 = bench(&mut group, "blocks_1_thread", clock, step);
    set_num_threads(2);
    let floor_2 = bench(&mut group, "floor_2_threads", Clock::Wall, || {
        floor.iter_mut().for_each(Product::run_two_threads)
    });
    let blocks_2 = bench(&mut group, "blocks_2_threads", Clock::Wall, step);
    set_num_threads(1);
    group.finish();
    report("w7_train", flops(&W7_TRAIN_SHAPES), peak, samples, [&floor_1, &blocks_1, &floor_2, &blocks_2]);
}

/// Prints each timing's median as ms, GFLOP/s, the share of the peak, and
/// blocks against the floor, for 1 and 2 threads.
fn report(name: &str, flops: f64, peak: Option<&Peak>, samples: usize, timings: [&common::Timings; 4]) {
    let [floor_1, blocks_1, floor_2, blocks_2] =
        timings.map(|t| median(t, samples).map_or(f64::NAN, |d| d.as_secs_f64()));
    for (threads, floor, blocks) in [(1, floor_1, blocks_1), (2, floor_2, blocks_2)] {
        let of_peak = |t: f64| peak.map_or(f64::NAN, |p| 100.0 * flops / t / 1e9 / p.of(threads));
        println!(
            "{name} {threads} thread(s): blocks {:.2} ms ({:.1} GFLOP/s, {:.0}% of peak), floor {:.2} ms \
             ({:.1} GFLOP/s, {:.0}% of peak); blocks/floor time {:.3}",
            blocks * 1e3,
            flops / blocks / 1e9,
            of_peak(blocks),
            floor * 1e3,
            flops / floor / 1e9,
            of_peak(floor),
            blocks / floor
        );
    }
    println!("{name}: blocks 2 threads against 1: {:.2}x", blocks_1 / blocks_2);
}

const BATCH: usize = 64;

/// The products of one W6 step, `(m, k, n)`: forward, weight gradient and
/// input gradient of each layer, as im2col + GEMM and linear layers do them.
fn w6_shapes() -> Vec<(usize, usize, usize)> {
    let (p1, p2) = (BATCH * 8 * 8, BATCH * 4 * 4);
    vec![
        (32, 9, p1),
        (32, p1, 9),
        (64, 32 * 9, p2),
        (64, p2, 32 * 9),
        (32 * 9, 64, p2),
        (BATCH, 1024, 128),
        (128, BATCH, 1024),
        (BATCH, 128, 1024),
        (BATCH, 128, 10),
        (10, BATCH, 128),
        (BATCH, 10, 128),
    ]
}

/// The W6 network from plain ops, its parameters, the batch and SGD.
struct DigitsStep {
    params: Vec<Tensor>,
    optimizer: Sgd,
    x: Tensor,
    labels: Vec<usize>,
}

impl DigitsStep {
    fn new() -> Self {
        manual_seed(0);
        let scaled = |shape: &[usize], fan_in: usize| {
            (Tensor::randn(shape) * (1.0 / (fan_in as f32).sqrt())).requires_grad_(true)
        };
        let ones = |c: usize| Tensor::ones([c]).requires_grad_(true);
        let zeros = |c: usize| Tensor::zeros([c]).requires_grad_(true);
        let params = vec![
            scaled(&[32, 1, 3, 3], 9),
            ones(32),
            zeros(32),
            scaled(&[64, 32, 3, 3], 288),
            ones(64),
            zeros(64),
            scaled(&[128, 1024], 1024),
            zeros(128),
            scaled(&[10, 128], 128),
            zeros(10),
        ];
        let optimizer = Sgd::new(params.clone(), SgdConfig { lr: 0.01, ..Default::default() });
        let x = Tensor::rand([BATCH, 1, 8, 8]);
        let labels = (0..BATCH).map(|i| (i * 7 + 3) % 10).collect();
        DigitsStep { params, optimizer, x, labels }
    }

    fn step(&mut self) -> f32 {
        let p = &self.params;
        let same = Conv2dOptions { padding: [1, 1], ..Default::default() };
        let h = self.x.conv2d(&p[0], None, same).batch_norm_train(Some(&p[1]), Some(&p[2]), 1e-5).0;
        let h = h.relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let h = h.conv2d(&p[3], None, same).batch_norm_train(Some(&p[4]), Some(&p[5]), 1e-5).0;
        let h = h.relu().flatten(1, -1).linear(&p[6], Some(&p[7])).relu();
        let loss = h.linear(&p[8], Some(&p[9])).cross_entropy(&self.labels);
        loss.backward();
        self.optimizer.step();
        self.optimizer.zero_grad();
        loss.item()
    }
}

fn w6(c: &mut Criterion, clock: Clock, peak: Option<&Peak>) {
    let shapes = w6_shapes();
    let mut floor: Vec<Product> = shapes.iter().map(|&s| Product::new(s)).collect();
    let mut run_floor = || floor.iter_mut().for_each(Product::run);
    let mut net = DigitsStep::new();
    let first = net.step();
    assert!(first.is_finite() && first > 0.5, "W6: first loss {first}");
    let samples = 20;
    let mut group = c.benchmark_group("w6_digits_step");
    group.sample_size(samples);
    set_num_threads(1);
    let floor_1 = bench(&mut group, "floor_1_thread", clock, &mut run_floor);
    let blocks_1 = bench(&mut group, "blocks_1_thread", clock, || net.step());
    set_num_threads(2);
    // The floor's products are small: on 2 threads it is the 1-thread floor.
    let floor_2 = bench(&mut group, "floor_2_threads", Clock::Wall, &mut run_floor);
    let blocks_2 = bench(&mut group, "blocks_2_threads", Clock::Wall, || net.step());
    set_num_threads(1);
    group.finish();
    black_box(net.step());
    report("w6", flops(&shapes), peak, samples, [&floor_1, &blocks_1, &floor_2, &blocks_2]);
}

/// W6 on 2 threads against 1 in paired rounds (the thread counts alternate
/// within each round), and the machine's ceiling: two independent 1-thread
/// steps at once (see `common::scaling`). `cargo bench --bench conv -- w6_scaling`.
fn w6_scaling() {
    let (mut one, mut other) = (DigitsStep::new(), DigitsStep::new());
    let blocks = two_threads_against_one(|| one.step(), 20);
    let ceiling = two_streams_against_one(&mut one, &mut other, DigitsStep::step, 20);
    set_num_threads(1);
    println!(
        "w6: 2 threads against 1, paired: blocks {}; ceiling (two independent 1-thread steps at once) {}",
        blocks.show(),
        ceiling.show()
    );
}

/// `CONV_BENCH_PROFILE=w6`, `w7` or `w7_train`: the blocks side alone, on 1 thread
/// (or `CONV_BENCH_THREADS`), for 10 seconds, for a profiler (`perf record`), instead of the benches.
fn profile(workload: &str) {
    let threads = std::env::var("CONV_BENCH_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(1);
    set_num_threads(threads);
    let until = std::time::Instant::now() + Duration::from_secs(10);
    if workload == "w6" {
        let mut net = DigitsStep::new();
        black_box(net.step());
        let (start, mut steps) = (std::time::Instant::now(), 0u32);
        let (caller, process) = (common::timing::thread_cpu_time(), process_cpu_ticks());
        while std::time::Instant::now() < until {
            black_box(net.step());
            steps += 1;
        }
        let per_step = |d: Duration| d / steps.max(1);
        let caller = common::timing::thread_cpu_time().zip(caller).map(|(end, begin)| per_step(end - begin));
        let process = process_cpu_ticks().zip(process).map(|(end, begin)| {
            per_step(Duration::from_millis(10 * (end - begin))) // 100 ticks a second
        });
        println!(
            "w6, {threads} thread(s): {:.2?} per step over {steps} steps; CPU per step: calling thread {caller:.2?}, \
             process {process:.2?}",
            per_step(start.elapsed())
        );
        return;
    }
    manual_seed(0);
    let train = workload == "w7_train";
    let (x, w) = (Tensor::randn([32, 64, 32, 32]), Tensor::randn([64, 64, 3, 3]).requires_grad_(train));
    let x = x.requires_grad_(train);
    let same = Conv2dOptions { padding: [1, 1], ..Default::default() };
    while std::time::Instant::now() < until {
        if train {
            x.conv2d(&w, None, same).sum().backward();
            x.zero_grad();
            w.zero_grad();
        } else {
            black_box(no_grad(|| x.conv2d(&w, None, same)));
        }
    }
}

/// The CPU time of the whole process in clock ticks (`/proc/self/stat`'s
/// utime + stime), for the profile mode; `None` where it cannot be read.
fn process_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn main() {
    if let Ok(workload) = std::env::var("CONV_BENCH_PROFILE") {
        profile(&workload);
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let clock = Clock::from_env();
    let peak = Peak::measure(2);
    if selected("w7_conv") {
        w7(&mut c, clock, peak.as_ref());
    }
    if selected("w7_train") {
        w7_train(&mut c, clock, peak.as_ref());
    }
    if selected("w6") {
        w6(&mut c, clock, peak.as_ref());
    }
    if selected("w6_scaling") {
        w6_scaling();
    }
    c.final_summary();
}
