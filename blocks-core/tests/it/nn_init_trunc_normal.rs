//! `nn::init::trunc_normal_` against the truncated normal distribution:
//! every value in `[a, b]`, a Kolmogorov-Smirnov test against the exact
//! CDF, the exact mean and variance, and PyTorch's argument checks.

use std::f64::consts::{PI, SQRT_2};

use blocks_core::nn::init;
use blocks_core::{Tensor, Tensor64, manual_seed};

const N: usize = 100_000;

fn phi(x: f64) -> f64 {
    if x.is_infinite() { 0.0 } else { (-x * x / 2.0).exp() / (2.0 * PI).sqrt() }
}

fn cdf(x: f64) -> f64 {
    (1.0 + libm::erf(x / SQRT_2)) / 2.0
}

/// The truncated normal's CDF, mean and variance (Johnson, Kotz and Balakrishnan).
struct Truncated {
    mean: f64,
    std: f64,
    a: f64,
    b: f64,
}

impl Truncated {
    fn standard(&self, x: f64) -> f64 {
        (x - self.mean) / self.std
    }

    fn cdf(&self, x: f64) -> f64 {
        let (alpha, beta) = (self.standard(self.a), self.standard(self.b));
        ((cdf(self.standard(x)) - cdf(alpha)) / (cdf(beta) - cdf(alpha))).clamp(0.0, 1.0)
    }

    fn moments(&self) -> (f64, f64) {
        let (alpha, beta) = (self.standard(self.a), self.standard(self.b));
        let z = cdf(beta) - cdf(alpha);
        let x_phi = |x: f64| if x.is_infinite() { 0.0 } else { x * phi(x) };
        let shift = (phi(alpha) - phi(beta)) / z;
        let var = 1.0 + (x_phi(alpha) - x_phi(beta)) / z - shift * shift;
        (self.mean + self.std * shift, self.std * self.std * var)
    }

    /// Draws `N` values (float32), checks them, and returns the KS statistic.
    fn check(&self) {
        let t = Tensor::zeros([N]);
        init::trunc_normal_(&t, self.mean, self.std, self.a, self.b);
        let mut values: Vec<f64> = t.to_vec().into_iter().map(f64::from).collect();
        // float32 rounding of the bounds themselves may land a hair outside.
        let (a32, b32) = (self.a as f32 as f64, self.b as f32 as f64);
        assert!(values.iter().all(|v| (a32..=b32).contains(v)), "a value outside [{}, {}]", self.a, self.b);
        let n = N as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let (want_mean, want_var) = self.moments();
        // 5 standard errors: a false alarm about once in 3.5 million runs.
        assert!((mean - want_mean).abs() < 5.0 * (want_var / n).sqrt(), "mean {mean}, want {want_mean}");
        assert!(
            (var - want_var).abs() < 5.0 * want_var * (2.0 / n).sqrt() * 1.5,
            "variance {var}, want {want_var}"
        );
        values.sort_by(f64::total_cmp);
        let ks = values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let f = self.cdf(v);
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max);
        // Kolmogorov's critical value at the 0.1% level: 1.95 / sqrt(n).
        assert!(ks < 1.95 / n.sqrt(), "KS statistic {ks} against the truncated normal");
    }
}

#[test]
fn trunc_normal_follows_the_truncated_normal() {
    let _lock = super::nn_init::rng_lock();
    manual_seed(0);
    // PyTorch's defaults; an asymmetric window; ViT's; a half-infinite one.
    Truncated { mean: 0.0, std: 1.0, a: -2.0, b: 2.0 }.check();
    Truncated { mean: 1.0, std: 2.0, a: 0.0, b: 3.0 }.check();
    Truncated { mean: 0.0, std: 0.02, a: -0.04, b: 0.04 }.check();
    Truncated { mean: 0.5, std: 1.0, a: f64::NEG_INFINITY, b: 0.5 }.check();
}

#[test]
fn trunc_normal_is_reproducible_in_f32_and_f64() {
    let _lock = super::nn_init::rng_lock();
    let draw = || {
        let t = Tensor64::zeros([64]);
        init::trunc_normal_(&t, 0.0, 1.0, -2.0, 2.0);
        t.to_vec()
    };
    manual_seed(3);
    let first = draw();
    manual_seed(3);
    assert_eq!(first, draw());
    assert!(first.iter().all(|v| (-2.0..=2.0).contains(v)));
    // Far out in a tail (mean 3 std below a): values stay in [a, b].
    let t = Tensor::zeros([1000]);
    init::trunc_normal_(&t, -3.0, 1.0, 0.0, 1.0);
    assert!(t.to_vec().iter().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
#[should_panic(expected = "float division by zero")]
fn trunc_normal_refuses_a_zero_std() {
    init::trunc_normal_(&Tensor::zeros([3]), 0.0, 0.0, -2.0, 2.0);
}

#[test]
#[should_panic(
    expected = "uniform_ expects to return a [from, to) range, but found from=0.9544997361036416 > to=-0.9544997361036416"
)]
fn trunc_normal_refuses_a_negative_std() {
    // As PyTorch: the bounds' CDFs come out reversed.
    init::trunc_normal_(&Tensor::zeros([3]), 0.0, -1.0, -2.0, 2.0);
}

#[test]
#[should_panic(expected = "uniform_ expects to return a [from, to) range")]
fn trunc_normal_refuses_a_above_b() {
    init::trunc_normal_(&Tensor::zeros([3]), 0.0, 1.0, 1.0, -1.0);
}

#[test]
#[should_panic(expected = "from is out of bounds for float")]
fn trunc_normal_refuses_a_nan_bound() {
    init::trunc_normal_(&Tensor::zeros([3]), 0.0, 1.0, f64::NAN, 2.0);
}

#[test]
#[should_panic(expected = "trunc_normal_ expects a finite mean and std, but found mean=inf and std=1")]
fn trunc_normal_refuses_an_infinite_mean() {
    init::trunc_normal_(&Tensor::zeros([3]), f64::INFINITY, 1.0, -2.0, 2.0);
}
