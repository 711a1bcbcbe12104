//! Known answers for printing tensors: every expected string is what
//! PyTorch 2.x prints (`repr`/`print`) for the same values with the default
//! print options.

use blocks_core::{Tensor, Tensor64, no_grad};

fn range(n: usize, f: impl Fn(f32) -> f32) -> Vec<f32> {
    (0..n).map(|i| f(i as f32)).collect()
}

// ---- scalars ----

#[test]
fn scalar_without_grad() {
    assert_eq!(Tensor::scalar(0.1862).to_string(), "tensor(0.1862)");
}

#[test]
fn scalar_with_grad_fn() {
    let x = Tensor::from_vec(vec![0.1, -0.2556], [2]).requires_grad_(true);
    assert_eq!(x.sum().to_string(), "tensor(-0.1556, grad_fn=<SumBackward0>)");
    let y = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
    assert_eq!(y.mean().to_string(), "tensor(1.5000, grad_fn=<MeanBackward0>)");
}

#[test]
fn integer_valued_scalars_end_with_a_point() {
    assert_eq!(Tensor::scalar(3.0).to_string(), "tensor(3.)");
    assert_eq!(Tensor::scalar(0.0).to_string(), "tensor(0.)");
}

// ---- one dimension ----

#[test]
fn integer_valued_floats_align_right() {
    let x = Tensor::arange(1.0, 6.0, 1.0);
    let centered = &x - x.mean().item();
    assert_eq!(centered.to_string(), "tensor([-2., -1.,  0.,  1.,  2.])");
}

#[test]
fn signed_zeros_in_integer_mode() {
    assert_eq!(Tensor::from_vec(vec![0.0, -0.0, 1.0], [3]).to_string(), "tensor([0., -0., 1.])");
}

#[test]
fn negative_values_align_with_positive_ones() {
    let x = Tensor::from_vec(vec![0.5, -1.25, 10.0], [3]);
    assert_eq!(x.to_string(), "tensor([ 0.5000, -1.2500, 10.0000])");
}

#[test]
fn requires_grad_leaf() {
    let x = Tensor::from_vec(vec![0.5, -0.25], [2]).requires_grad_(true);
    assert_eq!(x.to_string(), "tensor([ 0.5000, -0.2500], requires_grad=True)");
}

#[test]
fn no_suffix_for_results_computed_without_grad() {
    let x = Tensor::from_vec(vec![0.5, -0.25], [2]).requires_grad_(true);
    let y = no_grad(|| &x * 2.0);
    assert_eq!(y.to_string(), "tensor([ 1.0000, -0.5000])");
    assert_eq!(x.detach().to_string(), "tensor([ 0.5000, -0.2500])");
}

// ---- matrices and higher dimensions ----

#[test]
fn matrix_rows_align_under_the_first() {
    let m = Tensor::from_vec(vec![0.1234, -0.5, 1.0, 2.25], [2, 2]);
    assert_eq!(m.to_string(), "tensor([[ 0.1234, -0.5000],\n        [ 1.0000,  2.2500]])");
}

#[test]
fn linear_and_matmul_results_show_their_grad_fn() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    let w = Tensor::from_vec(vec![0.5, -1.0, 0.25, 2.0, -3.0, 1.5], [3, 2]).requires_grad_(true);
    let b = Tensor::from_vec(vec![0.1, 0.2, 0.3], [3]).requires_grad_(true);
    assert_eq!(
        x.linear(&w, Some(&b)).to_string(),
        "tensor([[-1.4000,  4.4500,  0.3000],\n        [-2.4000,  8.9500, -2.7000]], grad_fn=<AddmmBackward0>)"
    );
    let wt = Tensor::from_vec(vec![0.5, 0.25, -3.0, -1.0, 2.0, 1.5], [2, 3]).requires_grad_(true);
    assert_eq!(
        x.matmul(&wt).to_string(),
        "tensor([[-1.5000,  4.2500,  0.0000],\n        [-2.5000,  8.7500, -3.0000]], grad_fn=<MmBackward0>)"
    );
}

#[test]
fn relu_and_reshape_grad_fns() {
    let x = Tensor::from_vec(vec![-1.0, 0.5, 2.0, -3.0], [2, 2]).requires_grad_(true);
    assert_eq!(
        x.relu().to_string(),
        "tensor([[0.0000, 0.5000],\n        [2.0000, 0.0000]], grad_fn=<ReluBackward0>)"
    );
    let v = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [4]).requires_grad_(true);
    assert_eq!(
        v.reshape(&[2, 2]).to_string(),
        "tensor([[1., 2.],\n        [3., 4.]], grad_fn=<ViewBackward0>)"
    );
}

