//! max_pool2d, avg_pool2d and adaptive_avg_pool2d: hand-computed answers with
//! padding and ceil_mode, PyTorch's windows and divisors, errors, grad_fn names, and gradcheck
//! on random shapes (max pool on distinct values, so that no window ties).

use crate::support;

use blocks_core::{Tensor, Tensor64};
use proptest::prelude::*;
use support::check;

fn grid(h: usize, w: usize) -> Tensor {
    Tensor::from_vec((0..h * w).map(|v| v as f32).collect(), [1, 1, h, w])
}

#[test]
fn max_pool2d_hand_computed_with_padding_and_dilation() {
    let x = grid(4, 4).requires_grad_(true);
    // Kernel 3, stride 2, padding 1: windows centred on (0,0), (0,2), (2,0), (2,2).
    let y = x.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
    assert_eq!(y.to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
    assert_eq!(y.grad_fn(), Some("MaxPool2DWithIndicesBackward0"));
    y.sum().backward();
    let mut expected = vec![0.0; 16];
    for i in [5, 7, 13, 15] {
        expected[i] = 1.0;
    }
    assert_eq!(x.grad().unwrap().to_vec(), expected);
    // Dilation 2, kernel 2: taps (i, j), (i, j+2), (i+2, j), (i+2, j+2).
    let y = grid(4, 4).max_pool2d([2, 2], [1, 1], [0, 0], [2, 2], false);
    assert_eq!(y.to_vec(), vec![10.0, 11.0, 14.0, 15.0]);
    // Negative values next to the padding: padding is -inf, not 0.
    let neg = Tensor::from_vec(vec![-1.0, -2.0, -3.0, -4.0], [1, 2, 2]);
    assert_eq!(neg.max_pool2d([2, 2], [2, 2], [1, 1], [1, 1], false).to_vec(), vec![-1.0, -2.0, -3.0, -4.0]);
}

#[test]
fn max_pool2d_gradient_accumulates_over_overlapping_windows() {
    let x = Tensor::from_vec(vec![0.0, 9.0, 0.0, 0.0, 0.0, 0.0], [1, 1, 2, 3]).requires_grad_(true);
    let y = x.max_pool2d([2, 2], [1, 1], [0, 0], [1, 1], false);
    assert_eq!(y.to_vec(), vec![9.0, 9.0]);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 2.0, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn avg_pool2d_divisors_with_and_without_padding() {
    let x = grid(3, 3).requires_grad_(true);
    let y = x.avg_pool2d([2, 2], [2, 2], [1, 1], false, true);
    // Windows: {0}, {1,2}, {3,6}, {4,5,7,8}, all divided by 4 (padding counts).
    assert_eq!(y.to_vec(), vec![0.0, 0.75, 2.25, 6.0]);
    assert_eq!(y.grad_fn(), Some("AvgPool2DBackward0"));
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.25; 9]);
    let y = grid(3, 3).avg_pool2d([2, 2], [2, 2], [1, 1], false, false);
    assert_eq!(y.to_vec(), vec![0.0, 1.5, 4.5, 6.0]);
    // LeNet's AvgPool2d(2, 2) on an even image: plain 2x2 means.
    assert_eq!(grid(2, 4).avg_pool2d([2, 2], [2, 2], [0, 0], false, true).to_vec(), vec![2.5, 4.5]);
}

#[test]
fn ceil_mode_keeps_partial_windows_that_start_inside() {
    // Kernel 3, stride 2, padding 1 on 4x4: ceil((4 + 2 - 3) / 2) + 1 = 3 windows per axis,
    // starting at -1, 1, 3 (rows {0, 1}, {1, 2, 3}, {3}).
    let y = grid(4, 4).max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], true);
    assert_eq!(y.shape(), vec![1, 1, 3, 3]);
    assert_eq!(y.to_vec(), vec![5.0, 7.0, 7.0, 13.0, 15.0, 15.0, 13.0, 15.0, 15.0]);
    // Width 5, kernel 2, stride 2, padding 1: ceil(5 / 2) + 1 = 4, but the 4th window would
    // start at 5, in the right padding, so PyTorch drops it: 3 windows {0}, {1, 2}, {3, 4}.
    let row = grid(1, 5);
    assert_eq!(row.max_pool2d([1, 2], [1, 2], [0, 1], [1, 1], true).to_vec(), vec![0.0, 2.0, 4.0]);
    assert_eq!(row.max_pool2d([1, 2], [1, 2], [0, 1], [1, 1], false).to_vec(), vec![0.0, 2.0, 4.0]);
    // avg: a window past the input is divided by its part inside (input + padding) only.
    let y = grid(3, 3).avg_pool2d([2, 2], [2, 2], [0, 0], true, true);
    assert_eq!(y.to_vec(), vec![2.0, 3.5, 6.5, 8.0]);
    assert_eq!(grid(3, 3).avg_pool2d([2, 2], [2, 2], [0, 0], false, true).to_vec(), vec![2.0]);
}

