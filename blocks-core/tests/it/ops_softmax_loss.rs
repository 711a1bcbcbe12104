//! softmax, log_softmax and the losses (mse_loss, cross_entropy with class
//! indices or probabilities, nll_loss): known answers, stability for large
//! logits, PyTorch's grad_fn names, shape errors, and gradcheck on random
//! shapes (size-1 axes and K-dimensional inputs included).

use crate::support;

use crate::support::close;
use blocks_core::{Tensor, Tensor64};
use proptest::prelude::*;
use support::{any_tensor, check, shape, tensor};

const SOFTMAX_123: [f32; 3] = [0.090_030_57, 0.244_728_47, 0.665_240_96];
const LOG_SOFTMAX_123: [f32; 3] = [-2.407_606, -1.407_606, -0.407_606];

#[test]
fn softmax_known_answers() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]);
    close(&x.softmax(0).to_vec(), &SOFTMAX_123, 1e-7);
    close(&x.softmax(-1).to_vec(), &SOFTMAX_123, 1e-7);
    // Over dim 0 of a [3, 2] matrix: each column is normalized.
    let m = Tensor::from_vec(vec![1.0, 0.0, 2.0, 0.0, 3.0, 0.0], [3, 2]);
    let expected = [SOFTMAX_123[0], 1.0 / 3.0, SOFTMAX_123[1], 1.0 / 3.0, SOFTMAX_123[2], 1.0 / 3.0];
    close(&m.softmax(0).to_vec(), &expected, 1e-7);
    assert_eq!(Tensor::scalar(5.0).softmax(0).item(), 1.0);
}

#[test]
fn softmax_is_stable_for_large_inputs() {
    let x = Tensor::from_vec(vec![1000.0, 1000.0, -1000.0, 1001.0, 1002.0, 1003.0], [2, 3]);
    let y = x.softmax(1).to_vec();
    assert_eq!(&y[..3], &[0.5, 0.5, 0.0]);
    close(&y[3..], &SOFTMAX_123, 1e-7);
    let all_negative = Tensor::from_vec(vec![-1000.0, -1001.0], [2]).softmax(0).to_vec();
    assert!(
        all_negative.iter().all(|v| v.is_finite()) && (all_negative[0] + all_negative[1] - 1.0).abs() < 1e-6
    );
}

#[test]
fn log_softmax_known_answers_and_stability() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [1, 3]);
    close(&x.log_softmax(1).to_vec(), &LOG_SOFTMAX_123, 1e-6);
    let big = Tensor::from_vec(vec![0.0, -1000.0, 1000.0, 1000.0], [2, 2]).log_softmax(-1).to_vec();
    // No -inf or NaN where a naive log(softmax) would underflow or overflow.
    assert_eq!(&big[..2], &[0.0, -1000.0]);
    close(&big[2..], &[-std::f32::consts::LN_2; 2], 1e-7);
}

#[test]
fn softmax_gradients_known_answers() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).requires_grad_(true);
    let y = x.softmax(0);
    assert_eq!(y.grad_fn(), Some("SoftmaxBackward0"));
    // d y_2 / d x_j = y_2 (δ_2j − y_j)
    y.backward_with(&Tensor::from_vec(vec![0.0, 0.0, 1.0], [3]));
    let s = SOFTMAX_123;
    close(&x.grad().unwrap().to_vec(), &[-s[2] * s[0], -s[2] * s[1], s[2] * (1.0 - s[2])], 1e-7);

    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).requires_grad_(true);
    let y = x.log_softmax(0);
    assert_eq!(y.grad_fn(), Some("LogSoftmaxBackward0"));
    // d log_softmax_0 / d x_j = δ_0j − softmax_j
    y.backward_with(&Tensor::from_vec(vec![1.0, 0.0, 0.0], [3]));
    close(&x.grad().unwrap().to_vec(), &[1.0 - s[0], -s[1], -s[2]], 1e-7);
}

#[test]
#[should_panic(expected = "softmax: Dimension out of range (expected to be in range of [-2, 1], but got 2)")]
fn softmax_bad_dim_panics() {
    Tensor::zeros([2, 3]).softmax(2);
}

#[test]
#[should_panic(expected = "log_softmax: Dimension out of range")]
fn log_softmax_bad_dim_panics() {
    Tensor::zeros([2, 3]).log_softmax(-3);
}

