//! Indexing and joining ops (narrow, slice, select/get, index_select, cat,
//! stack): known answers, PyTorch's grad_fn names and messages, and
//! gradcheck on random shapes with size-1 axes and negative dims/indices.

use crate::support;

use blocks_core::{Tensor, Tensor64};
use proptest::prelude::*;
use support::{check, shape, tensor};

/// 0, 1, 2, ... in `shape`.
fn arange(shape: &[usize]) -> Tensor {
    let len: usize = shape.iter().product();
    Tensor::arange(0.0, len as f32, 1.0).reshape(&shape.iter().map(|&d| d as isize).collect::<Vec<_>>())
}

#[test]
fn narrow_known_answers_and_gradient() {
    let x = arange(&[3, 4]).requires_grad_(true);
    assert_eq!(x.narrow(0, 1, 2).to_vec(), vec![4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
    assert_eq!(x.narrow(1, -2, 2).to_vec(), vec![2.0, 3.0, 6.0, 7.0, 10.0, 11.0]);
    assert_eq!(x.narrow(-1, 4, 0).shape(), vec![3, 0]);
    assert_eq!(x.narrow(-2, -3, 3).to_vec(), x.to_vec());
    x.narrow(1, 1, 2).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), [0.0, 1.0, 1.0, 0.0].repeat(3));
}

#[test]
fn slice_known_answers_follow_python() {
    let v = arange(&[10]);
    assert_eq!(v.slice(0, 1, 8, 3).to_vec(), vec![1.0, 4.0, 7.0]);
    assert_eq!(v.slice(0, -3, isize::MAX, 1).to_vec(), vec![7.0, 8.0, 9.0]);
    assert_eq!(v.slice(0, 0, -7, 1).to_vec(), vec![0.0, 1.0, 2.0]);
    assert_eq!(v.slice(0, -100, 100, 4).to_vec(), vec![0.0, 4.0, 8.0]);
    assert_eq!(v.slice(-1, 5, 2, 1).shape(), vec![0]);
    assert_eq!(v.slice(0, 12, 20, 1).shape(), vec![0]);
    let x = arange(&[2, 5]).requires_grad_(true);
    let y = x.slice(1, 0, isize::MAX, 2);
    assert_eq!(y.shape(), vec![2, 3]);
    assert_eq!(y.to_vec(), vec![0.0, 2.0, 4.0, 5.0, 7.0, 9.0]);
    (&y * &arange(&[2, 3])).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.0, 1.0, 0.0, 2.0, 3.0, 0.0, 4.0, 0.0, 5.0]);
}

#[test]
fn select_and_get_known_answers_and_gradient() {
    let x = arange(&[2, 3, 4]).requires_grad_(true);
    let y = x.select(1, -1);
    assert_eq!(y.shape(), vec![2, 4]);
    assert_eq!(y.to_vec(), vec![8.0, 9.0, 10.0, 11.0, 20.0, 21.0, 22.0, 23.0]);
    assert_eq!(x.select(-1, 0).to_vec(), vec![0.0, 4.0, 8.0, 12.0, 16.0, 20.0]);
    assert_eq!(x.get(1).to_vec(), (12..24).map(|v| v as f32).collect::<Vec<_>>());
    assert_eq!(x.get(-2).to_vec(), x.get(0).to_vec());
    assert_eq!(x.get(1).get(2).get(3).item(), 23.0);
    assert_eq!(arange(&[3]).get(-1).shape(), Vec::<usize>::new());
    (&x.get(1).get(2) * 2.0).sum().backward();
    let grad = x.grad().unwrap().to_vec();
    assert_eq!(grad[20..24], [2.0; 4]);
    assert_eq!(grad.iter().sum::<f32>(), 8.0);
}

#[test]
fn index_select_repeated_indices_accumulate_gradient() {
    let x = arange(&[3, 2]).requires_grad_(true);
    let y = x.index_select(0, &[2, 0, 2, 2]);
    assert_eq!(y.to_vec(), vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0, 4.0, 5.0]);
    (&y * &arange(&[4, 2])).sum().backward();
    // row 0 gets w[1]; row 2 gets w[0] + w[2] + w[3]; row 1 nothing.
    assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 3.0, 0.0, 0.0, 10.0, 13.0]);

    let z = arange(&[2, 3]);
    assert_eq!(z.index_select(-1, &[1, 1, 0]).to_vec(), vec![1.0, 1.0, 0.0, 4.0, 4.0, 3.0]);
    assert_eq!(z.index_select(1, &[]).shape(), vec![2, 0]);
    let s = Tensor::scalar(7.0).requires_grad_(true);
    let picked = s.index_select(0, &[0]);
    assert_eq!(picked.shape(), Vec::<usize>::new());
    picked.backward();
    assert_eq!(s.grad().unwrap().item(), 1.0);
}

