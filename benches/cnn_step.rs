//! One SGD training step of the digits CNN at batch 64 (8×8 images):
//! Conv2d(1,8,3,p1,no bias), BatchNorm2d(8), ReLU, MaxPool2d(2),
//! Conv2d(8,16,3,p1,no bias), BatchNorm2d(16), ReLU, AdaptiveAvgPool2d(1),
//! Flatten, Linear(16,10), cross-entropy, SGD: blocks against a hand-written
//! im2col + GEMM floor in ndarray, on one thread, paired as in
//! `training_step` (see BENCHMARKS.md); then the blocks step on 2 threads
//! against 1, in paired rounds, at batch 64 and 256.
//!
//! ```text
//! cargo bench --bench cnn_step
//! cargo bench --bench cnn_step -- digits_cnn_batch64   # the 1-thread comparison only
//! cargo bench --bench cnn_step -- digits_cnn_threads   # the 2-thread scaling only
//! BLOCKS_BENCH_CLOCK=thread-cpu cargo bench --bench cnn_step
//! ```
//!
//! The blocks side is written against [`Cnn`] and measured twice: the
//! network built from plain tensor ops, and the same network from the layer
//! structs (`Conv2d`, `BatchNorm2d`, ... in a typed `sequential!`), which also
//! update BatchNorm's running statistics as PyTorch's do.

mod common;

use std::time::Duration;

use blocks::nn::{AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Images, MaxPool2d};
use blocks::optim::{Optimizer, Sgd, SgdConfig};
use blocks::prelude::*;
use blocks::{Conv2dOptions, Tensor, manual_seed, set_num_threads};
use common::mlp::{cross_entropy, hand_mm};
use common::scaling::{two_streams_against_one, two_threads_against_one};
use common::timing::{Clock, PAIRED_HALF_ROUND, PAIRED_ROUNDS, paired};
use common::{Peak, bench, median, selected};
use criterion::Criterion;
use ndarray::{Array1, Array2, Axis, Ix2};

const BATCH: usize = 64;
const SIDE: usize = 8;
const LR: f32 = 0.01;
const EPS: f32 = 1e-5;
const WIDTHS: [usize; 3] = [1, 8, 16];
const CLASSES: usize = 10;

/// The starting point of both sides: weights, inputs `[N, 1, 8, 8]` and labels.
struct Problem {
    conv1: Tensor,
    conv2: Tensor,
    fc_weight: Tensor,
    fc_bias: Tensor,
    x: Tensor,
    labels: Vec<usize>,
}

impl Problem {
    fn new() -> Self {
        Problem::with_batch(BATCH)
    }

    /// The problem at another batch size (for the blocks side only: the
    /// floor's buffers are sized for [`BATCH`]).
    fn with_batch(batch: usize) -> Self {
        manual_seed(0);
        let scaled = |shape: &[usize], fan_in: usize| Tensor::randn(shape) * (1.0 / (fan_in as f32).sqrt());
        Problem {
            conv1: scaled(&[WIDTHS[1], WIDTHS[0], 3, 3], WIDTHS[0] * 9),
            conv2: scaled(&[WIDTHS[2], WIDTHS[1], 3, 3], WIDTHS[1] * 9),
            fc_weight: scaled(&[CLASSES, WIDTHS[2]], WIDTHS[2]),
            fc_bias: scaled(&[CLASSES], WIDTHS[2]),
            x: Tensor::rand([batch, 1, SIDE, SIDE]),
            labels: (0..batch).map(|i| (i * 7 + 3) % CLASSES).collect(),
        }
    }
}

/// A network the bench can train: its loss on a batch and its parameters.
trait Cnn {
    fn loss(&self, x: &Tensor, labels: &[usize]) -> Tensor;
    fn parameters(&self) -> Vec<Tensor>;
}

