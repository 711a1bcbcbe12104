//! Shapes whose element count overflows are refused by every `try_` function
//! (and panic with a message in the panicking forms) instead of overflowing a
//! multiplication; NaN goes through relu and the comparison-based ops as in
//! PyTorch.

use crate::support::panic_message;
use blocks_core::Tensor;

const HUGE: usize = 1 << 32;

#[test]
fn try_functions_refuse_shapes_whose_element_count_overflows() {
    let error = Tensor::try_from_vec(vec![], [HUGE, HUGE]).unwrap_err();
    assert!(
        error.to_string().starts_with("from_vec: shape [4294967296, 4294967296] is too large"),
        "{error}"
    );
    assert!(
        Tensor::try_from_vec(vec![], [0, HUGE, HUGE]).is_err(),
        "zero-length axes do not excuse the others"
    );

    let empty = Tensor::zeros([0]);
    let huge = HUGE as isize;
    assert!(empty.try_reshape(&[huge, huge]).is_err());
    assert!(empty.try_reshape(&[huge, huge, 0]).is_err());
    assert!(empty.try_reshape(&[-1, huge, huge]).is_err());
    assert!(empty.try_view(&[huge, huge]).is_err());
    assert!(Tensor::zeros([1, 1, 0]).try_expand(&[huge, huge, 0]).is_err());

    // Operands with no elements whose results would have 2^64.
    let (tall, wide) = (Tensor::zeros([HUGE, 1, 0]), Tensor::zeros([1, HUGE, 0]));
    let error = tall.try_add(&wide).unwrap_err();
    assert!(error.to_string().contains("[4294967296, 1, 0]"), "{error}");
    assert!(tall.try_mul(&wide).is_err());
    assert!(tall.try_lt(&wide).is_err());
    let (rows, cols) = (Tensor::zeros([HUGE, 0]), Tensor::zeros([0, HUGE]));
    assert!(rows.try_matmul(&cols).is_err());
    assert!(rows.try_linear(&Tensor::zeros([HUGE, 0]), None).is_err());
    let batched = (Tensor::zeros([HUGE, 1, 0, 0]), Tensor::zeros([1, HUGE, 0, 0]));
    assert!(batched.0.try_matmul(&batched.1).is_err());
    let block = Tensor::zeros([1 << 62, 0]);
    assert!(Tensor::try_cat(&[&block, &block, &block], 0).is_err());
    assert!(Tensor::try_stack(&[&block, &block, &block, &block], 0).is_err());
    assert!(Tensor::zeros([1, 1 << 62, 0]).try_index_select(0, &[0, 0, 0, 0]).is_err());
}

#[test]
fn constructors_panic_with_a_message_on_overflowing_shapes() {
    for (op, message) in [
        ("zeros", panic_message(|| drop(Tensor::zeros([HUGE, HUGE])))),
        ("ones", panic_message(|| drop(Tensor::ones([HUGE, HUGE])))),
        ("full", panic_message(|| drop(Tensor::full([HUGE, HUGE], 1.0)))),
        ("rand", panic_message(|| drop(Tensor::rand([HUGE, HUGE])))),
        ("randn", panic_message(|| drop(Tensor::randn([HUGE, HUGE])))),
        ("eye", panic_message(|| drop(Tensor::eye(HUGE)))),
        ("reshape", panic_message(|| drop(Tensor::zeros([0]).reshape(&[HUGE as isize, HUGE as isize])))),
    ] {
        assert!(message.starts_with(op), "{op}: {message}");
    }
    let message = panic_message(|| drop(Tensor::arange(0.0, 1e30, 1.0)));
    assert!(message.starts_with("arange: shape"), "{message}");
    let message = panic_message(|| drop(Tensor::arange(0.0, f32::NAN, 1.0)));
    assert!(message.starts_with("arange: unsupported range"), "{message}");
}

#[test]
fn relu_keeps_nan_as_pytorch_does_and_passes_its_gradient() {
    let x = Tensor::from_vec(vec![f32::NAN, -1.0, 2.0, -0.0], [4]).requires_grad_(true);
    let y = x.relu();
    let values = y.to_vec();
    assert!(values[0].is_nan(), "relu(NaN) = {}", values[0]);
    assert_eq!(values[1..], [0.0, 2.0, 0.0]);
    y.sum().backward();
    // PyTorch's threshold_backward: grad where the result is not <= 0 (NaN is not).
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
}

#[test]
fn nan_propagates_through_max_min_clamp_and_softmax_and_compares_false() {
    let x = Tensor::from_vec(vec![1.0, f32::NAN, 3.0, -2.0], [2, 2]);
    assert!(x.max().item().is_nan());
    assert!(x.min().item().is_nan());
    let (values, indices) = x.max_dim(1, false);
    assert!(values.to_vec()[0].is_nan() && values.to_vec()[1] == 3.0);
    assert_eq!(indices.to_vec(), vec![1, 0], "the index of the NaN, as in PyTorch");
    let clamped = x.clamp(Some(0.0), Some(2.0)).to_vec();
    assert!(clamped[1].is_nan());
    assert_eq!([clamped[0], clamped[2], clamped[3]], [1.0, 2.0, 0.0]);
    let softmax = x.softmax(1).to_vec();
    assert!(softmax[0].is_nan() && softmax[1].is_nan(), "the row with NaN is NaN");
    assert!((softmax[2] + softmax[3] - 1.0).abs() < 1e-6);
    // Comparisons with NaN are false, except `ne`.
    assert_eq!(x.gt(0.0).to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
    assert_eq!(x.le(5.0).to_vec(), vec![1.0, 0.0, 1.0, 1.0]);
    assert_eq!(x.ne(&x).to_vec(), vec![0.0, 1.0, 0.0, 0.0]);
}