#[test]
fn cat_known_answers_over_every_dim() {
    let a = arange(&[2, 2]);
    let b = &arange(&[2, 2]) + 10.0;
    assert_eq!(Tensor::cat(&[&a, &b], 0).to_vec(), vec![0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0]);
    assert_eq!(Tensor::cat(&[&a, &b], 1).to_vec(), vec![0.0, 1.0, 10.0, 11.0, 2.0, 3.0, 12.0, 13.0]);
    assert_eq!(Tensor::cat(&[&a, &b], -1).to_vec(), Tensor::cat(&[&a, &b], 1).to_vec());
    assert_eq!(Tensor::cat(&[&a], 0).to_vec(), a.to_vec());
    // Splitting a tensor with narrow and joining the pieces gives it back, for every dim.
    let x = arange(&[2, 3, 4]);
    for dim in -3..3isize {
        let axis = dim.rem_euclid(3) as usize;
        let size = x.shape()[axis];
        let pieces = [x.narrow(dim, 0, 1), x.narrow(dim, 1, size - 1), x.narrow(dim, size as isize, 0)];
        let joined = Tensor::cat(&[&pieces[0], &pieces[1], &pieces[2]], dim);
        assert_eq!(joined.shape(), x.shape());
        assert_eq!(joined.to_vec(), x.to_vec());
    }
}

#[test]
fn cat_gradient_splits_back_and_accumulates_for_a_repeated_input() {
    let a = arange(&[1, 2]).requires_grad_(true);
    let b = arange(&[2, 2]).requires_grad_(true);
    let frozen = arange(&[1, 2]);
    let y = Tensor::cat(&[&a, &b, &frozen, &a], 0);
    assert_eq!(y.shape(), vec![5, 2]);
    (&y * &arange(&[5, 2])).sum().backward();
    assert_eq!(b.grad().unwrap().to_vec(), vec![2.0, 3.0, 4.0, 5.0]);
    // a appears as rows 0 and 4.
    assert_eq!(a.grad().unwrap().to_vec(), vec![0.0 + 8.0, 1.0 + 9.0]);
    assert!(frozen.grad().is_none());
}

#[test]
fn stack_known_answers_over_every_dim() {
    let a = arange(&[2, 3]);
    let b = &arange(&[2, 3]) + 10.0;
    let s0 = Tensor::stack(&[&a, &b], 0);
    assert_eq!(s0.shape(), vec![2, 2, 3]);
    assert_eq!(s0.to_vec(), [a.to_vec(), b.to_vec()].concat());
    let s1 = Tensor::stack(&[&a, &b], 1);
    assert_eq!(s1.shape(), vec![2, 2, 3]);
    assert_eq!(s1.to_vec(), vec![0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 3.0, 4.0, 5.0, 13.0, 14.0, 15.0]);
    let s2 = Tensor::stack(&[&a, &b], 2);
    assert_eq!(s2.shape(), vec![2, 3, 2]);
    assert_eq!(s2.to_vec(), vec![0.0, 10.0, 1.0, 11.0, 2.0, 12.0, 3.0, 13.0, 4.0, 14.0, 5.0, 15.0]);
    assert_eq!(Tensor::stack(&[&a, &b], -1).to_vec(), s2.to_vec());
    assert_eq!(Tensor::stack(&[&a, &b], -3).to_vec(), s0.to_vec());
    let scalars = [Tensor::scalar(1.0), Tensor::scalar(2.0)];
    assert_eq!(Tensor::stack(&[&scalars[0], &scalars[1]], 0).to_vec(), vec![1.0, 2.0]);
}

#[test]
fn stack_gradient_splits_back() {
    let a = arange(&[2]).requires_grad_(true);
    let b = arange(&[2]).requires_grad_(true);
    let y = Tensor::stack(&[&a, &b, &a], 1);
    assert_eq!(y.shape(), vec![2, 3]);
    (&y * &arange(&[2, 3])).sum().backward();
    assert_eq!(b.grad().unwrap().to_vec(), vec![1.0, 4.0]);
    assert_eq!(a.grad().unwrap().to_vec(), vec![0.0 + 2.0, 3.0 + 5.0]);
}

#[test]
fn grad_fn_names_are_pytorchs() {
    let x = Tensor::ones([3, 4]).requires_grad_(true);
    assert_eq!(x.narrow(0, 1, 2).grad_fn(), Some("SliceBackward0"));
    assert_eq!(x.slice(1, 0, 4, 2).grad_fn(), Some("SliceBackward0"));
    assert_eq!(x.select(1, 0).grad_fn(), Some("SelectBackward0"));
    assert_eq!(x.get(0).grad_fn(), Some("SelectBackward0"));
    assert_eq!(x.index_select(0, &[0, 0]).grad_fn(), Some("IndexSelectBackward0"));
    assert_eq!(Tensor::cat(&[&x, &x], 0).grad_fn(), Some("CatBackward0"));
    assert_eq!(Tensor::stack(&[&x, &x], 0).grad_fn(), Some("StackBackward0"));
    assert_eq!(Tensor::cat(&[&Tensor::ones([1])], 0).grad_fn(), None);
}