#[test]
fn adaptive_avg_pool2d_uses_pytorchs_windows() {
    // 5 -> 3: rows [0, 2), [1, 4), [3, 5).
    let x = Tensor::from_vec((0..5).map(|v| v as f32).collect(), [1, 1, 1, 5]).requires_grad_(true);
    let y = x.adaptive_avg_pool2d([1, 3]);
    assert_eq!(y.to_vec(), vec![0.5, 2.0, 3.5]);
    assert_eq!(y.grad_fn(), Some("AdaptiveAvgPool2DBackward0"));
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.5, 0.5 + 1.0 / 3.0, 1.0 / 3.0, 0.5 + 1.0 / 3.0, 0.5]);
    // Output larger than the input repeats values.
    assert_eq!(grid(1, 2).adaptive_avg_pool2d([1, 4]).to_vec(), vec![0.0, 0.0, 1.0, 1.0]);
    // Output (1, 1) is PyTorch's mean over the last two dims: MeanBackward1.
    let x = grid(3, 4).requires_grad_(true);
    let y = x.adaptive_avg_pool2d([1, 1]);
    assert_eq!((y.shape(), y.to_vec()), (vec![1, 1, 1, 1], vec![5.5]));
    assert_eq!(y.grad_fn(), Some("MeanBackward1"));
}

#[test]
fn pool_errors_follow_pytorchs_rules() {
    let x = Tensor::zeros([1, 1, 4, 4]);
    let err = x.try_max_pool2d([3, 3], [1, 1], [2, 2], [1, 1], false).unwrap_err().to_string();
    assert!(
        err.starts_with("max_pool2d: input [1, 1, 4, 4], kernel [3, 3]: pad should be at most half"),
        "{err}"
    );
    assert!(x.try_avg_pool2d([2, 2], [1, 1], [2, 0], false, true).is_err());
    assert!(
        x.try_max_pool2d([5, 5], [1, 1], [0, 0], [1, 1], false)
            .unwrap_err()
            .to_string()
            .contains("too small")
    );
    assert!(x.try_max_pool2d([2, 2], [0, 1], [0, 0], [1, 1], false).is_err());
    assert!(Tensor::zeros([4, 4]).try_adaptive_avg_pool2d([2, 2]).is_err());
    assert!(x.try_adaptive_avg_pool2d([0, 2]).is_err());
}

#[test]
#[should_panic(expected = "avg_pool2d: input [4]")]
fn pool_panics_name_the_op_and_shape() {
    Tensor::zeros([4]).avg_pool2d([2, 2], [2, 2], [0, 0], false, true);
}

#[test]
fn max_pool2d_window_inside_padding_is_minus_infinity() {
    // Width 1, kernel 2 with dilation 2 and padding 1: the one window reads the
    // two padded columns only, and PyTorch returns -inf.
    let x = Tensor::ones([1, 1, 1, 1]).requires_grad_(true);
    let y = x.max_pool2d([1, 2], [1, 1], [0, 1], [1, 2], false);
    assert_eq!(y.shape(), vec![1, 1, 1, 1]);
    assert_eq!(y.to_vec(), vec![f32::NEG_INFINITY]);
}

/// A float64 leaf of `shape` holding distinct values at least 0.05 apart, shuffled.
fn distinct(shape: Vec<usize>) -> impl Strategy<Value = Tensor64> {
    let len: usize = shape.iter().product();
    Just((0..len).map(|v| v as f64 * 0.05).collect::<Vec<_>>())
        .prop_shuffle()
        .prop_map(move |v| Tensor64::from_vec(v, &shape).requires_grad_(true))
}

/// A pooled shape (n, c, h, w), kernel, stride, padding and dilation.
type PoolCase = ([usize; 4], [usize; 2], [usize; 2], [usize; 2], [usize; 2]);

/// Pool settings with padding at most half the kernel and an output of at least 1.
fn pool_case() -> impl Strategy<Value = PoolCase> {
    (
        [1usize..=2, 1usize..=2, 1usize..=6, 1usize..=6],
        [1usize..=3, 1usize..=3],
        [1usize..=3, 1usize..=3],
        [0usize..=1, 0usize..=1],
        [1usize..=2, 1usize..=2],
    )
        .prop_map(|(s, k, st, p, d)| (s, k, st, [p[0].min(k[0] / 2), p[1].min(k[1] / 2)], d))
        .prop_filter("output of at least 1", |(s, k, _, p, d)| {
            s[2] + 2 * p[0] > d[0] * (k[0] - 1) && s[3] + 2 * p[1] > d[1] * (k[1] - 1)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20))]

    #[test]
    fn max_pool2d_passes_gradcheck(
        (x, k, s, p, d) in pool_case().prop_flat_map(|(shape, k, s, p, d)| (distinct(shape.to_vec()), Just(k), Just(s), Just(p), Just(d)))
    ) {
        // A dilated window can fall wholly into the padding: PyTorch gives -inf
        // there (see `max_pool2d_window_inside_padding_is_minus_infinity`), where
        // finite differences are meaningless.
        for ceil in [false, true] {
            let out = x.max_pool2d(k, s, p, d, ceil);
            prop_assume!(out.to_vec().iter().all(|v| v.is_finite()));
        }
        check(|t| t[0].max_pool2d(k, s, p, d, false), std::slice::from_ref(&x))?;
        check(|t| t[0].max_pool2d(k, s, p, d, true), &[x])?;
    }

    #[test]
    fn avg_pool2d_passes_gradcheck((shape, k, s, p, _) in pool_case(), include in any::<bool>(), ceil in any::<bool>()) {
        let x = Tensor64::randn(shape).requires_grad_(true);
        check(|t| t[0].avg_pool2d(k, s, p, ceil, include), &[x])?;
    }

    #[test]
    fn adaptive_avg_pool2d_passes_gradcheck(
        shape in [1usize..=2, 1usize..=2, 1usize..=6, 1usize..=6],
        out in [1usize..=4, 1usize..=4],
    ) {
        let x = Tensor64::randn(shape).requires_grad_(true);
        check(|t| t[0].adaptive_avg_pool2d(out), &[x])?;
    }
}