#[test]
fn three_dimensions_are_separated_by_a_blank_line() {
    let x = Tensor::from_vec(range(12, |i| i * 0.5 - 3.0), [2, 2, 3]);
    let expected = "\
tensor([[[-3.0000, -2.5000, -2.0000],
         [-1.5000, -1.0000, -0.5000]],

        [[ 0.0000,  0.5000,  1.0000],
         [ 1.5000,  2.0000,  2.5000]]])";
    assert_eq!(x.to_string(), expected);
}

#[test]
fn four_dimensions_are_separated_by_two_blank_lines() {
    let x = Tensor::from_vec(range(16, |i| i), [2, 2, 2, 2]);
    let expected = "\
tensor([[[[ 0.,  1.],
          [ 2.,  3.]],

         [[ 4.,  5.],
          [ 6.,  7.]]],


        [[[ 8.,  9.],
          [10., 11.]],

         [[12., 13.],
          [14., 15.]]]])";
    assert_eq!(x.to_string(), expected);
}

// ---- scientific notation ----

#[test]
fn sci_mode_for_large_integers() {
    assert_eq!(Tensor::from_vec(vec![1e10, 1.0], [2]).to_string(), "tensor([1.0000e+10, 1.0000e+00])");
}

#[test]
fn sci_mode_for_small_values() {
    let x = Tensor::from_vec(vec![1e-5, 1.5, -2.0], [3]);
    assert_eq!(x.to_string(), "tensor([ 1.0000e-05,  1.5000e+00, -2.0000e+00])");
}

#[test]
fn sci_mode_for_a_wide_range() {
    let x = Tensor::from_vec(vec![0.001, 1.5, 3000.0], [3]);
    assert_eq!(x.to_string(), "tensor([1.0000e-03, 1.5000e+00, 3.0000e+03])");
}

#[test]
fn sci_mode_above_1e8() {
    let x = Tensor::from_vec(vec![123456789.0, 0.5], [2]);
    assert_eq!(x.to_string(), "tensor([1.2346e+08, 5.0000e-01])");
}

#[test]
fn float32_1e_minus_4_is_below_the_sci_threshold_but_float64_is_not() {
    // PyTorch compares in double: 1e-4 as a float32 is 9.99999974e-05 < 1e-4.
    let x = Tensor::from_vec(vec![1e-4, 0.05], [2]);
    assert_eq!(x.to_string(), "tensor([1.0000e-04, 5.0000e-02])");
    let y = Tensor64::from_vec(vec![1e-4, 0.05], [2]);
    assert_eq!(y.to_string(), "tensor([0.0001, 0.0500], dtype=torch.float64)");
}

// ---- summarization ----

#[test]
fn summarized_2000_element_vector() {
    let x = Tensor::arange(0.0, 2000.0, 1.0);
    // Only the shown values count: 1999 / 1 > 1000, so scientific.
    let expected = "\
tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,
        1.9990e+03])";
    assert_eq!(x.to_string(), expected);
    let y = Tensor::from_vec(range(2000, |i| i / 2000.0), [2000]);
    let expected = "\
tensor([0.0000e+00, 5.0000e-04, 1.0000e-03,  ..., 9.9850e-01, 9.9900e-01,
        9.9950e-01])";
    assert_eq!(y.to_string(), expected);
}

#[test]
fn summarized_100_by_100_matrix() {
    let x = Tensor::from_vec(range(10000, |i| (i % 100.0) / 10.0 - 5.0), [100, 100]);
    let row = "[-5.0000, -4.9000, -4.8000,  ...,  4.7000,  4.8000,  4.9000]";
    let expected = format!(
        "tensor([{row},\n        {row},\n        {row},\n        ...,\n        {row},\n        {row},\n        {row}])"
    );
    assert_eq!(x.to_string(), expected);
}