/// The digits CNN from plain tensor ops (training-mode batch norm without
/// running statistics; both sides skip them).
struct PlainOps {
    conv1: Tensor,
    bn1: (Tensor, Tensor),
    conv2: Tensor,
    bn2: (Tensor, Tensor),
    fc: (Tensor, Tensor),
}

impl PlainOps {
    fn new(problem: &Problem) -> Self {
        let param = |t: &Tensor| Tensor::from_array(t.to_array()).requires_grad_(true);
        let affine =
            |c: usize| (Tensor::ones([c]).requires_grad_(true), Tensor::zeros([c]).requires_grad_(true));
        PlainOps {
            conv1: param(&problem.conv1),
            bn1: affine(WIDTHS[1]),
            conv2: param(&problem.conv2),
            bn2: affine(WIDTHS[2]),
            fc: (param(&problem.fc_weight), param(&problem.fc_bias)),
        }
    }
}

impl Cnn for PlainOps {
    fn loss(&self, x: &Tensor, labels: &[usize]) -> Tensor {
        let same = Conv2dOptions { padding: [1, 1], ..Default::default() };
        let (gamma1, beta1) = (&self.bn1.0, &self.bn1.1);
        let (gamma2, beta2) = (&self.bn2.0, &self.bn2.1);
        let h = x.conv2d(&self.conv1, None, same).batch_norm_train(Some(gamma1), Some(beta1), EPS).0;
        let h = h.relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let h = h.conv2d(&self.conv2, None, same).batch_norm_train(Some(gamma2), Some(beta2), EPS).0;
        let h = h.relu().adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        h.linear(&self.fc.0, Some(&self.fc.1)).cross_entropy(labels)
    }

    fn parameters(&self) -> Vec<Tensor> {
        let (c1, c2) = (self.conv1.clone(), self.conv2.clone());
        vec![
            c1,
            self.bn1.0.clone(),
            self.bn1.1.clone(),
            c2,
            self.bn2.0.clone(),
            self.bn2.1.clone(),
            self.fc.0.clone(),
            self.fc.1.clone(),
        ]
    }
}

/// The digits CNN from the layer structs, as a user writes it.
type LayerNet = Sequential<(
    Conv2d<1, 8, 3>,
    BatchNorm2d<8>,
    ReLU,
    MaxPool2d,
    Conv2d<8, 16, 3>,
    BatchNorm2d<16>,
    ReLU,
    AdaptiveAvgPool2d,
    Flatten,
    Linear<16, 10>,
)>;

/// The layer structs' network, with the problem's weights.
struct Layers(LayerNet);

impl Layers {
    fn new(problem: &Problem) -> Self {
        let net = sequential![
            Conv2d::<1, 8, 3>::new().padding(1).bias(false),
            BatchNorm2d::<8>::new(),
            ReLU,
            MaxPool2d::new(2),
            Conv2d::<8, 16, 3>::new().padding(1).bias(false),
            BatchNorm2d::<16>::new(),
            ReLU,
            AdaptiveAvgPool2d::new(1),
            Flatten::default(),
            Linear::<16, 10>::new(),
        ];
        let weights = [
            ("0.weight", &problem.conv1),
            ("4.weight", &problem.conv2),
            ("9.weight", &problem.fc_weight),
            ("9.bias", &problem.fc_bias),
        ];
        for (name, parameter) in net.named_parameters() {
            if let Some((_, value)) = weights.iter().find(|(key, _)| *key == name) {
                parameter.set_data(value);
            }
        }
        Layers(net)
    }
}

impl Cnn for Layers {
    fn loss(&self, x: &Tensor, labels: &[usize]) -> Tensor {
        self.0.forward(&Images::<1>::new(x.clone())).cross_entropy(labels)
    }

    fn parameters(&self) -> Vec<Tensor> {
        self.0.parameters().into_iter().map(|p| (*p).clone()).collect()
    }
}

/// A training loop in blocks: the network, `torch.optim.SGD`, the batch.
struct BlocksSide<N: Cnn> {
    net: N,
    optimizer: Sgd,
    x: Tensor,
    labels: Vec<usize>,
}

