//! Work shared between threads gives the results of one thread bit for bit,
//! at 1, 2 and 3 threads: a large linear layer (its products cut into
//! blocks, its two gradient products side by side; also against a float64
//! triple loop), optimizer updates, long elementwise maps, whole trainings;
//! and none of it deadlocks when many threads train at once or when the
//! caller is a worker of the user's own rayon pool.
//!
//! The thread count is process-wide and other tests of this file change it
//! meanwhile: every assertion holds whatever count a step ran with.

mod watchdog;

use blocks_core::optim::{Adam, AdamConfig, AdamWConfig, Optimizer, Sgd, SgdConfig};
use blocks_core::{Tensor, set_num_threads_oversubscribed};
use rayon::prelude::*;
use watchdog::{together, within_watchdog};

/// Deterministic values in [-1, 1).
fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 7919 + seed * 104_729) % 2001) as f32 / 1000.0 - 1.0).collect()
}

/// Sizes whose three products (forward, dX, dW) all exceed the 2^21
/// multiply-adds from which products use several threads.
const BATCH: usize = 128;
const IN: usize = 200;
const OUT: usize = 300;

/// `y = x · wᵀ + b`, `loss = sum(y ⊙ c)`, so that `dy = c`: the forward
/// output and the three gradients, in float64 by triple loops.
fn reference(x: &[f32], w: &[f32], b: &[f32], c: &[f32]) -> [Vec<f64>; 4] {
    let mut y = vec![0.0; BATCH * OUT];
    let mut dx = vec![0.0; BATCH * IN];
    let mut dw = vec![0.0; OUT * IN];
    let mut db = vec![0.0; OUT];
    for i in 0..BATCH {
        for o in 0..OUT {
            let g = f64::from(c[i * OUT + o]);
            let mut sum = f64::from(b[o]);
            for k in 0..IN {
                sum += f64::from(x[i * IN + k]) * f64::from(w[o * IN + k]);
                dx[i * IN + k] += g * f64::from(w[o * IN + k]);
                dw[o * IN + k] += g * f64::from(x[i * IN + k]);
            }
            y[i * OUT + o] = sum;
            db[o] += g;
        }
    }
    [y, dx, dw, db]
}

/// The forward output and the gradients of x, w and b on `threads` threads.
fn linear_on(threads: usize, x: &[f32], w: &[f32], b: &[f32], c: &[f32]) -> [Vec<f32>; 4] {
    set_num_threads_oversubscribed(threads);
    let x = Tensor::from_vec(x.to_vec(), [BATCH, IN]).requires_grad_(true);
    let w = Tensor::from_vec(w.to_vec(), [OUT, IN]).requires_grad_(true);
    let b = Tensor::from_vec(b.to_vec(), [OUT]).requires_grad_(true);
    let y = x.linear(&w, Some(&b));
    (&y * &Tensor::from_vec(c.to_vec(), [BATCH, OUT])).sum().backward();
    let grad = |t: &Tensor| t.grad().expect("a gradient").to_vec();
    [y.to_vec(), grad(&x), grad(&w), grad(&b)]
}

#[test]
fn a_large_linear_layer_matches_float64_on_every_thread_count() {
    let (x, w, b, c) = (values(BATCH * IN, 1), values(OUT * IN, 2), values(OUT, 3), values(BATCH * OUT, 4));
    let expected = reference(&x, &w, &b, &c);
    let one = linear_on(1, &x, &w, &b, &c);
    for threads in [1, 2, 3] {
        let got = linear_on(threads, &x, &w, &b, &c);
        // Each thread multiplies whole dot products (the inner size is never
        // split), so the thread count does not change a single rounding.
        assert!(got == one, "{threads} threads differ from 1 thread");
        for ((name, got), want) in ["output", "x.grad", "w.grad", "b.grad"].iter().zip(&got).zip(&expected) {
            assert_eq!(got.len(), want.len());
            let worst = got.iter().zip(want).map(|(&g, &w)| (f64::from(g) - w).abs()).fold(0.0, f64::max);
            // Sums of at most 200 (or 128) products of values in [-1, 1], in f32.
            assert!(worst <= 1e-4, "{threads} threads, {name}: off by {worst}");
        }
    }
}

/// Parameters long enough to be updated in parts (more than 2^17 elements),
/// and a short one, with fixed gradients.
fn parameters() -> Vec<Tensor> {
    [(300_000, 5), (1_000, 6)]
        .iter()
        .map(|&(len, seed)| {
            let p = Tensor::from_vec(values(len, seed), [len]).requires_grad_(true);
            (&p * &Tensor::from_vec(values(len, seed + 10), [len])).sum().backward();
            p
        })
        .collect()
}

/// The parameters after three steps of the optimizer `make` builds, on `threads`.
fn three_steps(threads: usize, make: &dyn Fn(Vec<Tensor>) -> Box<dyn Optimizer>) -> Vec<Vec<f32>> {
    set_num_threads_oversubscribed(threads);
    let params = parameters();
    let mut optimizer = make(params.clone());
    for _ in 0..3 {
        optimizer.step();
    }
    params.iter().map(Tensor::to_vec).collect()
}