#[test]
fn summarized_3d_tensor() {
    let x = Tensor::from_vec(range(2000, |i| (i % 13.0) * 0.25), [10, 10, 20]);
    let expected = "\
tensor([[[0.0000, 0.2500, 0.5000,  ..., 1.0000, 1.2500, 1.5000],
         [1.7500, 2.0000, 2.2500,  ..., 2.7500, 3.0000, 0.0000],
         [0.2500, 0.5000, 0.7500,  ..., 1.2500, 1.5000, 1.7500],
         ...,
         [2.5000, 2.7500, 3.0000,  ..., 0.2500, 0.5000, 0.7500],
         [1.0000, 1.2500, 1.5000,  ..., 2.0000, 2.2500, 2.5000],
         [2.7500, 3.0000, 0.0000,  ..., 0.5000, 0.7500, 1.0000]],

        [[1.2500, 1.5000, 1.7500,  ..., 2.2500, 2.5000, 2.7500],
         [3.0000, 0.0000, 0.2500,  ..., 0.7500, 1.0000, 1.2500],
         [1.5000, 1.7500, 2.0000,  ..., 2.5000, 2.7500, 3.0000],
         ...,
         [0.5000, 0.7500, 1.0000,  ..., 1.5000, 1.7500, 2.0000],
         [2.2500, 2.5000, 2.7500,  ..., 0.0000, 0.2500, 0.5000],
         [0.7500, 1.0000, 1.2500,  ..., 1.7500, 2.0000, 2.2500]],

        [[2.5000, 2.7500, 3.0000,  ..., 0.2500, 0.5000, 0.7500],
         [1.0000, 1.2500, 1.5000,  ..., 2.0000, 2.2500, 2.5000],
         [2.7500, 3.0000, 0.0000,  ..., 0.5000, 0.7500, 1.0000],
         ...,
         [1.7500, 2.0000, 2.2500,  ..., 2.7500, 3.0000, 0.0000],
         [0.2500, 0.5000, 0.7500,  ..., 1.2500, 1.5000, 1.7500],
         [2.0000, 2.2500, 2.5000,  ..., 3.0000, 0.0000, 0.2500]],

        ...,

        [[2.2500, 2.5000, 2.7500,  ..., 0.0000, 0.2500, 0.5000],
         [0.7500, 1.0000, 1.2500,  ..., 1.7500, 2.0000, 2.2500],
         [2.5000, 2.7500, 3.0000,  ..., 0.2500, 0.5000, 0.7500],
         ...,
         [1.5000, 1.7500, 2.0000,  ..., 2.5000, 2.7500, 3.0000],
         [0.0000, 0.2500, 0.5000,  ..., 1.0000, 1.2500, 1.5000],
         [1.7500, 2.0000, 2.2500,  ..., 2.7500, 3.0000, 0.0000]],

        [[0.2500, 0.5000, 0.7500,  ..., 1.2500, 1.5000, 1.7500],
         [2.0000, 2.2500, 2.5000,  ..., 3.0000, 0.0000, 0.2500],
         [0.5000, 0.7500, 1.0000,  ..., 1.5000, 1.7500, 2.0000],
         ...,
         [2.7500, 3.0000, 0.0000,  ..., 0.5000, 0.7500, 1.0000],
         [1.2500, 1.5000, 1.7500,  ..., 2.2500, 2.5000, 2.7500],
         [3.0000, 0.0000, 0.2500,  ..., 0.7500, 1.0000, 1.2500]],

        [[1.5000, 1.7500, 2.0000,  ..., 2.5000, 2.7500, 3.0000],
         [0.0000, 0.2500, 0.5000,  ..., 1.0000, 1.2500, 1.5000],
         [1.7500, 2.0000, 2.2500,  ..., 2.7500, 3.0000, 0.0000],
         ...,
         [0.7500, 1.0000, 1.2500,  ..., 1.7500, 2.0000, 2.2500],
         [2.5000, 2.7500, 3.0000,  ..., 0.2500, 0.5000, 0.7500],
         [1.0000, 1.2500, 1.5000,  ..., 2.0000, 2.2500, 2.5000]]])";
    assert_eq!(x.to_string(), expected);
}

#[test]
fn exactly_1000_elements_are_not_summarized() {
    let x = Tensor::zeros([1000]).to_string();
    assert!(!x.contains("..."));
    assert_eq!(x.matches("0.").count(), 1000);
    assert!(Tensor::zeros([1001]).to_string().starts_with("tensor([0., 0., 0.,  ..., 0., 0., 0.])"));
}

// ---- wrapping ----

#[test]
fn thirty_integers_wrap_at_80_columns() {
    let x = Tensor::arange(0.0, 30.0, 1.0);
    let expected = "\
tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,
        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,
        28., 29.])";
    assert_eq!(x.to_string(), expected);
}