impl<N: Cnn> BlocksSide<N> {
    fn new(net: N, problem: &Problem) -> Self {
        let optimizer = Sgd::new(net.parameters(), SgdConfig { lr: LR as f64, ..Default::default() });
        BlocksSide { net, optimizer, x: problem.x.clone(), labels: problem.labels.clone() }
    }

    fn step(&mut self) -> f32 {
        let loss = self.net.loss(&self.x, &self.labels);
        loss.backward();
        self.optimizer.step();
        self.optimizer.zero_grad();
        loss.item()
    }
}

/// A batch-norm layer of the floor: per-channel affine parameters, their
/// gradients, and what backward needs (`x̂` and `1/σ` per channel).
struct HandNorm {
    gamma: Array1<f32>,
    beta: Array1<f32>,
    grad_gamma: Array1<f32>,
    grad_beta: Array1<f32>,
    normalized: Array2<f32>,
    inv_std: Array1<f32>,
}

impl HandNorm {
    fn new(channels: usize, values: usize) -> Self {
        HandNorm {
            gamma: Array1::ones(channels),
            beta: Array1::zeros(channels),
            grad_gamma: Array1::zeros(channels),
            grad_beta: Array1::zeros(channels),
            normalized: Array2::zeros((channels, values)),
            inv_std: Array1::zeros(channels),
        }
    }

    /// Normalizes each row of `z` (one channel) in place with its batch
    /// statistics, then ReLU.
    fn forward_relu(&mut self, z: &mut Array2<f32>) {
        for (c, (mut row, mut xhat)) in z.rows_mut().into_iter().zip(self.normalized.rows_mut()).enumerate() {
            let row = row.as_slice_mut().expect("contiguous");
            let count = row.len() as f32;
            let mean = row.iter().sum::<f32>() / count;
            let var = row.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / count;
            let inv_std = 1.0 / (var + EPS).sqrt();
            self.inv_std[c] = inv_std;
            let (g, b) = (self.gamma[c], self.beta[c]);
            for (v, n) in row.iter_mut().zip(xhat.as_slice_mut().expect("contiguous")) {
                *n = (*v - mean) * inv_std;
                *v = (g * *n + b).max(0.0);
            }
        }
    }

    /// Backward through ReLU (`out` is the forward output) and the
    /// normalization: `dy` becomes the gradient of the convolution output.
    fn backward_relu(&mut self, dy: &mut Array2<f32>, out: &Array2<f32>) {
        for (c, ((mut dy, out), xhat)) in
            dy.rows_mut().into_iter().zip(out.rows()).zip(self.normalized.rows()).enumerate()
        {
            let dy = dy.as_slice_mut().expect("contiguous");
            let (out, xhat) = (out.as_slice().expect("contiguous"), xhat.as_slice().expect("contiguous"));
            let (mut sum_dy, mut sum_dy_xhat) = (0.0, 0.0);
            for ((d, &o), &n) in dy.iter_mut().zip(out).zip(xhat) {
                *d = if o > 0.0 { *d } else { 0.0 };
                sum_dy += *d;
                sum_dy_xhat += *d * n;
            }
            self.grad_beta[c] = sum_dy;
            self.grad_gamma[c] = sum_dy_xhat;
            let count = dy.len() as f32;
            let scale = self.gamma[c] * self.inv_std[c] / count;
            for (d, &n) in dy.iter_mut().zip(xhat) {
                *d = scale * (count * *d - sum_dy - n * sum_dy_xhat);
            }
        }
    }

    fn update(&mut self) {
        self.gamma.scaled_add(-LR, &self.grad_gamma);
        self.beta.scaled_add(-LR, &self.grad_beta);
    }
}

/// The input coordinate of output `o` at kernel tap `k` (3 taps, padding 1),
/// if inside `0..size`.
fn tap(o: usize, k: usize, size: usize) -> Option<usize> {
    (o + k).checked_sub(1).filter(|&i| i < size)
}

