//! A convolutional net's work shared between threads gives the results of
//! one thread: convolutions (1-D and 2-D, with stride, padding, dilation and
//! groups), max and average pooling and batch norm (train and eval), forward
//! and backward, on inputs large enough that their loops (from 2^19
//! element-steps) and products (from 2^21 multiply-adds) are cut into
//! parts, at 1, 2 and 3 threads, bit for bit; known answers at 3
//! threads; and eight threads training small conv nets at once while
//! another changes the count, under a watchdog.
//!
//! Every cut gives each thread whole rows, planes or channels of the output,
//! computed as on one thread, and a matrix product cut into blocks of rows
//! or columns computes each element as the whole product does, so nothing
//! here needs a tolerance. The thread count is process-wide and other tests
//! of this file change it meanwhile: every assertion holds whatever count a
//! step ran with.

mod watchdog;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
use blocks_core::{Conv1dOptions, Conv2dOptions, Tensor, set_num_threads_oversubscribed};
use watchdog::{together, within_watchdog};

/// The batch of the tests: large enough that the loops over it pass the
/// thresholds from which they are split.
const N: usize = 256;

/// Deterministic values in [-1, 1).
fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 7919 + seed * 104_729) % 2001) as f32 / 1000.0 - 1.0).collect()
}

/// A tensor of [`values`] of `shape`, with a gradient if `grad`.
fn tensor(shape: &[usize], seed: usize, grad: bool) -> Tensor {
    Tensor::from_vec(values(shape.iter().product(), seed), shape).requires_grad_(grad)
}

/// The output of `op` on `inputs` (built fresh on `threads` threads) and the
/// gradients of every input that has one, with `loss = sum(y ⊙ c)` for a
/// fixed `c`, so that the output's gradient is `c`.
fn forward_backward(
    threads: usize,
    inputs: &dyn Fn() -> Vec<Tensor>,
    op: &dyn Fn(&[Tensor]) -> Tensor,
) -> Vec<Vec<f32>> {
    set_num_threads_oversubscribed(threads);
    let inputs = inputs();
    let y = op(&inputs);
    let c = Tensor::from_vec(values(y.numel(), 99), y.shape());
    (&y * &c).sum().backward();
    let grads = inputs.iter().filter(|t| t.requires_grad()).map(|t| t.grad().expect("a gradient").to_vec());
    std::iter::once(y.to_vec()).chain(grads).collect()
}

/// `op` gives the same output and gradients on 2 and 3 threads as on 1, bit
/// for bit; returns the 1-thread results.
fn same_on_every_thread_count(
    name: &str,
    inputs: &dyn Fn() -> Vec<Tensor>,
    op: &dyn Fn(&[Tensor]) -> Tensor,
) -> Vec<Vec<f32>> {
    let one = forward_backward(1, inputs, op);
    for threads in [2, 3] {
        let got = forward_backward(threads, inputs, op);
        assert_eq!(got.len(), one.len(), "{name}");
        for (index, (got, want)) in got.iter().zip(&one).enumerate() {
            let differ = got.iter().zip(want).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
            assert!(
                differ == 0,
                "{name}, {threads} threads: result {index} differs from 1 thread at {differ} places"
            );
        }
    }
    one
}

#[test]
fn conv2d_with_stride_padding_dilation_and_groups_is_the_same_on_every_thread_count() {
    let options = Conv2dOptions { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 };
    let inputs =
        || vec![tensor(&[N, 8, 24, 24], 1, true), tensor(&[16, 4, 3, 3], 2, true), tensor(&[16], 3, true)];
    let results =
        same_on_every_thread_count("conv2d", &inputs, &|t| t[0].conv2d(&t[1], Some(&t[2]), options));
    assert_eq!(results[0].len(), N * 16 * 12 * 24);
    // Without bias and without the input's gradient (the weight's alone).
    let inputs = || vec![tensor(&[N, 8, 24, 24], 1, false), tensor(&[16, 4, 3, 3], 2, true)];
    same_on_every_thread_count("conv2d, weight only", &inputs, &|t| t[0].conv2d(&t[1], None, options));
}

