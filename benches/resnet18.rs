//! The ResNet-18 forward of issues 19 and 21: torchvision's `resnet18()` as
//! `examples/resnet18/` builds it, eval mode, under `no_grad`, on a batch of
//! 8 images 3x64x64, on 1 and 2 threads; paired in the same run with the
//! machine's FMA peak probe and a hand-written floor: the forward's products
//! as im2col + GEMM does them (each convolution `[O, I·k·k] · [I·k·k, N·Ho·Wo]`,
//! and the classifier), by faer on one thread (on 2, each product's columns
//! cut in two halves, one per thread), nothing else.
//!
//! ```text
//! cargo bench --bench resnet18 -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! `benches/pytorch_resnet18.py` runs the same forward in PyTorch.

#[path = "../examples/resnet18/mod.rs"]
mod resnet18;

mod common;

use std::time::Duration;

use blocks::nn::Images;
use blocks::prelude::*;
use blocks::set_num_threads;
use common::timing::Clock;
use common::{Peak, bench, median};
use criterion::Criterion;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};

const BATCH: usize = 8;
const SIDE: usize = 64;

/// One faer product `m × k` by `k × n` into a kept output.
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

    /// The product with its output's columns cut in two halves, one per thread.
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

/// The products `(m, k, n)` of ResNet-18's forward on `BATCH` images of
/// `SIDE`x`SIDE`: the stem, each stage's convolutions (the first block's
/// `conv1` with stride 2 and its 1x1 `downsample` from layer2 on), the classifier.
fn products() -> Vec<(usize, usize, usize)> {
    let mut side = SIDE / 2; // the stem's stride
    let mut shapes = vec![(64, 3 * 49, BATCH * side * side)];
    side /= 2; // the max pool
    let mut channels = 64;
    for (stage, width) in [64, 128, 256, 512].into_iter().enumerate() {
        if stage > 0 {
            side /= 2;
            shapes.push((width, channels * 9, BATCH * side * side));
            shapes.push((width, channels, BATCH * side * side));
        } else {
            shapes.push((width, channels * 9, BATCH * side * side));
        }
        shapes.extend([(width, width * 9, BATCH * side * side); 3]);
        channels = width;
    }
    shapes.push((BATCH, 512, 1000));
    shapes
}

fn flops(shapes: &[(usize, usize, usize)]) -> f64 {
    shapes.iter().map(|&(m, k, n)| 2.0 * (m * k * n) as f64).sum()
}

fn forward(c: &mut Criterion, clock: Clock, peak: Option<&Peak>) {
    manual_seed(0);
    let model = resnet18::resnet18(1000);
    model.eval();
    let x = Images::<3>::new(Tensor::randn([BATCH, 3, SIDE, SIDE]));
    let run = || no_grad(|| model.forward(&x));
    assert_eq!(run().shape(), vec![BATCH, 1000]);
    let shapes = products();
    let mut floor: Vec<Product> = shapes.iter().map(|&s| Product::new(s)).collect();
    let samples = 10;
    let mut group = c.benchmark_group("resnet18_forward");
    group.sample_size(samples);
    set_num_threads(1);
    let floor_1 = bench(&mut group, "floor_1_thread", clock, || floor.iter_mut().for_each(Product::run));
    let blocks_1 = bench(&mut group, "blocks_1_thread", clock, run);
    set_num_threads(2);
    let floor_2 = bench(&mut group, "floor_2_threads", Clock::Wall, || {
        floor.iter_mut().for_each(Product::run_two_threads)
    });
    let blocks_2 = bench(&mut group, "blocks_2_threads", Clock::Wall, run);
    set_num_threads(1);
    group.finish();

    let flops = flops(&shapes);
    let [floor_1, blocks_1, floor_2, blocks_2] = [&floor_1, &blocks_1, &floor_2, &blocks_2]
        .map(|t| median(t, samples).map_or(f64::NAN, |d| d.as_secs_f64()));
    println!(
        "resnet18 forward, batch {BATCH}, 3x{SIDE}x{SIDE}, eval: {:.3} GFLOP by its products",
        flops / 1e9
    );
    for (threads, floor, blocks) in [(1, floor_1, blocks_1), (2, floor_2, blocks_2)] {
        let of_peak = |t: f64| peak.map_or(f64::NAN, |p| 100.0 * flops / t / 1e9 / p.of(threads));
        println!(
            "resnet18 {threads} thread(s): blocks {:.2} ms ({:.1} GFLOP/s, {:.0}% of peak), floor {:.2} ms \
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
    println!("resnet18: blocks 2 threads against 1: {:.2}x", blocks_1 / blocks_2);
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let clock = Clock::from_env();
    let peak = Peak::measure(2);
    forward(&mut c, clock, peak.as_ref());
    c.final_summary();
}