#[test]
fn cross_entropy_of_zero_logits_is_ln_c() {
    for classes in [1usize, 2, 10, 1000] {
        let loss = Tensor64::zeros([3, classes]).cross_entropy(&[0, classes - 1, 0]);
        assert!((loss.item() - (classes as f64).ln()).abs() < 1e-12, "C = {classes}");
    }
}

#[test]
fn cross_entropy_known_answers() {
    let row = Tensor::from_vec(vec![1.0, 2.0, 3.0], [1, 3]);
    close(&[row.cross_entropy(&[2]).item()], &[0.407_606], 1e-6);
    close(&[row.cross_entropy(&[0]).item()], &[2.407_606], 1e-6);
    let batch = Tensor::from_vec(vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0], [2, 3]);
    close(&[batch.cross_entropy(&[0, 2]).item()], &[1.407_606], 1e-6);
    // Unbatched input [C] with one target.
    close(&[Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).cross_entropy(&[1]).item()], &[1.407_606], 1e-6);
    // An empty batch gives NaN, as in PyTorch.
    assert!(Tensor::zeros([0, 3]).cross_entropy(&[]).item().is_nan());
}

#[test]
fn cross_entropy_gradient_is_softmax_minus_onehot_over_n() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0], [2, 3]).requires_grad_(true);
    let loss = x.cross_entropy(&[0, 2]);
    assert_eq!(loss.grad_fn(), Some("NllLossBackward0"));
    loss.backward();
    let s = SOFTMAX_123;
    let expected = [(s[0] - 1.0) / 2.0, s[1] / 2.0, s[2] / 2.0, s[0] / 2.0, s[1] / 2.0, (s[2] - 1.0) / 2.0];
    close(&x.grad().unwrap().to_vec(), &expected, 1e-7);
}

#[test]
fn cross_entropy_is_stable_for_large_logits() {
    let x = Tensor::from_vec(vec![1000.0, 0.0, -1000.0], [1, 3]).requires_grad_(true);
    assert_eq!(x.cross_entropy(&[0]).item(), 0.0);
    let loss = x.cross_entropy(&[2]);
    assert_eq!(loss.item(), 2000.0);
    loss.backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 0.0, -1.0]);
}

#[test]
fn k_dimensional_cross_entropy_matches_the_flattened_positions() {
    // input [N=2, C=3, d=2]: position (n, s) has logits x[n, :, s].
    let values: Vec<f64> = (0..12).map(|i| ((i * 7) % 5) as f64 * 0.5 - 1.0).collect();
    let x = Tensor64::from_vec(values.clone(), [2, 3, 2]).requires_grad_(true);
    let targets = [2, 0, 1, 1];
    let loss = x.cross_entropy(&targets);
    assert_eq!(loss.grad_fn(), Some("NllLoss2DBackward0"));
    let mut expected = 0.0;
    for n in 0..2 {
        for s in 0..2 {
            let logits: Vec<f64> = (0..3).map(|c| values[n * 6 + c * 2 + s]).collect();
            let lse = logits.iter().map(|v| v.exp()).sum::<f64>().ln();
            expected += lse - logits[targets[n * 2 + s]];
        }
    }
    assert!((loss.item() - expected / 4.0).abs() < 1e-12);
    let via_nll = x.log_softmax(1).nll_loss(&targets);
    assert!((loss.item() - via_nll.item()).abs() < 1e-12);
    assert_eq!(x.nll_loss(&targets).grad_fn(), Some("NllLoss2DBackward0"));
}

#[test]
fn nll_loss_known_answers_and_gradient() {
    let log_probs = Tensor::from_vec(vec![-0.5, -1.0, -2.0, -0.25, -3.0, -0.1], [3, 2]).requires_grad_(true);
    let loss = log_probs.nll_loss(&[1, 1, 0]);
    assert_eq!(loss.grad_fn(), Some("NllLossBackward0"));
    close(&[loss.item()], &[(1.0 + 0.25 + 3.0) / 3.0], 1e-7);
    loss.backward();
    let third = 1.0 / 3.0;
    assert_eq!(log_probs.grad().unwrap().to_vec(), vec![0.0, -third, 0.0, -third, -third, 0.0]);
}