/// The 3×3, padding 1 column matrix `[c·9, n·h·w]` of `x` in `[c, n, h, w]`
/// layout (every buffer of the floor keeps channels outermost).
fn im2col(x: &Array2<f32>, side: usize, cols: &mut Array2<f32>) {
    let plane = side * side;
    for (c, x) in x.rows().into_iter().enumerate() {
        let x = x.as_slice().expect("contiguous");
        for k in 0..9 {
            let (ki, kj) = (k / 3, k % 3);
            let mut row = cols.row_mut(c * 9 + k);
            let row = row.as_slice_mut().expect("contiguous");
            for (img, out) in row.chunks_exact_mut(plane).enumerate() {
                let image = &x[img * plane..][..plane];
                for oy in 0..side {
                    for ox in 0..side {
                        out[oy * side + ox] = match (tap(oy, ki, side), tap(ox, kj, side)) {
                            (Some(iy), Some(ix)) => image[iy * side + ix],
                            _ => 0.0,
                        };
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds each column entry back to its input position.
fn col2im(cols: &Array2<f32>, side: usize, x: &mut Array2<f32>) {
    let plane = side * side;
    x.fill(0.0);
    for (c, mut x) in x.rows_mut().into_iter().enumerate() {
        let x = x.as_slice_mut().expect("contiguous");
        for k in 0..9 {
            let (ki, kj) = (k / 3, k % 3);
            let row = cols.row(c * 9 + k);
            let row = row.as_slice().expect("contiguous");
            for (img, values) in row.chunks_exact(plane).enumerate() {
                let image = &mut x[img * plane..][..plane];
                for oy in 0..side {
                    let Some(iy) = tap(oy, ki, side) else { continue };
                    for ox in 0..side {
                        if let Some(ix) = tap(ox, kj, side) {
                            image[iy * side + ix] += values[oy * side + ox];
                        }
                    }
                }
            }
        }
    }
}

/// The hand-written floor: buffers allocated once, `[channels, n·h·w]`
/// layout throughout, products through [`hand_mm`] (one thread).
struct HandCnn {
    conv1: Array2<f32>,
    conv2: Array2<f32>,
    fc_weight: Array2<f32>,
    fc_bias: Array1<f32>,
    bn1: HandNorm,
    bn2: HandNorm,
    x: Array2<f32>,
    labels: Vec<usize>,
    cols1: Array2<f32>,
    a1: Array2<f32>,
    pooled: Array2<f32>,
    argmax: Vec<usize>,
    cols2: Array2<f32>,
    a2: Array2<f32>,
    features: Array2<f32>,
    logits: Array2<f32>,
    delta: Array2<f32>,
    grad_fc_weight: Array2<f32>,
    grad_fc_bias: Array1<f32>,
    grad_features: Array2<f32>,
    grad_a2: Array2<f32>,
    grad_conv2: Array2<f32>,
    grad_cols2: Array2<f32>,
    grad_pooled: Array2<f32>,
    grad_a1: Array2<f32>,
    grad_conv1: Array2<f32>,
}

impl HandCnn {
    fn new(problem: &Problem) -> Self {
        let matrix = |t: &Tensor, rows: usize| {
            let a = t.to_array();
            let cols = a.len() / rows;
            a.into_shape_with_order((rows, cols)).expect("reshape").into_dimensionality::<Ix2>().expect("2-D")
        };
        let [c0, c1, c2] = WIDTHS;
        let (big, small) = (BATCH * SIDE * SIDE, BATCH * SIDE * SIDE / 4);
        HandCnn {
            conv1: matrix(&problem.conv1, c1),
            conv2: matrix(&problem.conv2, c2),
            fc_weight: matrix(&problem.fc_weight, CLASSES),
            fc_bias: problem.fc_bias.to_array().into_dimensionality().expect("1-D"),
            bn1: HandNorm::new(c1, big),
            bn2: HandNorm::new(c2, small),
            // [1, N, 8, 8] is [N, 1, 8, 8] with one channel.
            x: matrix(&problem.x, c0),
            labels: problem.labels.clone(),
            cols1: Array2::zeros((c0 * 9, big)),
            a1: Array2::zeros((c1, big)),
            pooled: Array2::zeros((c1, small)),
            argmax: vec![0; c1 * small],
            cols2: Array2::zeros((c1 * 9, small)),
            a2: Array2::zeros((c2, small)),
            features: Array2::zeros((BATCH, c2)),
            logits: Array2::zeros((BATCH, CLASSES)),
            delta: Array2::zeros((BATCH, CLASSES)),
            grad_fc_weight: Array2::zeros((CLASSES, c2)),
            grad_fc_bias: Array1::zeros(CLASSES),
            grad_features: Array2::zeros((BATCH, c2)),
            grad_a2: Array2::zeros((c2, small)),
            grad_conv2: Array2::zeros((c2, c1 * 9)),
            grad_cols2: Array2::zeros((c1 * 9, small)),
            grad_pooled: Array2::zeros((c1, small)),
            grad_a1: Array2::zeros((c1, big)),
            grad_conv1: Array2::zeros((c1, c0 * 9)),
        }
    }

    fn step(&mut self) -> f32 {
        let half = SIDE / 2;
        let positions = half * half;
        // Forward.
        im2col(&self.x, SIDE, &mut self.cols1);
        hand_mm(&self.conv1.view(), &self.cols1.view(), 0.0, &mut self.a1.view_mut(), 1);
        self.bn1.forward_relu(&mut self.a1);
        // 2×2 max pool, remembering where each maximum came from.
        for (c, (a, mut p)) in self.a1.rows().into_iter().zip(self.pooled.rows_mut()).enumerate() {
            let (a, p) = (a.as_slice().expect("contiguous"), p.as_slice_mut().expect("contiguous"));
            let stride = p.len();
            for (o, out) in p.iter_mut().enumerate() {
                let (img, y, x) = (o / positions, o % positions / half, o % half);
                let base = img * SIDE * SIDE + 2 * y * SIDE + 2 * x;
                let best = [base, base + 1, base + SIDE, base + SIDE + 1]
                    .into_iter()
                    .fold(base, |best, i| if a[i] > a[best] { i } else { best });
                *out = a[best];
                self.argmax[c * stride + o] = best;
            }
        }
        im2col(&self.pooled, half, &mut self.cols2);
        hand_mm(&self.conv2.view(), &self.cols2.view(), 0.0, &mut self.a2.view_mut(), 1);
        self.bn2.forward_relu(&mut self.a2);
        for (c, a) in self.a2.rows().into_iter().enumerate() {
            for (img, values) in a.as_slice().expect("contiguous").chunks_exact(positions).enumerate() {
                self.features[[img, c]] = values.iter().sum::<f32>() / positions as f32;
            }
        }
        self.logits.assign(&self.fc_bias);
        hand_mm(&self.features.view(), &self.fc_weight.t(), 1.0, &mut self.logits.view_mut(), 1);
        let loss = cross_entropy(&self.logits, &self.labels, &mut self.delta);
        // Backward.
        hand_mm(&self.delta.t(), &self.features.view(), 0.0, &mut self.grad_fc_weight.view_mut(), 1);
        self.grad_fc_bias.assign(&self.delta.sum_axis(Axis(0)));
        hand_mm(&self.delta.view(), &self.fc_weight.view(), 0.0, &mut self.grad_features.view_mut(), 1);
        for (c, mut g) in self.grad_a2.rows_mut().into_iter().enumerate() {
            for (img, values) in g.as_slice_mut().expect("contiguous").chunks_exact_mut(positions).enumerate()
            {
                values.fill(self.grad_features[[img, c]] / positions as f32);
            }
        }
        self.bn2.backward_relu(&mut self.grad_a2, &self.a2);
        hand_mm(&self.grad_a2.view(), &self.cols2.t(), 0.0, &mut self.grad_conv2.view_mut(), 1);
        hand_mm(&self.conv2.t(), &self.grad_a2.view(), 0.0, &mut self.grad_cols2.view_mut(), 1);
        col2im(&self.grad_cols2, half, &mut self.grad_pooled);
        self.grad_a1.fill(0.0);
        for (c, mut g) in self.grad_a1.rows_mut().into_iter().enumerate() {
            let g = g.as_slice_mut().expect("contiguous");
            let from = self.grad_pooled.row(c);
            for (o, &d) in from.iter().enumerate() {
                g[self.argmax[c * from.len() + o]] += d;
            }
        }
        self.bn1.backward_relu(&mut self.grad_a1, &self.a1);
        hand_mm(&self.grad_a1.view(), &self.cols1.t(), 0.0, &mut self.grad_conv1.view_mut(), 1);
        // SGD.
        self.conv1.scaled_add(-LR, &self.grad_conv1);
        self.conv2.scaled_add(-LR, &self.grad_conv2);
        self.fc_weight.scaled_add(-LR, &self.grad_fc_weight);
        self.fc_bias.scaled_add(-LR, &self.grad_fc_bias);
        self.bn1.update();
        self.bn2.update();
        loss
    }
}

/// Multiply-adds of one step's products: forward, then dW and dX for each
/// layer (no dX for the first convolution), times 2 flops.
fn flops() -> f64 {
    let [c0, c1, c2] = WIDTHS;
    let (big, small) = (BATCH * SIDE * SIDE, BATCH * SIDE * SIDE / 4);
    let forward = [c1 * c0 * 9 * big, c2 * c1 * 9 * small, BATCH * c2 * CLASSES];
    2.0 * (forward[0] * 2 + forward[1] * 3 + forward[2] * 3) as f64
}

/// The blocks step (plain ops) on 2 threads against 1, in paired rounds, at
/// batch 64 and 256: the im2col, col2im, layout, batch-norm and pooling
/// loops and the products split by size.
fn thread_scaling() {
    for (batch, steps) in [(64, 20), (256, 5)] {
        let problem = Problem::with_batch(batch);
        let mut blocks = BlocksSide::new(PlainOps::new(&problem), &problem);
        let mut other = BlocksSide::new(PlainOps::new(&problem), &problem);
        set_num_threads(1);
        let start = std::time::Instant::now();
        for _ in 0..steps * 4 {
            blocks.step();
        }
        let one = start.elapsed() / (steps as u32 * 4);
        let ratios = two_threads_against_one(|| blocks.step(), steps);
        let ceiling = two_streams_against_one(&mut blocks, &mut other, BlocksSide::step, steps);
        println!(
            "digits_cnn_threads_batch{batch}: blocks step ({one:.2?} on 1 thread), 2 threads against 1, paired: {}; \
             ceiling (two independent 1-thread steps at once): {}",
            ratios.show(),
            ceiling.show()
        );
    }
    wide_layer_scaling();
    set_num_threads(1);
}

/// A wider layer than the digits CNN's, forward and backward: Conv2d(16, 32,
/// 3, padding 1) on 32 images of 32×32, BatchNorm2d, ReLU, MaxPool2d(2), on
/// 2 threads against 1 and against the ceiling.
fn wide_layer_scaling() {
    manual_seed(1);
    let make = || {
        let x = Tensor::randn([32, 16, 32, 32]);
        let w = (Tensor::randn([32, 16, 3, 3]) * (1.0 / 12.0)).requires_grad_(true);
        let (gamma, beta) =
            (Tensor::ones([32]).requires_grad_(true), Tensor::zeros([32]).requires_grad_(true));
        (x, w, gamma, beta)
    };
    fn step((x, w, gamma, beta): &mut (Tensor, Tensor, Tensor, Tensor)) -> f32 {
        let same = Conv2dOptions { padding: [1, 1], ..Default::default() };
        let h = x.conv2d(w, None, same).batch_norm_train(Some(gamma), Some(beta), EPS).0;
        let loss = h.relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false).sum();
        loss.backward();
        for p in [&*w, &*gamma, &*beta] {
            p.zero_grad();
        }
        loss.item()
    }
    let (mut one, mut other) = (make(), make());
    let ratios = two_threads_against_one(|| step(&mut one), 5);
    let ceiling = two_streams_against_one(&mut one, &mut other, step, 5);
    println!(
        "conv_layer_16_32_batch32_32x32: forward and backward, 2 threads against 1, paired: {}; ceiling: {}",
        ratios.show(),
        ceiling.show()
    );
}

fn main() {
    if selected("digits_cnn_threads") {
        thread_scaling();
    }
    if !selected("digits_cnn_batch64") {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let clock = Clock::from_env();
    let peak = Peak::measure(2);
    set_num_threads(1);
    let problem = Problem::new();
    let mut hand = HandCnn::new(&problem);
    let mut blocks = BlocksSide::new(PlainOps::new(&problem), &problem);
    let mut layers = BlocksSide::new(Layers::new(&problem), &problem);
    for step in 0..3 {
        let (h, b, l) = (hand.step(), blocks.step(), layers.step());
        assert!(
            (h - b).abs() <= 1e-4 * h.abs().max(1.0) && (h - l).abs() <= 1e-4 * h.abs().max(1.0),
            "step {step}: hand-written loss {h}, blocks loss {b}, layer structs' loss {l}"
        );
    }
    let samples = 50;
    let mut group = c.benchmark_group("digits_cnn_batch64");
    group.sample_size(samples);
    let hand_timings = bench(&mut group, "hand_written", clock, || hand.step());
    let blocks_timings = bench(&mut group, "blocks", clock, || blocks.step());
    bench(&mut group, "blocks_layers", clock, || layers.step());
    group.finish();
    let (Some(h), Some(b)) = (median(&hand_timings, samples), median(&blocks_timings, samples)) else {
        return;
    };
    println!("digits_cnn_batch64: median hand_written {h:.2?}, blocks {b:.2?} ({})", clock.name());
    let steps = (PAIRED_HALF_ROUND.as_secs_f64() / h.as_secs_f64()).ceil().max(1.0) as usize;
    let paired = paired(&mut || hand.step(), &mut || blocks.step(), clock, steps);
    let [low, mid, high] = paired.ratio;
    println!(
        "digits_cnn_batch64: paired: hand_written {:.2?}, blocks {:.2?} per step, ratio blocks/hand_written \
         {mid:.3} (quartiles {low:.3}..{high:.3}; {PAIRED_ROUNDS} rounds of {steps} steps), target 1.2",
        Duration::from_secs_f64(paired.hand),
        Duration::from_secs_f64(paired.blocks),
    );
    let paired_layers = common::timing::paired(&mut || hand.step(), &mut || layers.step(), clock, steps);
    let [low, mid, high] = paired_layers.ratio;
    println!(
        "digits_cnn_batch64: paired: hand_written {:.2?}, blocks_layers {:.2?} per step, ratio \
         blocks_layers/hand_written {mid:.3} (quartiles {low:.3}..{high:.3}; {PAIRED_ROUNDS} rounds of {steps} steps), target 1.2",
        Duration::from_secs_f64(paired_layers.hand),
        Duration::from_secs_f64(paired_layers.blocks),
    );
    if let Some(peak) = peak {
        let rate = |t: f64| flops() / t / 1e9;
        println!(
            "digits_cnn_batch64: matrix-product rate: hand_written {:.1} GFLOP/s ({:.0}% of 1-thread peak), blocks {:.1} GFLOP/s",
            rate(paired.hand),
            100.0 * rate(paired.hand) / peak.of(1),
            rate(paired.blocks)
        );
    }
    c.final_summary();
}
