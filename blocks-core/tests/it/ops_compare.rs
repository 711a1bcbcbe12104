//! Comparisons (masks), `where_`, `masked_fill` and `clamp`: known answers,
//! broadcasting, PyTorch's gradients at the clamp bounds, shape errors, and
//! gradcheck on random and broadcast shapes.

use crate::support;

use blocks_core::{Tensor, Tensor64};
use proptest::prelude::*;
use support::{any_tensor, broadcast_pair, check, shape, tensor};

#[test]
fn scalar_comparisons_known_answers() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 2.0], [2, 2]);
    assert_eq!(x.gt(2.0).to_vec(), vec![0.0, 0.0, 1.0, 0.0]);
    assert_eq!(x.ge(2.0).to_vec(), vec![0.0, 1.0, 1.0, 1.0]);
    assert_eq!(x.lt(2.0).to_vec(), vec![1.0, 0.0, 0.0, 0.0]);
    assert_eq!(x.le(2.0).to_vec(), vec![1.0, 1.0, 0.0, 1.0]);
    assert_eq!(x.eq(2.0).to_vec(), vec![0.0, 1.0, 0.0, 1.0]);
    assert_eq!(x.ne(2.0).to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
    assert_eq!(x.gt(0.5).shape(), vec![2, 2]);
}

#[test]
fn tensor_comparisons_broadcast() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    let row = Tensor::from_vec(vec![2.0, 5.0, 3.0], [3]);
    assert_eq!(x.gt(&row).to_vec(), vec![0.0, 0.0, 0.0, 1.0, 0.0, 1.0]);
    assert_eq!(x.le(&row).to_vec(), vec![1.0, 1.0, 1.0, 0.0, 1.0, 0.0]);
    assert_eq!(x.eq(row.clone()).to_vec(), vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    let column = Tensor::from_vec(vec![2.0, 5.0], [2, 1]);
    assert_eq!(x.lt(&column).to_vec(), vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    // Both sides broadcast: [2, 1] against [3] gives [2, 3].
    let outer = column.ge(&row);
    assert_eq!(outer.shape(), vec![2, 3]);
    assert_eq!(outer.to_vec(), vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    assert_eq!(row.ne(&column).to_vec(), vec![0.0, 1.0, 1.0, 1.0, 0.0, 1.0]);
}

#[test]
fn comparisons_with_nan_follow_ieee_as_pytorch() {
    let x = Tensor::from_vec(vec![f32::NAN, 1.0], [2]);
    assert_eq!(x.gt(0.0).to_vec(), vec![0.0, 1.0]);
    assert_eq!(x.le(0.0).to_vec(), vec![0.0, 0.0]);
    assert_eq!(x.eq(&x).to_vec(), vec![0.0, 1.0]);
    assert_eq!(x.ne(&x).to_vec(), vec![1.0, 0.0]);
}

#[test]
fn masks_have_no_gradient_and_count_with_sum() {
    let x = Tensor::from_vec(vec![0.2, 0.7, 0.9], [3]).requires_grad_(true);
    let mask = x.gt(0.5);
    assert!(!mask.requires_grad());
    assert_eq!(mask.grad_fn(), None);
    assert_eq!(mask.sum().item(), 2.0);
    let predictions = Tensor::from_vec(vec![1.0, 0.0, 2.0, 2.0], [4]);
    let labels = Tensor::from_vec(vec![1.0, 1.0, 2.0, 0.0], [4]);
    assert_eq!(predictions.eq(&labels).mean().item(), 0.5);
}

#[test]
fn try_comparisons_report_shapes() {
    let error = Tensor::zeros([2, 3]).try_lt(Tensor::zeros([4])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "lt: shapes [2, 3] and [4] cannot be broadcast together (dimension 1: 3 vs 4)"
    );
    assert!(Tensor::zeros([2, 3]).try_lt(0.0).is_ok());
}

#[test]
#[should_panic(expected = "gt: shapes [2, 3] and [2] cannot be broadcast together")]
fn comparison_shape_mismatch_panics_naming_shapes() {
    Tensor::zeros([2, 3]).gt(Tensor::zeros([2]));
}

#[test]
fn where_known_answers_with_broadcasting() {
    let mask = Tensor::from_vec(vec![1.0, 0.0], [2, 1]);
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]);
    let b = Tensor::from_vec(vec![-1.0], [1]);
    let y = Tensor::where_(&mask, &a, &b);
    assert_eq!(y.shape(), vec![2, 3]);
    assert_eq!(y.to_vec(), vec![1.0, 2.0, 3.0, -1.0, -1.0, -1.0]);
    // Any nonzero value counts as true.
    let mask = Tensor::from_vec(vec![0.5, 0.0, -2.0], [3]);
    assert_eq!(Tensor::where_(&mask, &a, &b).to_vec(), vec![1.0, -1.0, 3.0]);
}