#[test]
fn mse_loss_known_answers_and_gradients() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).requires_grad_(true);
    let t = Tensor::from_vec(vec![1.0, 0.0, 0.0], [3]).requires_grad_(true);
    let loss = x.mse_loss(&t);
    assert_eq!(loss.grad_fn(), Some("MseLossBackward0"));
    assert_eq!(loss.item(), 13.0 / 3.0);
    loss.backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 4.0 / 3.0, 2.0]);
    assert_eq!(t.grad().unwrap().to_vec(), vec![0.0, -4.0 / 3.0, -2.0]);
    let m = Tensor::from_vec(vec![0.5, -0.5, 1.5, 2.0], [2, 2]);
    assert_eq!(m.mse_loss(&Tensor::zeros([2, 2])).item(), (0.25 + 0.25 + 2.25 + 4.0) / 4.0);
}

#[test]
fn cross_entropy_with_probabilities_known_answers() {
    let logits = Tensor::from_vec(vec![1.0, 2.0, 3.0], [1, 3]).requires_grad_(true);
    let soft = Tensor::from_vec(vec![0.2, 0.3, 0.5], [1, 3]);
    let loss = logits.cross_entropy_probs(&soft);
    assert_eq!(loss.grad_fn(), Some("DivBackward1"));
    // −Σ t·log_softmax = 0.2·2.4076 + 0.3·1.4076 + 0.5·0.4076
    close(&[loss.item()], &[1.107_606], 1e-6);
    loss.backward();
    let s = SOFTMAX_123;
    close(&logits.grad().unwrap().to_vec(), &[s[0] - 0.2, s[1] - 0.3, s[2] - 0.5], 1e-7);
    // One-hot probabilities give the class-index loss.
    let x = Tensor64::from_vec(vec![0.3, -1.2, 2.0, 0.7, 0.1, -0.4], [2, 3]);
    let onehot = Tensor64::from_vec(vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0], [2, 3]);
    assert!((x.cross_entropy_probs(&onehot).item() - x.cross_entropy(&[2, 0]).item()).abs() < 1e-12);
    assert!(Tensor::zeros([0, 3]).cross_entropy_probs(&Tensor::zeros([0, 3])).item().is_nan());
}

#[test]
fn cross_entropy_with_probabilities_gives_the_target_a_gradient() {
    let logits = Tensor::from_vec(vec![1.0, 2.0, 3.0, 0.0, 0.0, 0.0], [2, 3]);
    let soft = Tensor::full([2, 3], 1.0 / 3.0).requires_grad_(true);
    logits.cross_entropy_probs(&soft).backward();
    // d/dt = −log_softmax(x) / N
    let third = -(1.0f32 / 3.0).ln() / 2.0;
    let l = LOG_SOFTMAX_123;
    let expected = [-l[0] / 2.0, -l[1] / 2.0, -l[2] / 2.0, third, third, third];
    close(&soft.grad().unwrap().to_vec(), &expected, 1e-6);
}

#[test]
#[should_panic(
    expected = "cross_entropy: input [4, 10] and target [3] do not match: expected 4 class indices"
)]
fn cross_entropy_wrong_target_count_panics_naming_shapes() {
    Tensor::zeros([4, 10]).cross_entropy(&[1, 2, 3]);
}

#[test]
#[should_panic(
    expected = "cross_entropy: target 10 at position 1 is out of bounds for 10 classes (input [2, 10])"
)]
fn cross_entropy_target_out_of_range_panics_naming_it_and_c() {
    Tensor::zeros([2, 10]).cross_entropy(&[1, 10]);
}

#[test]
fn loss_errors_name_the_shapes() {
    let error = Tensor::zeros([2, 3, 4]).try_cross_entropy(&[0; 5]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cross_entropy: input [2, 3, 4] and target [5] do not match: expected 8 class indices \
         (a target of shape [2, 4], flattened)"
    );
    let error = Tensor::scalar(1.0).try_cross_entropy(&[0]).unwrap_err();
    assert_eq!(error.to_string(), "cross_entropy: input [] must have at least 1 dimension (the classes)");
    let error = Tensor::zeros([3]).try_nll_loss(&[3]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "nll_loss: target 3 at position 0 is out of bounds for 3 classes (input [3])"
    );
    let error = Tensor::zeros([2, 3]).try_cross_entropy_probs(&Tensor::zeros([2])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cross_entropy_probs: input [2, 3] and target [2] must have the same shape (class probabilities)"
    );
}

