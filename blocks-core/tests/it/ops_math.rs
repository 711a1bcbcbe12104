//! Elementwise math (abs, exp, log, sqrt, powf, powi) and the sigmoid and
//! tanh activations: known answers, PyTorch's gradients at special points,
//! grad_fn names, and gradcheck on random shapes.

use crate::support;

use crate::support::close;
use blocks_core::{Tensor, Tensor64};
use proptest::prelude::*;
use support::{any_tensor, away_from_zero, check, shape};

fn grad_of(x: &Tensor, f: impl Fn(&Tensor) -> Tensor) -> Vec<f32> {
    f(x).sum().backward();
    x.grad().expect("x gets a gradient").to_vec()
}

#[test]
fn abs_known_answers_and_zero_gradient_at_zero() {
    let x = Tensor::from_vec(vec![-2.0, 0.0, 3.0, -0.0], [2, 2]).requires_grad_(true);
    assert_eq!(x.abs().to_vec(), vec![2.0, 0.0, 3.0, 0.0]);
    // PyTorch: d|x|/dx = sign(x), and sign(0) = 0 (for -0.0 too).
    assert_eq!(grad_of(&x, Tensor::abs), vec![-1.0, 0.0, 1.0, 0.0]);
}

#[test]
fn exp_and_log_known_answers() {
    let x = Tensor64::from_vec(vec![0.0, 1.0, -1.0], [3]);
    assert_eq!(x.exp().to_vec(), vec![1.0, std::f64::consts::E, (-1.0f64).exp()]);
    let y = Tensor64::from_vec(vec![1.0, std::f64::consts::E, 0.0, -1.0], [4]).log().to_vec();
    assert_eq!(&y[..3], &[0.0, 1.0, f64::NEG_INFINITY]);
    assert!(y[3].is_nan(), "log of a negative number is NaN, as in PyTorch");
}

#[test]
fn exp_log_sqrt_gradients() {
    let x = Tensor::from_vec(vec![0.5, 1.0, 4.0], [3]).requires_grad_(true);
    close(&grad_of(&x, Tensor::exp), &[0.5f32.exp(), 1.0f32.exp(), 4.0f32.exp()], 1e-6);
    x.zero_grad();
    assert_eq!(grad_of(&x, Tensor::log), vec![2.0, 1.0, 0.25]);
    x.zero_grad();
    close(&grad_of(&x, Tensor::sqrt), &[1.0 / (2.0 * 0.5f32.sqrt()), 0.5, 0.25], 1e-6);
}

#[test]
fn sqrt_known_answers() {
    let x = Tensor::from_vec(vec![0.0, 4.0, 2.25, 1e-4], [2, 2]);
    assert_eq!(x.sqrt().to_vec(), vec![0.0, 2.0, 1.5, 0.01]);
    assert!(Tensor::from_vec(vec![-1.0], [1]).sqrt().item().is_nan());
}

#[test]
fn powf_known_answers_and_gradients() {
    let x = Tensor::from_vec(vec![4.0, 9.0, 0.25], [3]).requires_grad_(true);
    assert_eq!(x.powf(0.5).to_vec(), vec![2.0, 3.0, 0.5]);
    assert_eq!(x.powf(2.0).to_vec(), vec![16.0, 81.0, 0.0625]);
    assert_eq!(x.powf(-1.0).to_vec(), vec![0.25, 1.0 / 9.0, 4.0]);
    // d/dx x^1.5 = 1.5 * x^0.5
    assert_eq!(grad_of(&x, |x| x.powf(1.5)), vec![3.0, 4.5, 0.75]);
    let negative = Tensor::from_vec(vec![-3.0], [1]);
    assert_eq!(negative.powf(2.0).item(), 9.0);
    assert!(negative.powf(0.5).item().is_nan());
}

#[test]
fn powi_known_answers_and_gradients() {
    let x = Tensor::from_vec(vec![-3.0, 2.0, 0.5], [3]).requires_grad_(true);
    assert_eq!(x.powi(3).to_vec(), vec![-27.0, 8.0, 0.125]);
    assert_eq!(x.powi(-1).to_vec(), vec![-1.0 / 3.0, 0.5, 2.0]);
    assert_eq!(x.powi(1).to_vec(), x.to_vec());
    assert_eq!(grad_of(&x, |x| x.powi(3)), vec![27.0, 12.0, 0.75]);
    x.zero_grad();
    assert_eq!(grad_of(&x, |x| x.powi(-2)), vec![2.0 / 27.0, -0.25, -16.0]);
}

#[test]
fn pow_with_exponent_zero_has_zero_gradient_even_at_zero() {
    // PyTorch's pow_backward returns zeros for exponent 0 (not 0 * 0^-1 = NaN).
    let x = Tensor::from_vec(vec![0.0, 2.0, -1.0], [3]).requires_grad_(true);
    assert_eq!(x.powf(0.0).to_vec(), vec![1.0, 1.0, 1.0]);
    assert_eq!(grad_of(&x, |x| x.powf(0.0)), vec![0.0, 0.0, 0.0]);
    x.zero_grad();
    assert_eq!(grad_of(&x, |x| x.powi(0)), vec![0.0, 0.0, 0.0]);
    x.zero_grad();
    // Exponent 2 at 0: 2 * 0^1 = 0, no NaN.
    assert_eq!(grad_of(&x, |x| x.powi(2)), vec![0.0, 4.0, -2.0]);
}