#[test]
fn thirty_decimals_wrap_at_80_columns() {
    let x = Tensor::from_vec(range(30, |i| i * 1.5 - 20.0), [30]).requires_grad_(true);
    let expected = "\
tensor([-20.0000, -18.5000, -17.0000, -15.5000, -14.0000, -12.5000, -11.0000,
         -9.5000,  -8.0000,  -6.5000,  -5.0000,  -3.5000,  -2.0000,  -0.5000,
          1.0000,   2.5000,   4.0000,   5.5000,   7.0000,   8.5000,  10.0000,
         11.5000,  13.0000,  14.5000,  16.0000,  17.5000,  19.0000,  20.5000,
         22.0000,  23.5000], requires_grad=True)";
    assert_eq!(x.to_string(), expected);
}

#[test]
fn wide_matrix_rows_wrap() {
    let x = Tensor::from_vec(range(24, |i| i * 0.125 - 1.5), [2, 12]);
    let expected = "\
tensor([[-1.5000, -1.3750, -1.2500, -1.1250, -1.0000, -0.8750, -0.7500, -0.6250,
         -0.5000, -0.3750, -0.2500, -0.1250],
        [ 0.0000,  0.1250,  0.2500,  0.3750,  0.5000,  0.6250,  0.7500,  0.8750,
          1.0000,  1.1250,  1.2500,  1.3750]])";
    assert_eq!(x.to_string(), expected);
}

// ---- dtype and suffixes ----

#[test]
fn float64_dtype_comes_before_requires_grad() {
    let x = Tensor64::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
    assert_eq!(x.to_string(), "tensor([1., 2.], dtype=torch.float64, requires_grad=True)");
    assert_eq!(Tensor64::scalar(0.5).to_string(), "tensor(0.5000, dtype=torch.float64)");
}

#[test]
fn suffixes_wrap_onto_a_new_line_when_too_long() {
    let values: Vec<f64> = (0..16).map(|i| i as f64 * -0.125).collect();
    let m = Tensor64::from_vec(values.clone(), [2, 8]).requires_grad_(true);
    let expected = "\
tensor([[-0.0000, -0.2500, -0.5000, -0.7500, -1.0000, -1.2500, -1.5000, -1.7500],
        [-2.0000, -2.2500, -2.5000, -2.7500, -3.0000, -3.2500, -3.5000, -3.7500]],
       dtype=torch.float64, grad_fn=<MulBackward0>)";
    assert_eq!((&m * 2.0).to_string(), expected);
    let v = Tensor64::from_vec(values, [16]).requires_grad_(true);
    let expected = "\
tensor([-0.0000, -0.2500, -0.5000, -0.7500, -1.0000, -1.2500, -1.5000, -1.7500,
        -2.0000, -2.2500, -2.5000, -2.7500, -3.0000, -3.2500, -3.5000, -3.7500],
       dtype=torch.float64, grad_fn=<MulBackward0>)";
    assert_eq!((&v * 2.0).to_string(), expected);
}

// ---- nan and inf ----

#[test]
fn nan_and_inf_are_padded_like_numbers() {
    let x = Tensor::from_vec(vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1.5], [4]);
    assert_eq!(x.to_string(), "tensor([   nan,    inf,   -inf, 1.5000])");
    let y = Tensor::from_vec(vec![f32::NAN, 1e-6, 1.0], [3]);
    assert_eq!(y.to_string(), "tensor([       nan, 1.0000e-06, 1.0000e+00])");
}

#[test]
fn nan_and_inf_in_integer_mode_have_no_point() {
    assert_eq!(Tensor::from_vec(vec![1.0, f32::NAN], [2]).to_string(), "tensor([1., nan])");
    assert_eq!(Tensor::from_vec(vec![f32::NAN, f32::INFINITY], [2]).to_string(), "tensor([nan, inf])");
    assert_eq!(Tensor::scalar(f32::NAN).to_string(), "tensor(nan)");
}

// ---- empty ----

#[test]
fn empty_tensors() {
    assert_eq!(Tensor::zeros([0]).to_string(), "tensor([])");
    assert_eq!(Tensor::zeros([0, 3]).to_string(), "tensor([], size=(0, 3))");
    assert_eq!(Tensor::zeros([2, 0, 4]).to_string(), "tensor([], size=(2, 0, 4))");
    assert_eq!(Tensor::zeros([0]).requires_grad_(true).to_string(), "tensor([], requires_grad=True)");
    assert_eq!(Tensor64::zeros([0]).to_string(), "tensor([], dtype=torch.float64)");
    assert_eq!(
        Tensor64::zeros([0, 3]).requires_grad_(true).to_string(),
        "tensor([], size=(0, 3), dtype=torch.float64, requires_grad=True)"
    );
}

// ---- Parameter and Debug ----