#[test]
#[should_panic(expected = "mse_loss: input [4, 1] and target [4] must have the same shape")]
fn mse_loss_shape_mismatch_panics() {
    Tensor::zeros([4, 1]).mse_loss(&Tensor::zeros([4]));
}

#[test]
#[should_panic(expected = "cross_entropy_probs: input [2, 3] and target [3] must have the same shape")]
fn cross_entropy_probs_shape_mismatch_panics() {
    Tensor::zeros([2, 3]).cross_entropy_probs(&Tensor::zeros([3]));
}

#[test]
#[should_panic(expected = "nll_loss: input [2, 3] and target [1] do not match")]
fn nll_loss_wrong_target_count_panics() {
    Tensor::zeros([2, 3]).nll_loss(&[0]);
}

/// A classification input shape (`[C]`, `[N, C]` or `[N, C, d...]`) with a
/// valid target for every position.
fn classification() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (1usize..=3, 1usize..=4, prop::collection::vec(1usize..=3, 0..=2), any::<bool>()).prop_flat_map(
        |(n, c, rest, unbatched)| {
            let shape: Vec<usize> = if unbatched { vec![c] } else { [vec![n, c], rest].concat() };
            let positions = if unbatched { 1 } else { shape.iter().product::<usize>() / c };
            (Just(shape), prop::collection::vec(0..c, positions))
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn softmax_and_log_softmax_pass_gradcheck(a in any_tensor(3, -3.0, 3.0), d in 0isize..3) {
        let dim = d % a.ndim() as isize;
        check(|t| t[0].softmax(dim), std::slice::from_ref(&a))?;
        check(|t| t[0].log_softmax(-1 - dim), &[a])?;
    }

    #[test]
    fn softmax_rows_sum_to_one_and_match_exp_log_softmax(a in any_tensor(3, -30.0, 30.0), d in 0isize..3) {
        let dim = d % a.ndim() as isize;
        let sums = a.softmax(dim).sum_dim(&[dim], false).to_vec();
        prop_assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-12));
        let direct = a.softmax(dim).to_vec();
        let via_log = a.log_softmax(dim).exp().to_vec();
        prop_assert!(direct.iter().zip(&via_log).all(|(x, y)| (x - y).abs() < 1e-12));
    }

    #[test]
    fn cross_entropy_passes_gradcheck((s, targets) in classification()) {
        let x = Tensor64::randn(&s).requires_grad_(true);
        check(|t| t[0].cross_entropy(&targets), &[x])?;
    }

    #[test]
    fn cross_entropy_equals_nll_of_log_softmax((s, targets) in classification()) {
        let x = Tensor64::randn(&s).requires_grad_(true);
        let class_dim = if s.len() == 1 { 0 } else { 1 };
        let fused = x.cross_entropy(&targets);
        let composed = x.log_softmax(class_dim).nll_loss(&targets);
        prop_assert!((fused.item() - composed.item()).abs() < 1e-12);
        fused.backward();
        let fused_grad = x.grad().unwrap().to_vec();
        x.zero_grad();
        composed.backward();
        let composed_grad = x.grad().unwrap().to_vec();
        prop_assert!(fused_grad.iter().zip(&composed_grad).all(|(a, b)| (a - b).abs() < 1e-12));
    }

    #[test]
    fn nll_loss_passes_gradcheck((s, targets) in classification()) {
        let x = Tensor64::randn(&s).requires_grad_(true);
        check(|t| t[0].nll_loss(&targets), &[x])?;
    }

    #[test]
    fn cross_entropy_probs_passes_gradcheck(
        (x, p) in classification().prop_flat_map(|(s, _)| (tensor(s.clone(), -2.0, 2.0), tensor(s, 0.0, 1.0)))
    ) {
        check(|t| t[0].cross_entropy_probs(&t[1]), &[x, p])?;
    }

    #[test]
    fn mse_loss_passes_gradcheck((a, b) in shape(3).prop_flat_map(|s| (tensor(s.clone(), -2.0, 2.0), tensor(s, -2.0, 2.0)))) {
        check(|t| t[0].mse_loss(&t[1]), &[a, b])?;
    }
}
