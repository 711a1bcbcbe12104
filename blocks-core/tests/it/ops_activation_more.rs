//! gelu (exact and tanh), leaky_relu, silu, elu and softplus: PyTorch's values
//! and gradients at special points (0, negative, large values around softplus's
//! threshold), grad_fn names, gradcheck on random shapes; softmax and
//! log_softmax along any dim.

use crate::support;

use crate::support::close;
use blocks_core::{GeluApproximate, Tensor, Tensor64};
use proptest::prelude::*;
use support::{any_tensor, check, shape};

fn value_and_grad(values: &[f64], f: impl Fn(&Tensor64) -> Tensor64) -> (Vec<f64>, Vec<f64>) {
    let x = Tensor64::from_vec(values.to_vec(), [values.len()]).requires_grad_(true);
    let y = f(&x);
    y.sum().backward();
    (y.to_vec(), x.grad().unwrap().to_vec())
}

#[test]
fn gelu_exact_known_answers() {
    // x·Φ(x) with Φ(1) = 0.8413447460685429, Φ(3) = 0.9986501019683699 (tables of the normal CDF).
    let (y, g) = value_and_grad(&[0.0, 1.0, -1.0, 3.0, -10.0], |x| x.gelu(GeluApproximate::None));
    close(&y, &[0.0, 0.841_344_746_068_542_9, -0.158_655_253_931_457_05, 2.995_950_305_905_11, -0.0], 1e-15);
    // Φ(x) + x·φ(x): 0.5 at 0; Φ(1) + φ(1) at 1; Φ(-1) - φ(-1) at -1.
    close(&g[..3], &[0.5, 1.083_315_470_587_686_4, -0.083_315_470_587_686_4], 1e-15);
    assert!(g[4].abs() < 1e-20);
}

#[test]
fn gelu_tanh_known_answers() {
    // torch.nn.functional.gelu(x, approximate='tanh') at 0, 1, -1.
    let (y, g) = value_and_grad(&[0.0, 1.0, -1.0], |x| x.gelu(GeluApproximate::Tanh));
    close(&y, &[0.0, 0.841_191_990_608_276_8, -0.158_808_009_391_723_2], 1e-15);
    assert_eq!(g[0], 0.5);
    // The tanh formula's derivative, written out: 0.5(1+t) + 0.5x(1-t²)·k(1+3·0.044715x²).
    let k = (2.0 / std::f64::consts::PI).sqrt();
    let t = (k * (1.0 + 0.044715)).tanh();
    let d1 = 0.5 * (1.0 + t) + 0.5 * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715);
    close(&g[1..2], &[d1], 1e-15);
}

#[test]
fn leaky_relu_silu_elu_at_special_points() {
    let (y, g) = value_and_grad(&[-2.0, 0.0, 3.0], |x| x.leaky_relu(0.1));
    close(&y, &[-0.2, 0.0, 3.0], 1e-16);
    assert_eq!(g, vec![0.1, 0.1, 1.0], "PyTorch's slope applies at 0 (x > 0 is the positive side)");

    let (y, g) = value_and_grad(&[0.0, 1.0, -1.0, -800.0, 800.0], |x| x.silu());
    let s1 = 1.0 / (1.0 + (-1.0f64).exp());
    close(&y, &[0.0, s1, -(1.0 - s1), 0.0, 800.0], 1e-15);
    close(&g, &[0.5, s1 * (1.0 + (1.0 - s1)), (1.0 - s1) * (1.0 - (1.0 - (1.0 - s1))), 0.0, 1.0], 1e-15);

    let (y, g) = value_and_grad(&[-1.0, 0.0, 2.0, -50.0], |x| x.elu(1.5));
    close(&y, &[1.5 * (-1.0f64).exp_m1(), 0.0, 2.0, -1.5], 1e-15);
    close(&g, &[1.5 * (-1.0f64).exp(), 1.5, 1.0, 1.5 * (-50.0f64).exp()], 1e-15);
}