#[test]
fn conv1d_with_stride_padding_dilation_and_groups_is_the_same_on_every_thread_count() {
    let options = Conv1dOptions { stride: [2], padding: [3], dilation: [2], groups: 3 };
    let inputs =
        || vec![tensor(&[N, 6, 1000], 4, true), tensor(&[12, 2, 5], 5, true), tensor(&[12], 6, true)];
    let results =
        same_on_every_thread_count("conv1d", &inputs, &|t| t[0].conv1d(&t[1], Some(&t[2]), options));
    assert_eq!(results[0].len(), N * 12 * 499);
}

#[test]
fn a_large_conv2d_of_ones_gives_its_known_answer_on_three_threads() {
    set_num_threads_oversubscribed(3);
    let x = Tensor::ones([N, 8, 24, 24]).requires_grad_(true);
    let w = Tensor::ones([16, 8, 3, 3]).requires_grad_(true);
    let y = x.conv2d(&w, None, Conv2dOptions { padding: [1, 1], ..Default::default() });
    y.sum().backward();
    // Each output sums the 8 channels' taps that fall inside the image.
    let y = y.to_vec();
    let at = |img: usize, ch: usize, i: usize, j: usize| ((img * 16 + ch) * 24 + i) * 24 + j;
    for img in [0, N - 1] {
        for ch in [0, 15] {
            assert_eq!(y[at(img, ch, 0, 0)], 32.0);
            assert_eq!(y[at(img, ch, 0, 7)], 48.0);
            assert_eq!(y[at(img, ch, 5, 7)], 72.0);
            assert_eq!(y[at(img, ch, 23, 23)], 32.0);
        }
    }
    // Each input is read by the 16 output channels at every tap inside.
    let dx = x.grad().expect("a gradient").to_vec();
    assert_eq!((dx[0], dx[1], dx[24 + 1], dx[dx.len() - 1]), (64.0, 96.0, 144.0, 64.0));
    // Each weight tap sees the inputs it can reach: 23 or 24 rows and columns, N images.
    let dw = w.grad().expect("a gradient").to_vec();
    let n = N as f32;
    assert_eq!(
        (dw[0], dw[1], dw[4], dw[8]),
        (n * 23.0 * 23.0, n * 23.0 * 24.0, n * 24.0 * 24.0, n * 23.0 * 23.0)
    );
}

#[test]
fn pooling_is_the_same_on_every_thread_count() {
    let inputs = || vec![tensor(&[2 * N, 16, 32, 32], 7, true)];
    // Windows inside the input, and windows reaching into the padding.
    same_on_every_thread_count("max_pool2d 2x2", &inputs, &|t| {
        t[0].max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)
    });
    same_on_every_thread_count("max_pool2d 3x3 padded", &inputs, &|t| {
        t[0].max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], true)
    });
    same_on_every_thread_count("avg_pool2d", &inputs, &|t| {
        t[0].avg_pool2d([3, 3], [2, 2], [1, 1], true, false)
    });
    // A known answer: each 2x2 window of 0, 1, 2, ... has its largest value at the bottom right.
    set_num_threads_oversubscribed(3);
    let x = Tensor::from_vec((0..64 * 16 * 32 * 32).map(|v| (v % 4096) as f32).collect(), [64, 16, 32, 32]);
    let y = x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false).to_vec();
    assert_eq!((y[0], y[1], y[16], y[y.len() - 1]), (33.0, 35.0, 97.0, 1023.0 + 3072.0));
}