#[test]
fn sigmoid_known_answers_and_stability() {
    let x = Tensor::from_vec(vec![0.0, 1.0, -1.0, 100.0, -100.0, -1000.0, 1000.0], [7]);
    let y = x.sigmoid().to_vec();
    close(&y[..3], &[0.5, 0.731_058_6, 0.268_941_43], 1e-7);
    assert_eq!(y[3], 1.0);
    assert!(y[4] > 0.0 && y[4] < 1e-40, "sigmoid(-100) is tiny but not lost: {}", y[4]);
    assert_eq!(&y[5..], &[0.0, 1.0]);
    let x = Tensor::from_vec(vec![0.0, 2.0, -1000.0], [3]).requires_grad_(true);
    let s2 = 1.0 / (1.0 + (-2.0f32).exp());
    close(&grad_of(&x, Tensor::sigmoid), &[0.25, s2 * (1.0 - s2), 0.0], 1e-7);
}

#[test]
fn tanh_known_answers_and_gradient() {
    let x = Tensor::from_vec(vec![0.0, 1.0, -1.0, 50.0], [2, 2]).requires_grad_(true);
    close(&x.tanh().to_vec(), &[0.0, 0.761_594_2, -0.761_594_2, 1.0], 1e-7);
    let t1 = 1.0f32.tanh();
    close(&grad_of(&x, Tensor::tanh), &[1.0, 1.0 - t1 * t1, 1.0 - t1 * t1, 0.0], 1e-6);
}

#[test]
fn grad_fn_names_are_pytorchs() {
    let x = Tensor::ones([2]).requires_grad_(true);
    assert_eq!(x.abs().grad_fn(), Some("AbsBackward0"));
    assert_eq!(x.exp().grad_fn(), Some("ExpBackward0"));
    assert_eq!(x.log().grad_fn(), Some("LogBackward0"));
    assert_eq!(x.sqrt().grad_fn(), Some("SqrtBackward0"));
    assert_eq!(x.powf(2.5).grad_fn(), Some("PowBackward0"));
    assert_eq!(x.powi(2).grad_fn(), Some("PowBackward0"));
    assert_eq!(x.sigmoid().grad_fn(), Some("SigmoidBackward0"));
    assert_eq!(x.tanh().grad_fn(), Some("TanhBackward0"));
}

#[test]
fn no_graph_without_requires_grad() {
    let x = Tensor::ones([2]);
    for y in [x.abs(), x.exp(), x.log(), x.sqrt(), x.powf(2.0), x.powi(3), x.sigmoid(), x.tanh()] {
        assert!(!y.requires_grad() && y.grad_fn().is_none());
    }
}

#[test]
fn float32_and_float64_agree() {
    let values = vec![0.3, 1.7, 2.2, 0.9];
    let x32 = Tensor::from_vec(values.iter().map(|&v| v as f32).collect(), [4]);
    let x64 = Tensor64::from_vec(values, [4]);
    let chain32 = x32.sqrt().log().abs().exp().powi(2).sigmoid().tanh();
    let chain64 = x64.sqrt().log().abs().exp().powi(2).sigmoid().tanh();
    let expected: Vec<f32> = chain64.to_vec().iter().map(|&v| v as f32).collect();
    close(&chain32.to_vec(), &expected, 1e-6);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn abs_passes_gradcheck(a in shape(3).prop_flat_map(|s| away_from_zero(s, 0.1, 2.0))) {
        check(|t| t[0].abs(), &[a])?;
    }

    #[test]
    fn exp_sigmoid_tanh_pass_gradcheck(a in any_tensor(3, -3.0, 3.0)) {
        check(|t| t[0].exp(), std::slice::from_ref(&a))?;
        check(|t| t[0].sigmoid(), std::slice::from_ref(&a))?;
        check(|t| t[0].tanh(), &[a])?;
    }

    #[test]
    fn log_and_sqrt_pass_gradcheck(a in any_tensor(3, 0.2, 3.0)) {
        check(|t| t[0].log(), std::slice::from_ref(&a))?;
        check(|t| t[0].sqrt(), &[a])?;
    }

    #[test]
    fn powf_passes_gradcheck(a in any_tensor(3, 0.2, 2.0), exponent in -2.5f64..3.5) {
        check(|t| t[0].powf(exponent), std::slice::from_ref(&a))?;
        check(|t| t[0].powf(0.0), &[a])?;
    }

    #[test]
    fn powi_passes_gradcheck(
        a in shape(3).prop_flat_map(|s| away_from_zero(s, 0.2, 2.0)),
        exponent in -3i32..=4,
    ) {
        check(|t| t[0].powi(exponent), &[a])?;
    }

    #[test]
    fn composed_math_passes_gradcheck(a in any_tensor(3, -2.0, 2.0)) {
        // A softplus-like chain times a factor broadcast along the last axis.
        let b = last_axis_one(&a);
        check(|t| (t[0].exp() + 1.0).log() * t[1].tanh(), &[a, b])?;
    }
}

/// A random leaf shaped like `a` with its last axis set to 1 (so it broadcasts).
fn last_axis_one(a: &Tensor64) -> Tensor64 {
    let mut s = a.shape();
    let last = s.len() - 1;
    s[last] = 1;
    Tensor64::randn(&s).requires_grad_(true)
}
