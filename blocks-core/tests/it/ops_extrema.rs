//! max/min over a dim (values and indices), argmax/argmin, and whole-tensor
//! max/min: known answers, PyTorch's tie rules for indices and gradients,
//! NaN propagation, dim errors, and gradcheck on random shapes.

use crate::support;

use blocks_core::{Tensor, Tensor64};
use proptest::prelude::*;
use support::{check, shape};

#[test]
fn max_dim_and_min_dim_known_answers() {
    let x = Tensor::from_vec(vec![1.0, 7.0, 3.0, 4.0, 2.0, 9.0], [2, 3]);
    let (values, indices) = x.max_dim(1, false);
    assert_eq!(values.shape(), vec![2]);
    assert_eq!(values.to_vec(), vec![7.0, 9.0]);
    assert_eq!(indices.shape(), [2]);
    assert_eq!(indices.as_slice(), [1, 2]);
    let (values, indices) = x.max_dim(0, true);
    assert_eq!(values.shape(), vec![1, 3]);
    assert_eq!(values.to_vec(), vec![4.0, 7.0, 9.0]);
    assert_eq!(indices.shape(), [1, 3]);
    assert_eq!(indices.to_vec(), vec![1, 0, 1]);
    let (values, indices) = x.min_dim(-1, false);
    assert_eq!(values.to_vec(), vec![1.0, 2.0]);
    assert_eq!(indices.to_vec(), vec![0, 1]);
    let (values, indices) = x.min_dim(-2, true);
    assert_eq!(values.to_vec(), vec![1.0, 2.0, 3.0]);
    assert_eq!(indices.to_vec(), vec![0, 1, 0]);
}

#[test]
fn max_dim_on_a_middle_axis_of_a_3d_tensor() {
    // x[i][j][k] = values below, shape [2, 3, 2]; reduce over j.
    let x = Tensor::from_vec(vec![0.0, 5.0, 2.0, 1.0, 1.0, 8.0, 6.0, 0.0, 3.0, 3.0, 9.0, -1.0], [2, 3, 2]);
    let (values, indices) = x.max_dim(1, false);
    assert_eq!(values.shape(), vec![2, 2]);
    assert_eq!(values.to_vec(), vec![2.0, 8.0, 9.0, 3.0]);
    assert_eq!(indices.to_vec(), vec![1, 2, 2, 1]);
}

#[test]
fn ties_return_the_first_index_and_send_the_gradient_there() {
    let x = Tensor::from_vec(vec![3.0, 1.0, 3.0, 2.0, 2.0, 2.0], [2, 3]).requires_grad_(true);
    let (values, indices) = x.max_dim(1, false);
    assert_eq!(values.grad_fn(), Some("MaxBackward0"));
    assert_eq!(indices.as_slice(), [0, 0]);
    let weights = Tensor::from_vec(vec![10.0, 20.0], [2]);
    (&values * &weights).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![10.0, 0.0, 0.0, 20.0, 0.0, 0.0]);

    let x = Tensor::from_vec(vec![1.0, 0.0, 0.0], [3]).requires_grad_(true);
    let (values, indices) = x.min_dim(0, true);
    assert_eq!(values.grad_fn(), Some("MinBackward0"));
    assert_eq!(indices.item(), 1);
    values.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 1.0, 0.0]);
}

#[test]
fn keepdim_gradient_has_the_input_shape() {
    let x = Tensor::from_vec(vec![1.0, 5.0, 4.0, 2.0], [2, 2]).requires_grad_(true);
    let (values, _) = x.max_dim(0, true);
    values.backward_with(&Tensor::from_vec(vec![2.0, 3.0], [1, 2]));
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 3.0, 2.0, 0.0]);
}

#[test]
fn argmax_and_argmin_known_answers() {
    let logits = Tensor::from_vec(vec![0.1, 2.0, -1.0, 3.0, 0.0, 0.5, 1.0, 1.0, 1.0], [3, 3]);
    assert_eq!(logits.argmax(1, false).to_vec(), vec![1, 0, 0]);
    assert_eq!(logits.argmax(-1, true).shape(), [3, 1]);
    assert_eq!(logits.argmin(1, false).to_vec(), vec![2, 1, 0]);
    assert_eq!(logits.argmax(0, false).to_vec(), vec![1, 0, 2]);
    assert_eq!(logits.argmin(0, false).to_vec(), vec![0, 1, 0]);
    let as_float: Tensor = logits.argmax(1, false).to_tensor();
    assert_eq!(as_float.to_vec(), vec![1.0, 0.0, 0.0]);
    assert_eq!(logits.argmax(1, false).numel(), 3);
}

#[test]
fn a_zero_dim_tensor_reduces_over_dim_0() {
    let x = Tensor::scalar(4.0).requires_grad_(true);
    let (values, indices) = x.max_dim(0, false);
    assert_eq!(values.shape(), Vec::<usize>::new());
    assert_eq!(values.item(), 4.0);
    assert_eq!(indices.shape(), [0usize; 0]);
    assert_eq!(indices.item(), 0);
    assert_eq!(x.argmin(-1, true).item(), 0);
    values.backward();
    assert_eq!(x.grad().unwrap().item(), 1.0);
}

#[test]
fn nan_is_the_extremum_as_in_pytorch() {
    let x = Tensor::from_vec(vec![1.0, f32::NAN, 3.0, f32::NAN], [4]);
    let (values, indices) = x.max_dim(0, false);
    assert!(values.item().is_nan());
    assert_eq!(indices.item(), 1);
    let (values, indices) = x.min_dim(0, false);
    assert!(values.item().is_nan());
    assert_eq!(indices.item(), 1);
    assert!(x.max().item().is_nan());
    assert!(x.min().item().is_nan());
}