#[test]
fn softplus_follows_pytorchs_threshold_rule() {
    // beta·x > threshold returns x itself; at exactly the threshold the log formula is used.
    let (y, g) = value_and_grad(&[0.0, 20.0, 21.0, -30.0], |x| x.softplus(1.0, 20.0));
    close(&y, &[std::f64::consts::LN_2, 20.000_000_002_061_153, 21.0, (-30.0f64).exp()], 1e-15);
    assert_eq!(g[2], 1.0);
    close(&[g[0], g[1]], &[0.5, 1.0 / (1.0 + (-20.0f64).exp())], 1e-15);
    // beta = 2, threshold = 20: 10.5·2 = 21 > 20 is linear; 10·2 = 20 is not.
    let (y, _) = value_and_grad(&[10.5, 10.0, 1.0], |x| x.softplus(2.0, 20.0));
    close(&y, &[10.5, (20.0f64).exp().ln_1p() / 2.0, (2.0f64).exp().ln_1p() / 2.0], 1e-15);
    // No overflow in float32 for large values.
    assert_eq!(Tensor::from_vec(vec![1000.0], [1]).softplus(1.0, 20.0).to_vec(), vec![1000.0]);
}

#[test]
fn grad_fn_names_are_pytorchs() {
    let x = Tensor::ones([2]).requires_grad_(true);
    assert_eq!(x.gelu(GeluApproximate::None).grad_fn(), Some("GeluBackward0"));
    assert_eq!(x.gelu(GeluApproximate::Tanh).grad_fn(), Some("GeluBackward0"));
    assert_eq!(x.leaky_relu(0.01).grad_fn(), Some("LeakyReluBackward0"));
    assert_eq!(x.silu().grad_fn(), Some("SiluBackward0"));
    assert_eq!(x.elu(1.0).grad_fn(), Some("EluBackward0"));
    assert_eq!(x.softplus(1.0, 20.0).grad_fn(), Some("SoftplusBackward0"));
    let plain = Tensor::ones([2]);
    assert!(plain.gelu(GeluApproximate::None).grad_fn().is_none() && !plain.silu().requires_grad());
}

#[test]
fn softmax_and_log_softmax_take_any_dim() {
    let x = Tensor64::from_vec((0..24).map(|v| (v as f64 * 0.37).sin()).collect(), [2, 3, 4]);
    for dim in [-3, -2, -1, 0, 1, 2] {
        let p = x.softmax(dim);
        let sums = p.sum_dim(&[dim], false).to_vec();
        close(&sums, &vec![1.0; sums.len()], 1e-15);
        close(&x.log_softmax(dim).to_vec(), &p.log().to_vec(), 1e-14);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn activations_pass_gradcheck(a in any_tensor(3, -4.0, 4.0), slope in 0.01f64..0.5, alpha in 0.1f64..2.0) {
        // leaky_relu and elu have a kink at 0, which random values never hit.
        check(|t| t[0].gelu(GeluApproximate::None), std::slice::from_ref(&a))?;
        check(|t| t[0].gelu(GeluApproximate::Tanh), std::slice::from_ref(&a))?;
        check(|t| t[0].leaky_relu(slope), std::slice::from_ref(&a))?;
        check(|t| t[0].silu(), std::slice::from_ref(&a))?;
        check(|t| t[0].elu(alpha), std::slice::from_ref(&a))?;
        check(|t| t[0].softplus(1.0, 20.0), std::slice::from_ref(&a))?;
        check(|t| t[0].softplus(2.5, 3.0), &[a])?;
    }

    #[test]
    fn softmax_passes_gradcheck_along_every_dim(s in shape(3), pick in 0usize..3) {
        let dim = (pick % s.len()) as isize;
        let x = Tensor64::randn(&s).requires_grad_(true);
        check(|t| t[0].softmax(dim), std::slice::from_ref(&x))?;
        check(|t| t[0].log_softmax(dim - s.len() as isize), &[x])?;
    }
}