#[test]
fn parameter_repr() {
    let w = Tensor::from_vec(vec![-0.3457], [1]).requires_grad_(true);
    assert_eq!(w.parameter_repr(), "Parameter containing:\ntensor([-0.3457], requires_grad=True)");
    let m = Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.25], [2, 2]).requires_grad_(true);
    assert_eq!(
        m.parameter_repr(),
        "Parameter containing:\ntensor([[ 0.5000, -1.0000],\n        [ 2.0000,  0.2500]], requires_grad=True)"
    );
    let d = Tensor64::from_vec(vec![1.0, -2.0], [1, 2]).requires_grad_(true);
    assert_eq!(
        d.parameter_repr(),
        "Parameter containing:\ntensor([[ 1., -2.]], dtype=torch.float64, requires_grad=True)"
    );
}

#[test]
fn debug_is_the_same_as_display() {
    let x = Tensor::from_vec(vec![0.1234, -0.5, 1.0, 2.25], [2, 2]).requires_grad_(true);
    assert_eq!(format!("{x:?}"), format!("{x}"));
    // Like Python's print([a, b]).
    let list = vec![Tensor::ones([1]), Tensor::scalar(2.5)];
    assert_eq!(format!("{list:?}"), "[tensor([1.]), tensor(2.5000)]");
}

// ---- masks printed as torch.bool ----

#[test]
fn a_mask_prints_as_pytorchs_bool_tensor() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]);
    assert_eq!(x.eq(&x).mask_repr(), "tensor([True, True, True])");
    assert_eq!(x.gt(1.5).mask_repr(), "tensor([False,  True,  True])");
    assert_eq!(x.sum().gt(0.0).mask_repr(), "tensor(True)");
    assert_eq!(x.sum().lt(0.0).mask_repr(), "tensor(False)");
}

#[test]
fn a_two_dimensional_mask_aligns_its_rows() {
    // d2l's `Y_clone == Y` on a (2, 10) output.
    let y = Tensor::rand([2, 10]);
    let row = ["True"; 10].join(", ");
    assert_eq!(y.eq(&y).mask_repr(), format!("tensor([[{row}],\n        [{row}]])"));
}

#[test]
fn a_long_mask_wraps_twelve_to_a_line() {
    // floor((80 - 7) / (4 + 2)) = 12 elements per line, as PyTorch computes.
    let mask = Tensor::ones([20]).gt(0.0);
    let first = ["True"; 12].join(", ");
    let second = ["True"; 8].join(", ");
    assert_eq!(mask.mask_repr(), format!("tensor([{first},\n        {second}])"));
}

#[test]
fn a_mask_over_the_threshold_is_summarized() {
    let mask = Tensor::ones([2000]).gt(0.0);
    assert_eq!(mask.mask_repr(), "tensor([True, True, True,  ..., True, True, True])");
}

#[test]
fn an_empty_mask_names_its_dtype() {
    assert_eq!(Tensor::zeros([0]).gt(0.0).mask_repr(), "tensor([], dtype=torch.bool)");
    assert_eq!(Tensor::zeros([0, 3]).gt(0.0).mask_repr(), "tensor([], size=(0, 3), dtype=torch.bool)");
}

#[test]
fn a_mask_of_a_tensor_in_the_graph_has_no_grad_suffix() {
    let w = Tensor::ones([2]).requires_grad_(true);
    let mask = w.get(0).eq(w.get(1));
    assert_eq!(mask.mask_repr(), "tensor(True)");
}

#[test]
fn a_summarized_high_rank_tensor_keeps_pytorchs_layout() {
    // Shape [1, 1, 2000]: summarized, rows indented one more per level.
    let x = Tensor::from_array(
        ndarray::ArrayD::from_shape_vec(
            ndarray::IxDyn(&[1, 1, 2000]),
            (1000..3000).map(|i| i as f32).collect(),
        )
        .unwrap(),
    );
    assert_eq!(x.to_string(), "tensor([[[1000., 1001., 1002.,  ..., 2997., 2998., 2999.]]])");
    // Shape [2, 1, 1, 600]: the separator between the two halves has 3 newlines.
    let y = Tensor::from_array(
        ndarray::ArrayD::from_shape_vec(
            ndarray::IxDyn(&[2, 1, 1, 600]),
            (0..1200).map(|i| (i % 7) as f32).collect(),
        )
        .unwrap(),
    );
    assert_eq!(
        y.to_string(),
        "tensor([[[[0., 1., 2.,  ..., 2., 3., 4.]]],\n\n\n        [[[5., 6., 0.,  ..., 0., 1., 2.]]]])"
    );
}
