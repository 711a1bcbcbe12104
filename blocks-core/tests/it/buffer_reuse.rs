//! The engine reuses the storage of dropped arrays for new ones. These tests
//! fill that cache with NaN first and check that no stale value ever shows in
//! a result: every op that takes reused storage overwrites all of it.

use blocks_core::{Tensor, no_grad};

/// Creates and drops NaN tensors of every size in `lens`, so that the
/// engine's cache on this thread holds poisoned buffers of those lengths.
fn poison(lens: &[usize]) {
    for _ in 0..3 {
        let tensors: Vec<Tensor> = lens.iter().map(|&len| Tensor::full([len], f32::NAN)).collect();
        drop(tensors);
    }
}

/// Forward, MSE loss and backward of `x·W1ᵀ+b1 → relu → ·W2ᵀ(+b2)`; returns
/// the loss and every gradient, flattened.
fn step(seed: u64, with_bias: bool) -> Vec<Vec<f32>> {
    blocks_core::manual_seed(seed);
    let x = Tensor::randn([4, 20]);
    let target = Tensor::randn([4, 16]);
    let w1 = Tensor::randn([64, 20]).requires_grad_(true);
    let b1 = Tensor::randn([64]).requires_grad_(true);
    let w2 = Tensor::randn([16, 64]).requires_grad_(true);
    let b2 = Tensor::randn([16]).requires_grad_(true);
    let mut out = Vec::new();
    for _ in 0..3 {
        let h = x.linear(&w1, Some(&b1)).relu();
        let y = if with_bias { h.linear(&w2, Some(&b2)) } else { h.linear(&w2, None) };
        let loss = (&(&y - &target) * &(&y - &target)).mean() + y.mse_loss(&target) * 0.5;
        loss.backward();
        out.push(vec![loss.item()]);
        for p in [&w1, &b1, &w2] {
            out.push(p.grad().unwrap().to_vec());
            no_grad(|| p.with_grad(|g| p.data_mut().scaled_add(-0.1, g.unwrap())));
            p.zero_grad();
        }
    }
    out
}

#[test]
fn reused_storage_never_leaks_stale_values() {
    for with_bias in [true, false] {
        let fresh = std::thread::spawn(move || step(7, with_bias)).join().unwrap();
        assert!(fresh.iter().flatten().all(|v| v.is_finite()));
        let reused = std::thread::spawn(move || {
            poison(&[4 * 64, 64 * 20, 16 * 64, 4 * 16, 64, 16, 20]);
            step(7, with_bias)
        })
        .join()
        .unwrap();
        assert_eq!(fresh, reused, "with_bias = {with_bias}");
    }
}

#[test]
fn a_product_over_zero_features_is_the_bias_or_zero() {
    poison(&[16 * 16]);
    let x = Tensor::zeros([16, 0]).requires_grad_(true);
    let w = Tensor::zeros([16, 0]).requires_grad_(true);
    assert_eq!(x.linear(&w, None).to_vec(), vec![0.0; 256]);
    let b = Tensor::full([16], 2.0);
    assert_eq!(x.linear(&w, Some(&b)).to_vec(), vec![2.0; 256]);
}

#[test]
fn elementwise_results_and_gradients_fill_reused_storage() {
    poison(&[300]);
    let a = Tensor::full([3, 100], 2.0).requires_grad_(true);
    let b = Tensor::full([3, 100], 4.0).requires_grad_(true);
    let y = (&a + &b) * (&a - &b) / &b + a.relu() * 3.0 - 1.0;
    assert!(y.to_vec().iter().all(|&v| v == (6.0 * -2.0) / 4.0 + 6.0 - 1.0));
    poison(&[300]);
    y.sum().backward();
    // dy/da = (a - b + a + b) / b + 3 = 2a/b + 3; dy/db = ((a - b) - (a + b)) / b - (a² - b²)/b²
    assert!(a.grad().unwrap().to_vec().iter().all(|&v| v == 1.0 + 3.0));
    assert!(b.grad().unwrap().to_vec().iter().all(|&v| (v - (-2.0 + 0.75)).abs() < 1e-6));
}

#[test]
fn gradients_accumulate_across_backward_calls_with_reused_storage() {
    let w = Tensor::full([16, 16], 0.5).requires_grad_(true);
    let x = Tensor::ones([16, 16]);
    for _ in 0..3 {
        poison(&[256]);
        x.linear(&w, None).sum().backward();
    }
    assert!(w.grad().unwrap().to_vec().iter().all(|&v| v == 3.0 * 16.0));
}