#[test]
fn try_forms_return_errors_naming_every_bad_shape() {
    let (a, b, c) = (Tensor::zeros([2, 3]), Tensor::zeros([3, 3]), Tensor::zeros([2, 3, 1]));
    assert_eq!(
        Tensor::try_cat(&[&a, &b, &a, &c], 1).unwrap_err().to_string(),
        "cat: sizes of tensors must match except in dimension 1, but got shapes \
         [[2, 3], [3, 3], [2, 3], [2, 3, 1]]: tensor 1 [3, 3] and tensor 3 [2, 3, 1] differ \
         from tensor 0 [2, 3]"
    );
    assert_eq!(Tensor::try_cat(&[], 0).unwrap_err().to_string(), "cat: expected a non-empty list of tensors");
    assert_eq!(
        Tensor::try_cat(&[&a, &Tensor::scalar(1.0)], 0).unwrap_err().to_string(),
        "cat: zero-dimensional tensor (at position 1) cannot be concatenated; got shapes [[2, 3], []]"
    );
    assert_eq!(
        Tensor::try_cat(&[&a, &a], 2).unwrap_err().to_string(),
        "cat: Dimension out of range (expected to be in range of [-2, 1], but got 2) for shape [2, 3]"
    );
    assert_eq!(
        Tensor::try_stack(&[&a, &b, &c], 0).unwrap_err().to_string(),
        "stack: expects each tensor to be equal size, but got shapes [[2, 3], [3, 3], [2, 3, 1]]: \
         tensor 1 [3, 3] and tensor 2 [2, 3, 1] differ from tensor 0 [2, 3]"
    );
    assert_eq!(
        Tensor::try_stack(&[], 0).unwrap_err().to_string(),
        "stack: expected a non-empty list of tensors"
    );
    assert_eq!(
        a.try_index_select(-1, &[0, 3]).unwrap_err().to_string(),
        "index_select: index 3 out of range for tensor of shape [2, 3] at dimension 1"
    );
    assert_eq!(
        Tensor::scalar(1.0).try_index_select(0, &[0, 0]).unwrap_err().to_string(),
        "index_select: index to a 0-dim tensor can have only 1 value, got 2"
    );
    assert!(Tensor::try_cat(&[&a, &b], 0).is_ok());
    assert!(Tensor::try_stack(&[&a, &a], 2).is_ok());
}

#[test]
#[should_panic(expected = "narrow: start out of range (expected to be in range of [-3, 3], but got 4) \
                           for dim 0 of shape [3, 4]")]
fn narrow_refuses_a_start_outside_the_dim() {
    Tensor::zeros([3, 4]).narrow(0, 4, 0);
}

#[test]
#[should_panic(
    expected = "narrow: start (2) + length (3) exceeds dimension size (4) for dim 1 of shape [3, 4]"
)]
fn narrow_refuses_a_range_past_the_end() {
    Tensor::zeros([3, 4]).narrow(-1, -2, 3);
}

#[test]
#[should_panic(expected = "select: index -4 out of range for tensor of shape [3, 4] at dimension 0")]
fn select_refuses_an_index_outside_the_dim() {
    Tensor::zeros([3, 4]).get(-4);
}

#[test]
#[should_panic(expected = "select: cannot be applied to a 0-dim tensor")]
fn select_refuses_a_scalar() {
    Tensor::scalar(1.0).get(0);
}

#[test]
#[should_panic(expected = "slice: step must be positive")]
fn slice_refuses_a_zero_step() {
    Tensor::zeros([3]).slice(0, 0, 3, 0);
}

#[test]
#[should_panic(expected = "index_select: index 5 out of range for tensor of shape [3, 4] at dimension 0")]
fn index_select_refuses_an_index_outside_the_dim() {
    Tensor::zeros([3, 4]).index_select(0, &[0, 5]);
}

#[test]
#[should_panic(expected = "cat: sizes of tensors must match except in dimension 0, but got shapes \
                           [[2, 3], [2, 4]]: tensor 1 [2, 4] differs from tensor 0 [2, 3]")]
fn cat_mismatch_names_the_shapes() {
    Tensor::cat(&[&Tensor::zeros([2, 3]), &Tensor::zeros([2, 4])], 0);
}

#[test]
#[should_panic(expected = "stack: Dimension out of range (expected to be in range of [-3, 2], but got 3) \
                           for shape [2, 3]")]
fn stack_dim_out_of_range_names_the_shape() {
    let a = Tensor::zeros([2, 3]);
    Tensor::stack(&[&a, &a], 3);
}

