//! Hostile optimizer states (a negative or NaN step count, a negative second
//! moment, NaN moments or momentum, wrong shapes) are refused with an error
//! naming the parameter and the field, and the optimizer is left unchanged:
//! its next step is bit for bit that of an untouched copy.

use blocks_core::Tensor;
use blocks_core::optim::{Adam, AdamConfig, Optimizer, OptimizerState, Sgd, SgdConfig};

/// Two parameters with gradients set by a fixed loss.
fn params() -> (Tensor, Tensor) {
    let w = Tensor::from_vec(vec![0.5, -1.5], [2]).requires_grad_(true);
    let v = Tensor::from_vec(vec![2.0, 0.25, -0.75], [3]).requires_grad_(true);
    (w, v)
}

fn backward(w: &Tensor, v: &Tensor) {
    w.zero_grad();
    v.zero_grad();
    (&(w * w).sum() + &(v * 3.0).sum()).backward();
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.to_vec().iter().map(|x| x.to_bits()).collect()
}

/// Refuses `state` in an optimizer made by `make` after one step, with a
/// message containing every piece of `expected`; then its next step equals
/// that of a copy that never saw the state.
fn assert_refused_unchanged<O: Optimizer>(
    make: impl Fn(&Tensor, &Tensor) -> O,
    hostile: impl Fn(&mut OptimizerState),
    expected: &[&str],
) {
    let (w, v) = params();
    let (w2, v2) = params();
    let mut target = make(&w, &v);
    let mut untouched = make(&w2, &v2);
    backward(&w, &v);
    target.step();
    backward(&w2, &v2);
    untouched.step();

    let mut state = target.state_dict();
    hostile(&mut state);
    let before = target.state_dict();
    let error = target.load_state_dict(&state).unwrap_err().to_string();
    for piece in expected {
        assert!(error.contains(piece), "{error:?} should contain {piece:?}");
    }
    let after = target.state_dict();
    assert_eq!(after.keys(), before.keys());
    for key in before.keys() {
        assert_eq!(bits(after.get(key).unwrap()), bits(before.get(key).unwrap()), "{key} unchanged");
    }
    assert_eq!(after.metadata("param_groups"), before.metadata("param_groups"));

    backward(&w, &v);
    target.step();
    backward(&w2, &v2);
    untouched.step();
    assert_eq!((bits(&w), bits(&v)), (bits(&w2), bits(&v2)), "the next step is the untouched one's");
    assert!(w.to_vec().iter().chain(&v.to_vec()).all(|x| x.is_finite()));
}

fn adam(w: &Tensor, v: &Tensor) -> Adam {
    Adam::new([w, v], AdamConfig { lr: 0.1, amsgrad: true, ..Default::default() })
}

fn sgd(w: &Tensor, v: &Tensor) -> Sgd {
    Sgd::new([w, v], SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() })
}

#[test]
fn a_negative_step_count_is_refused() {
    assert_refused_unchanged(
        adam,
        |s| s.insert("state.1.step", Tensor::scalar(-1.0)),
        &["parameter 1", "state.1.step", "is -1", "whole number >= 0"],
    );
}

#[test]
fn a_nan_infinite_or_fractional_step_count_is_refused() {
    for (value, shown) in [(f32::NAN, "is NaN"), (f32::INFINITY, "is inf"), (2.5, "is 2.5")] {
        assert_refused_unchanged(
            adam,
            |s| s.insert("state.0.step", Tensor::scalar(value)),
            &["parameter 0", "state.0.step", shown],
        );
    }
    assert_refused_unchanged(
        adam,
        |s| s.insert("state.0.step", Tensor::ones([2])),
        &["parameter 0", "state.0.step must hold one number"],
    );
}

#[test]
fn a_negative_second_moment_is_refused() {
    assert_refused_unchanged(
        adam,
        |s| s.insert("state.1.exp_avg_sq", Tensor::from_vec(vec![0.0, -0.5, 1.0], [3])),
        &["parameter 1", "state.1.exp_avg_sq holds -0.5 at index [1]", "finite and >= 0"],
    );
    assert_refused_unchanged(
        adam,
        |s| s.insert("state.0.max_exp_avg_sq", Tensor::from_vec(vec![-1.0, 0.0], [2])),
        &["parameter 0", "state.0.max_exp_avg_sq", "finite and >= 0"],
    );
}

#[test]
fn nan_or_infinite_moments_are_refused() {
    assert_refused_unchanged(
        adam,
        |s| s.insert("state.0.exp_avg", Tensor::from_vec(vec![f32::NAN, 0.0], [2])),
        &["parameter 0", "state.0.exp_avg holds NaN at index [0]", "must be finite"],
    );
    assert_refused_unchanged(
        adam,
        |s| s.insert("state.1.exp_avg_sq", Tensor::from_vec(vec![0.0, f32::INFINITY, 1.0], [3])),
        &["parameter 1", "state.1.exp_avg_sq holds inf"],
    );
}

#[test]
fn moments_of_the_wrong_shape_are_refused() {
    assert_refused_unchanged(
        adam,
        |s| s.insert("state.1.exp_avg", Tensor::zeros([2])),
        &["parameter 1", "state.1.exp_avg has shape [2], but parameter 1 has shape [3]"],
    );
}

#[test]
fn nan_momentum_or_a_momentum_buffer_of_the_wrong_shape_is_refused() {
    assert_refused_unchanged(
        sgd,
        |s| s.insert("state.1.momentum_buffer", Tensor::from_vec(vec![0.0, 1.0, f32::NAN], [3])),
        &["parameter 1", "state.1.momentum_buffer holds NaN at index [2]", "must be finite"],
    );
    assert_refused_unchanged(
        sgd,
        |s| s.insert("state.0.momentum_buffer", Tensor::zeros([2, 1])),
        &["parameter 0", "state.0.momentum_buffer has shape [2, 1], but parameter 0 has shape [2]"],
    );
}

#[test]
fn a_valid_state_still_loads_after_the_checks() {
    let (w, v) = params();
    let mut opt = adam(&w, &v);
    backward(&w, &v);
    opt.step();
    let mut state = opt.state_dict();
    // Zero is a valid second moment and a valid step count.
    state.insert("state.1.exp_avg_sq", Tensor::zeros([3]));
    state.insert("state.1.step", Tensor::scalar(0.0));
    opt.load_state_dict(&state).unwrap();
    assert_eq!(opt.step_count(1), 0);
}