#[test]
fn batch_norm_is_the_same_on_every_thread_count() {
    let inputs = || vec![tensor(&[N, 16, 24, 24], 8, true), tensor(&[16], 9, true), tensor(&[16], 10, true)];
    let train = same_on_every_thread_count("batch_norm_train", &inputs, &|t| {
        t[0].batch_norm_train(Some(&t[1]), Some(&t[2]), 1e-5).0
    });
    let eval = |t: &[Tensor]| {
        let (mean, var) =
            (tensor(&[16], 11, false).mul_scalar(0.1), tensor(&[16], 12, false).add_scalar(1.5));
        t[0].batch_norm_eval(&mean, &var, Some(&t[1]), Some(&t[2]), 1e-5)
    };
    same_on_every_thread_count("batch_norm_eval", &inputs, &eval);
    let stats = |threads: usize| {
        set_num_threads_oversubscribed(threads);
        let (_, stats) = tensor(&[N, 16, 24, 24], 8, false).batch_norm_train(None, None, 1e-5);
        (stats.mean.to_vec(), stats.var.to_vec())
    };
    assert!(stats(2) == stats(1) && stats(3) == stats(1), "the batch statistics differ");
    // A known answer: without the affine part each channel comes out with
    // mean 0 and biased variance 1 (up to eps), here at 3 threads.
    set_num_threads_oversubscribed(3);
    let y = tensor(&[N, 16, 24, 24], 8, false).batch_norm_train(None, None, 0.0).0.to_vec();
    let plane = 24 * 24;
    for ch in [0, 7, 15] {
        let channel: Vec<f64> =
            (0..N).flat_map(|img| &y[(img * 16 + ch) * plane..][..plane]).map(|&v| f64::from(v)).collect();
        let mean = channel.iter().sum::<f64>() / channel.len() as f64;
        let var = channel.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / channel.len() as f64;
        assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "channel {ch}: mean {mean}, variance {var}");
    }
    assert_eq!(train.len(), 4);
}

/// The weights after three SGD steps of a small conv net (conv, batch norm,
/// ReLU, max pool, conv, batch norm, ReLU, global average pool, linear) on a
/// batch large enough to be split, on `threads` threads.
fn train(threads: usize) -> Vec<f32> {
    set_num_threads_oversubscribed(threads);
    let same = Conv2dOptions { padding: [1, 1], ..Default::default() };
    let conv1 = Tensor::from_vec(values(8 * 9, 1), [8, 1, 3, 3]).requires_grad_(true);
    let conv2 =
        Tensor::from_vec(values(16 * 8 * 9, 2), [16, 8, 3, 3]).mul_scalar(0.3).detach().requires_grad_(true);
    let (gamma, beta) = (Tensor::ones([8]).requires_grad_(true), Tensor::zeros([8]).requires_grad_(true));
    let fc = Tensor::from_vec(values(10 * 16, 3), [10, 16]).requires_grad_(true);
    let x = Tensor::from_vec(values(N * 16 * 16, 4), [N, 1, 16, 16]);
    let labels: Vec<usize> = (0..N).map(|i| i % 10).collect();
    let params = [&conv1, &conv2, &gamma, &beta, &fc];
    let mut sgd = Sgd::new(params, SgdConfig { lr: 0.05, ..Default::default() });
    for _ in 0..3 {
        let h = x.conv2d(&conv1, None, same).batch_norm_train(Some(&gamma), Some(&beta), 1e-5).0;
        let h = h.relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let h = h.conv2d(&conv2, None, same).batch_norm_train(None, None, 1e-5).0.relu();
        let h = h.avg_pool2d([2, 2], [2, 2], [0, 0], false, true).adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        h.linear(&fc, None).cross_entropy(&labels).backward();
        sgd.step();
        sgd.zero_grad();
    }
    params.iter().flat_map(|p| p.to_vec()).collect()
}

#[test]
fn eight_threads_training_conv_nets_while_the_count_changes_get_the_results_of_one() {
    let expected = train(1);
    within_watchdog("eight conv net trainings at once", move || {
        let finished = Arc::new(AtomicUsize::new(0));
        let mut bodies: Vec<Box<dyn FnOnce() + Send>> = (0..8)
            .map(|i| {
                let (expected, finished) = (expected.clone(), Arc::clone(&finished));
                Box::new(move || {
                    let got = train(1 + i % 3);
                    finished.fetch_add(1, Ordering::SeqCst);
                    assert!(got == expected, "training {i} differs from 1 thread");
                }) as Box<dyn FnOnce() + Send>
            })
            .collect();
        // Changes the count until every training has finished.
        bodies.push(Box::new(move || {
            let mut round = 0;
            while finished.load(Ordering::SeqCst) < 8 {
                set_num_threads_oversubscribed(1 + round % 3);
                round += 1;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }));
        together(bodies);
    });
}