/// A random tensor of 1 to 3 dims, a dim index into it and whether to count
/// that dim from the end.
fn tensor_and_dim() -> impl Strategy<Value = (Tensor64, usize, bool)> {
    shape(3).prop_flat_map(|s| {
        let ndim = s.len();
        (tensor(s, -2.0, 2.0), 0..ndim, any::<bool>())
    })
}

/// `value` as is or counted back from `size`, as PyTorch users may write it.
fn signed(value: usize, size: usize, negative: bool) -> isize {
    if negative { value as isize - size as isize } else { value as isize }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn narrow_passes_gradcheck((x, axis, neg) in tensor_and_dim(), a in 0usize..5, b in 0usize..5) {
        let (ndim, size) = (x.ndim(), x.shape()[axis]);
        let (start, end) = ((a % (size + 1)).min(b % (size + 1)), (a % (size + 1)).max(b % (size + 1)));
        let dim = signed(axis, ndim, neg);
        let start_arg = signed(start, size, neg && start < size);
        prop_assert_eq!(x.narrow(dim, start_arg, end - start).shape()[axis], end - start);
        check(|t| t[0].narrow(dim, start_arg, end - start), &[x])?;
    }

    #[test]
    fn slice_matches_index_select_and_passes_gradcheck(
        (x, axis, neg) in tensor_and_dim(), start in -6isize..6, end in -6isize..6, step in 1usize..4,
    ) {
        let size = x.shape()[axis] as isize;
        let dim = signed(axis, x.ndim(), neg);
        // Python's rule, written out: wrap negatives once, then clamp to the dim.
        let wrap = |i: isize| if i < 0 { (i + size).max(0) } else { i.min(size) };
        let expected: Vec<usize> = (wrap(start)..wrap(end)).step_by(step).map(|i| i as usize).collect();
        let sliced = x.slice(dim, start, end, step);
        prop_assert_eq!(sliced.to_vec(), x.index_select(dim, &expected).to_vec());
        check(|t| t[0].slice(dim, start, end, step), &[x])?;
    }

    #[test]
    fn select_and_get_pass_gradcheck((x, axis, neg) in tensor_and_dim(), i in 0usize..4) {
        let (ndim, size) = (x.ndim(), x.shape()[axis]);
        let index = signed(i % size, size, neg);
        check(|t| t[0].select(signed(axis, ndim, neg), index), std::slice::from_ref(&x))?;
        let rows = x.shape()[0];
        check(|t| t[0].get(signed(i % rows, rows, neg)), &[x])?;
    }

    #[test]
    fn index_select_passes_gradcheck(
        (x, axis, neg, picks) in tensor_and_dim().prop_flat_map(|(x, axis, neg)| {
            let size = x.shape()[axis];
            (Just(x), Just(axis), Just(neg), prop::collection::vec(0..size, 0..6))
        }),
    ) {
        let dim = signed(axis, x.ndim(), neg);
        let y = x.index_select(dim, &picks);
        prop_assert_eq!(y.shape()[axis], picks.len());
        check(|t| t[0].index_select(dim, &picks), &[x])?;
    }

    #[test]
    fn cat_passes_gradcheck(
        (base, axis, neg, lengths) in (shape(3), prop::collection::vec(1usize..=3, 1..=3))
            .prop_flat_map(|(s, lengths)| (Just(s.clone()), 0..s.len(), any::<bool>(), Just(lengths))),
        seed in 0u64..1000,
    ) {
        blocks_core::manual_seed(seed);
        let inputs: Vec<Tensor64> = lengths
            .iter()
            .map(|&length| {
                let mut s = base.clone();
                s[axis] = length;
                Tensor64::randn(&s).requires_grad_(true)
            })
            .collect();
        let dim = signed(axis, base.len(), neg);
        let joined = Tensor64::cat(&inputs.iter().collect::<Vec<_>>(), dim);
        prop_assert_eq!(joined.shape()[axis], lengths.iter().sum::<usize>());
        check(|t| Tensor64::cat(&t.iter().collect::<Vec<_>>(), dim), &inputs)?;
    }

    #[test]
    fn stack_passes_gradcheck(s in shape(3), count in 1usize..=3, at in 0usize..4, neg in any::<bool>()) {
        let inputs: Vec<Tensor64> = (0..count).map(|_| Tensor64::randn(&s).requires_grad_(true)).collect();
        // stack takes ndim + 1 positions.
        let rank = s.len() + 1;
        let axis = at % rank;
        let dim = signed(axis, rank, neg);
        let joined = Tensor64::stack(&inputs.iter().collect::<Vec<_>>(), dim);
        prop_assert_eq!(joined.shape()[axis], count);
        check(|t| Tensor64::stack(&t.iter().collect::<Vec<_>>(), dim), &inputs)?;
    }
}