#[test]
fn where_sends_each_gradient_to_its_branch_summed_over_broadcasts() {
    let mask = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0], [2, 3]);
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).requires_grad_(true);
    let b = Tensor::from_vec(vec![10.0, 20.0], [2, 1]).requires_grad_(true);
    let y = Tensor::where_(&mask, &a, &b);
    assert_eq!(y.grad_fn(), Some("WhereBackward0"));
    assert_eq!(y.to_vec(), vec![1.0, 10.0, 10.0, 1.0, 2.0, 20.0]);
    let weights = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    (&y * &weights).sum().backward();
    assert_eq!(a.grad().unwrap().to_vec(), vec![1.0 + 4.0, 5.0, 0.0]);
    assert_eq!(b.grad().unwrap().to_vec(), vec![2.0 + 3.0, 6.0]);
}

#[test]
fn where_gradient_to_one_branch_only() {
    let mask = Tensor::from_vec(vec![1.0, 0.0], [2]);
    let a = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
    let b = Tensor::zeros([2]);
    Tensor::where_(&mask, &a, &b).sum().backward();
    assert_eq!(a.grad().unwrap().to_vec(), vec![1.0, 0.0]);
    let a = Tensor::zeros([2]);
    let b = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
    Tensor::where_(&mask, &a, &b).sum().backward();
    assert_eq!(b.grad().unwrap().to_vec(), vec![0.0, 1.0]);
}

#[test]
#[should_panic(expected = "where: condition [2, 3], input [2] and other [1] cannot be broadcast together")]
fn where_shape_mismatch_panics_naming_shapes() {
    Tensor::where_(&Tensor::zeros([2, 3]), &Tensor::zeros([2]), &Tensor::zeros([1]));
}

#[test]
fn masked_fill_known_answers_and_gradient() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]).requires_grad_(true);
    let causal = Tensor::from_vec(vec![0.0, 1.0, 0.0, 0.0], [2, 2]);
    let y = x.masked_fill(&causal, f32::NEG_INFINITY);
    assert_eq!(y.grad_fn(), Some("MaskedFillBackward0"));
    assert_eq!(y.to_vec(), vec![1.0, f32::NEG_INFINITY, 3.0, 4.0]);
    x.masked_fill(&causal, 0.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 0.0, 1.0, 1.0]);
}

#[test]
fn masked_fill_broadcasts_mask_and_input() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).requires_grad_(true);
    let mask = Tensor::from_vec(vec![1.0, 0.0], [2, 1]);
    let y = x.masked_fill(&mask, 9.0);
    assert_eq!(y.shape(), vec![2, 3]);
    assert_eq!(y.to_vec(), vec![9.0, 9.0, 9.0, 1.0, 2.0, 3.0]);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 1.0, 1.0]);
}

#[test]
#[should_panic(expected = "masked_fill: shapes [2, 3] and [2] cannot be broadcast together")]
fn masked_fill_shape_mismatch_panics_naming_shapes() {
    Tensor::zeros([2, 3]).masked_fill(&Tensor::zeros([2]), 1.0);
}

#[test]
fn clamp_known_answers() {
    let x = Tensor::from_vec(vec![-2.0, -0.5, 0.0, 0.5, 3.0], [5]);
    assert_eq!(x.clamp(Some(-0.5), Some(0.5)).to_vec(), vec![-0.5, -0.5, 0.0, 0.5, 0.5]);
    assert_eq!(x.clamp(Some(0.0), None).to_vec(), vec![0.0, 0.0, 0.0, 0.5, 3.0]);
    assert_eq!(x.clamp(None, Some(0.0)).to_vec(), vec![-2.0, -0.5, 0.0, 0.0, 0.0]);
    // PyTorch: min(max(x, min), max), so min > max gives max everywhere.
    assert_eq!(x.clamp(Some(1.0), Some(-1.0)).to_vec(), vec![-1.0; 5]);
    let y = Tensor::from_vec(vec![f32::NAN], [1]).clamp(Some(0.0), Some(1.0));
    assert!(y.item().is_nan(), "NaN stays NaN, as in PyTorch");
}