#[test]
fn optimizer_updates_are_the_same_bit_for_bit_on_every_thread_count() {
    type Make = Box<dyn Fn(Vec<Tensor>) -> Box<dyn Optimizer>>;
    let optimizers: Vec<(&str, Make)> = vec![
        ("SGD", Box::new(|p| Box::new(Sgd::new(p, SgdConfig { lr: 0.1, ..Default::default() })))),
        (
            "SGD with Nesterov momentum and weight decay",
            Box::new(|p| {
                let config = SgdConfig {
                    lr: 0.1,
                    momentum: 0.9,
                    nesterov: true,
                    weight_decay: 0.01,
                    ..Default::default()
                };
                Box::new(Sgd::new(p, config))
            }),
        ),
        ("Adam", Box::new(|p| Box::new(Adam::new(p, AdamConfig::default())))),
        (
            "AdamW with amsgrad",
            Box::new(|p| Box::new(Adam::adamw(p, AdamWConfig { amsgrad: true, ..Default::default() }))),
        ),
    ];
    for (name, make) in &optimizers {
        let one = three_steps(1, make);
        for threads in [2, 3] {
            assert!(three_steps(threads, make) == one, "{name}: {threads} threads differ from 1");
        }
    }
    // A known answer: plain SGD moves each value by three times -lr · grad.
    let sgd = three_steps(2, &optimizers[0].1);
    let (start, grad) = (values(300_000, 5), values(300_000, 15));
    for i in [0, 150_000, 299_999] {
        let want = ((start[i] - 0.1 * grad[i]) - 0.1 * grad[i]) - 0.1 * grad[i];
        assert_eq!(sgd[0][i], want, "element {i}");
    }
}

#[test]
fn long_elementwise_maps_are_the_same_bit_for_bit_on_every_thread_count() {
    let len = 600_000;
    let run = |threads: usize| {
        set_num_threads_oversubscribed(threads);
        let a = Tensor::from_vec(values(len, 7), [len]).requires_grad_(true);
        let b = Tensor::from_vec(values(len, 8), [len]);
        let y = (&a * &b + &a).relu();
        y.sum().backward();
        (y.to_vec(), a.grad().expect("a gradient").to_vec())
    };
    let (y, grad) = run(1);
    let (a, b) = (values(len, 7), values(len, 8));
    for i in [0, 299_999, 599_999] {
        let pre = a[i] * b[i] + a[i];
        assert_eq!(y[i], pre.max(0.0), "element {i}");
        assert_eq!(grad[i], if pre > 0.0 { b[i] + 1.0 } else { 0.0 }, "element {i}");
    }
    for threads in [2, 3] {
        assert!(run(threads) == (y.clone(), grad.clone()), "{threads} threads differ from 1");
    }
}

/// Three SGD steps of a two-layer net on large layers, on `threads` threads.
fn train(threads: usize) -> Vec<f32> {
    set_num_threads_oversubscribed(threads);
    let w1 = Tensor::from_vec(values(OUT * IN, 1), [OUT, IN]).requires_grad_(true);
    let w2 = Tensor::from_vec(values(10 * OUT, 2), [10, OUT]).requires_grad_(true);
    let x = Tensor::from_vec(values(BATCH * IN, 3), [BATCH, IN]);
    let labels: Vec<usize> = (0..BATCH).map(|i| i % 10).collect();
    let mut sgd = Sgd::new([&w1, &w2], SgdConfig { lr: 0.01, ..Default::default() });
    for _ in 0..3 {
        x.linear(&w1, None).relu().linear(&w2, None).cross_entropy(&labels).backward();
        sgd.step();
        sgd.zero_grad();
    }
    [w1.to_vec(), w2.to_vec()].concat()
}

/// `got` against `want`, bit for bit.
fn assert_same(got: &[f32], want: &[f32], what: &str) {
    let differ = got.iter().zip(want).filter(|(a, b)| a != b).count();
    assert!(got.len() == want.len() && differ == 0, "{what}: {differ} values differ");
}

#[test]
fn many_threads_training_at_once_while_the_count_changes_get_the_results_of_one() {
    let expected = train(1);
    within_watchdog("eight trainings at once", move || {
        let bodies: Vec<Box<dyn FnOnce() + Send>> = (0..8)
            .map(|i| {
                let expected = expected.clone();
                Box::new(move || assert_same(&train(1 + i % 3), &expected, &format!("training {i}")))
                    as Box<dyn FnOnce() + Send>
            })
            .collect();
        together(bodies);
    });
}

#[test]
fn training_inside_the_users_own_rayon_pool_finishes_with_the_right_results() {
    let expected = train(1);
    within_watchdog("training in a rayon pool", move || {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().expect("a pool");
        pool.install(|| {
            (0..6).into_par_iter().for_each(|i| assert_same(&train(2), &expected, &format!("job {i}")));
        });
        // Several jobs stepping one shared parameter: every update lands.
        set_num_threads_oversubscribed(2);
        let shared = parameters().remove(0);
        let grad = values(300_000, 15);
        pool.install(|| {
            (0..8).into_par_iter().for_each(|_| {
                Sgd::new([&shared], SgdConfig { lr: 0.1, ..Default::default() }).step();
            });
        });
        let mut want = values(300_000, 5)[7];
        for _ in 0..8 {
            want -= 0.1 * grad[7];
        }
        assert_eq!(shared.to_vec()[7], want);
    });
}