#[test]
fn whole_tensor_max_and_min_known_answers() {
    let x = Tensor::from_vec(vec![1.0, -4.0, 3.0, 2.0, 3.0, -4.0], [2, 3]);
    let m = x.max();
    assert_eq!(m.shape(), Vec::<usize>::new());
    assert_eq!(m.item(), 3.0);
    assert_eq!(x.min().item(), -4.0);
    assert_eq!(Tensor::scalar(2.5).max().item(), 2.5);
}

#[test]
fn whole_tensor_max_shares_the_gradient_evenly_among_ties() {
    // PyTorch's evenly_distribute_backward: grad / (number of elements equal to the max).
    let x = Tensor::from_vec(vec![3.0, 1.0, 3.0, 3.0], [2, 2]).requires_grad_(true);
    let m = x.max();
    assert_eq!(m.grad_fn(), Some("MaxBackward1"));
    (&m * 6.0).backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 0.0, 2.0, 2.0]);

    let x = Tensor::from_vec(vec![0.0, -1.0, -1.0, 5.0], [4]).requires_grad_(true);
    let m = x.min();
    assert_eq!(m.grad_fn(), Some("MinBackward1"));
    m.backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.5, 0.5, 0.0]);
}

#[test]
fn whole_tensor_max_with_nan_sends_the_gradient_to_the_nans() {
    let x = Tensor::from_vec(vec![f32::NAN, 1.0, f32::NAN], [3]).requires_grad_(true);
    x.max().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.5, 0.0, 0.5]);
}

#[test]
fn try_forms_report_bad_dims() {
    let x = Tensor::zeros([2, 3]);
    let error = x.try_max_dim(2, false).unwrap_err();
    assert_eq!(
        error.to_string(),
        "max_dim: Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    );
    assert!(x.try_min_dim(-3, false).is_err());
    assert!(x.try_argmax(5, true).is_err());
    assert!(x.try_argmin(-3, true).is_err());
    let error = Tensor::zeros([2, 0]).try_argmax(1, false).unwrap_err();
    assert_eq!(error.to_string(), "argmax: cannot reduce dim 1 of size 0 in a tensor of shape [2, 0]");
    // Reducing another dim of a tensor with an empty axis is fine.
    assert_eq!(Tensor::zeros([2, 0]).argmax(0, false).shape(), [0]);
}

#[test]
#[should_panic(expected = "max_dim: Dimension out of range (expected to be in range of [-2, 1], but got -3)")]
fn max_dim_bad_dim_panics() {
    Tensor::zeros([2, 3]).max_dim(-3, false);
}

#[test]
#[should_panic(expected = "argmin: cannot reduce dim 0 of size 0 in a tensor of shape [0, 3]")]
fn argmin_over_an_empty_dim_panics() {
    Tensor::zeros([0, 3]).argmin(0, false);
}

#[test]
#[should_panic(expected = "max(): Expected reduction dim to be specified for input.numel() == 0")]
fn whole_tensor_max_of_an_empty_tensor_panics() {
    Tensor::zeros([2, 0]).max();
}

/// A tensor of `shape` whose values are distinct and at least 0.25 apart (no ties).
fn distinct(shape: Vec<usize>) -> impl Strategy<Value = Tensor64> {
    let len: usize = shape.iter().product();
    Just((0..len).collect::<Vec<_>>()).prop_shuffle().prop_map(move |order| {
        let values = order.into_iter().map(|i| i as f64 * 0.25 - 1.0).collect();
        Tensor64::from_vec(values, &shape).requires_grad_(true)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn max_dim_and_min_dim_pass_gradcheck(
        a in shape(3).prop_flat_map(distinct),
        d in 0isize..3,
        keepdim in any::<bool>(),
    ) {
        let dim = d % a.ndim() as isize;
        check(|t| t[0].max_dim(dim, keepdim).0, std::slice::from_ref(&a))?;
        check(|t| t[0].min_dim(-1 - dim, keepdim).0, &[a])?;
    }

    #[test]
    fn whole_max_and_min_pass_gradcheck(a in shape(3).prop_flat_map(distinct)) {
        check(|t| t[0].max(), std::slice::from_ref(&a))?;
        check(|t| t[0].min(), &[a])?;
    }

    #[test]
    fn indices_point_at_the_values(s in shape(3), d in 0isize..3, keepdim in any::<bool>()) {
        let x = Tensor64::randn(&s);
        let dim = d % s.len() as isize;
        let axis = dim as usize;
        let (values, indices) = x.max_dim(dim, keepdim);
        prop_assert_eq!(indices.clone(), x.argmax(dim, keepdim));
        prop_assert_eq!(indices.shape().to_vec(), values.shape());
        prop_assert!(indices.as_slice().iter().all(|&i| i < s[axis]));
        // Every value is the maximum of its lane, and sits at its index.
        let data = x.to_array();
        for (lane, (&v, &i)) in data.lanes(ndarray::Axis(axis)).into_iter().zip(values.to_vec().iter().zip(indices.as_slice())) {
            prop_assert_eq!(lane[i], v);
            prop_assert!(lane.iter().all(|&u| u <= v));
        }
        let (low, low_at) = x.min_dim(dim, keepdim);
        prop_assert_eq!(low_at, x.argmin(dim, keepdim));
        prop_assert!(low.to_vec().iter().zip(values.to_vec()).all(|(&l, h)| l <= h));
        prop_assert_eq!(x.max().item(), values.max().item());
    }
}