#[test]
fn clamp_gradient_is_one_inside_bounds_inclusive() {
    let x = Tensor::from_vec(vec![-2.0, -0.5, 0.0, 0.5, 3.0], [5]).requires_grad_(true);
    let y = x.clamp(Some(-0.5), Some(0.5));
    assert_eq!(y.grad_fn(), Some("ClampBackward1"));
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 1.0, 1.0, 1.0, 0.0]);
    x.zero_grad();
    x.clamp(Some(0.0), None).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.0, 1.0, 1.0, 1.0]);
    x.zero_grad();
    x.clamp(None, Some(-0.5)).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 1.0, 0.0, 0.0, 0.0]);
}

#[test]
#[should_panic(expected = "clamp: At least one of 'min' or 'max' must not be None")]
fn clamp_without_bounds_panics() {
    Tensor::zeros([2]).clamp(None, None);
}

/// A 0/1 mask of `shape` from random booleans, that needs no gradient.
fn mask(shape: Vec<usize>) -> impl Strategy<Value = Tensor64> {
    let len: usize = shape.iter().product();
    prop::collection::vec(any::<bool>(), len).prop_map(move |bits| {
        Tensor64::from_vec(bits.into_iter().map(|b| if b { 1.0 } else { 0.0 }).collect(), &shape)
    })
}

/// Values in `[-2, 2]` kept at least 0.01 away from the clamp bounds ±0.5.
fn away_from_bounds(max_ndim: usize) -> impl Strategy<Value = Tensor64> {
    any_tensor(max_ndim, -2.0, 2.0).prop_map(|t| {
        let shape = t.shape();
        let values =
            t.to_vec().into_iter().map(|v| if (v.abs() - 0.5).abs() < 0.01 { v * 1.1 } else { v }).collect();
        Tensor64::from_vec(values, &shape).requires_grad_(true)
    })
}

/// `(mask, a, b)` where `a` and `b` broadcast together and the mask has the
/// shape of one of them with some axes set to 1.
fn where_inputs() -> impl Strategy<Value = (Tensor64, Tensor64, Tensor64)> {
    (broadcast_pair(), prop::collection::vec(any::<bool>(), 3), any::<bool>()).prop_flat_map(
        |((a, b), ones, from_a)| {
            let base = if from_a { &a } else { &b };
            let m: Vec<usize> = base.iter().zip(&ones).map(|(&d, &one)| if one { 1 } else { d }).collect();
            (mask(m), tensor(a, -2.0, 2.0), tensor(b, -2.0, 2.0))
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn where_passes_gradcheck((m, a, b) in where_inputs()) {
        check(|t| Tensor64::where_(&t[2], &t[0], &t[1]), &[a, b, m])?;
    }

    #[test]
    fn masked_fill_passes_gradcheck(
        (a, m) in broadcast_pair().prop_flat_map(|(a, m)| (tensor(a, -2.0, 2.0), mask(m))),
        value in -3.0f64..3.0,
    ) {
        check(|t| t[0].masked_fill(&t[1], value), &[a, m])?;
    }

    #[test]
    fn clamp_passes_gradcheck(a in away_from_bounds(3)) {
        check(|t| t[0].clamp(Some(-0.5), Some(0.5)), std::slice::from_ref(&a))?;
        check(|t| t[0].clamp(Some(-0.5), None), std::slice::from_ref(&a))?;
        check(|t| t[0].clamp(None, Some(0.5)), &[a])?;
    }

    #[test]
    fn comparisons_agree_with_scalar_predicates(s in shape(3), threshold in -1.0f64..1.0) {
        let x = Tensor64::randn(&s);
        let values = x.to_vec();
        let expect = |p: fn(f64, f64) -> bool| -> Vec<f64> {
            values.iter().map(|&v| if p(v, threshold) { 1.0 } else { 0.0 }).collect()
        };
        prop_assert_eq!(x.gt(threshold).to_vec(), expect(|a, b| a > b));
        prop_assert_eq!(x.ge(threshold).to_vec(), expect(|a, b| a >= b));
        prop_assert_eq!(x.lt(threshold).to_vec(), expect(|a, b| a < b));
        prop_assert_eq!(x.le(threshold).to_vec(), expect(|a, b| a <= b));
        let t = Tensor64::full([1], threshold);
        prop_assert_eq!(x.gt(&t).shape(), s);
        prop_assert_eq!(x.gt(&t).to_vec(), expect(|a, b| a > b));
    }
}
