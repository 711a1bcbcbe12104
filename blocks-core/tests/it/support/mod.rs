//! What the test modules share: proptest strategies for the op suites
//! (random shapes with size-1 axes, broadcast-compatible shape pairs,
//! float64 tensors, gradcheck), tolerance checks, the conformance folder and
//! panic messages.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use blocks_core::{Tensor, Tensor64, gradcheck};
use proptest::prelude::*;

/// A shape with 1 to `max_ndim` axes of 1 to 4 elements (size-1 axes are common).
pub fn shape(max_ndim: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=4, 1..=max_ndim)
}

/// Two shapes that broadcast together: `b` is a suffix of `a`'s shape with
/// some axes set to 1, or the other way round.
pub fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (shape(3), prop::collection::vec(any::<bool>(), 3), 0usize..=3, any::<bool>()).prop_map(
        |(full, ones, drop, swap)| {
            let drop = drop.min(full.len());
            let small: Vec<usize> =
                full[drop..].iter().zip(&ones).map(|(&d, &one)| if one { 1 } else { d }).collect();
            if swap { (small, full) } else { (full, small) }
        },
    )
}

/// Values in `[low, high]` for a tensor of `shape`.
pub fn values(shape: &[usize], low: f64, high: f64) -> impl Strategy<Value = Vec<f64>> + use<> {
    let len: usize = shape.iter().product();
    prop::collection::vec(low..=high, len)
}

/// A float64 leaf that requires grad, with values in `[low, high]`.
pub fn tensor(shape: Vec<usize>, low: f64, high: f64) -> impl Strategy<Value = Tensor64> {
    values(&shape, low, high).prop_map(move |v| Tensor64::from_vec(v, &shape).requires_grad_(true))
}

/// A tensor of any shape from [`shape`].
pub fn any_tensor(max_ndim: usize, low: f64, high: f64) -> impl Strategy<Value = Tensor64> {
    shape(max_ndim).prop_flat_map(move |s| tensor(s, low, high))
}

/// Values whose magnitude stays at least `gap` away from zero (for ops with a kink at 0).
pub fn away_from_zero(shape: Vec<usize>, gap: f64, high: f64) -> impl Strategy<Value = Tensor64> {
    let len: usize = shape.iter().product();
    prop::collection::vec((gap..=high, any::<bool>()), len).prop_map(move |v| {
        let v = v.into_iter().map(|(m, neg)| if neg { -m } else { m }).collect();
        Tensor64::from_vec(v, &shape).requires_grad_(true)
    })
}

/// Runs gradcheck and turns a failure into a proptest failure with the report.
pub fn check<F>(f: F, inputs: &[Tensor64]) -> Result<(), TestCaseError>
where
    F: Fn(&[Tensor64]) -> Tensor64,
{
    gradcheck(f, inputs).map_err(|e| TestCaseError::fail(e.to_string()))
}

/// Panics unless `actual` and `expected` have the same length and every
/// element is within `tolerance` of the expected one.
#[track_caller]
pub fn close<T: num_traits::Float + std::fmt::Debug>(actual: &[T], expected: &[T], tolerance: T) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((*a - *e).abs() <= tolerance, "{actual:?} vs {expected:?}");
    }
}

/// Panics, naming `what` and the element, unless the shapes agree and
/// |ours - PyTorch| <= atol + rtol |PyTorch| for every element (a NaN on
/// either side fails).
#[track_caller]
pub fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor, atol: f32, rtol: f32) {
    assert_eq!(ours.shape(), theirs.shape(), "{what}: shapes differ");
    for (i, (a, b)) in ours.to_vec().into_iter().zip(theirs.to_vec()).enumerate() {
        assert!((a - b).abs() <= atol + rtol * b.abs(), "{what}: element {i} is {a}, PyTorch has {b}");
    }
}

/// The folder of PyTorch-written cases: `BLOCKS_CONFORMANCE_DIR` if set,
/// else the repository's copy, `tests/data/conformance` at the root.
pub fn conformance_dir() -> PathBuf {
    match std::env::var_os("BLOCKS_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/conformance"),
    }
}

/// Runs `f`, which must panic, and gives its message (`panic!` with a
/// format string or a literal; empty if it carried something else).
pub fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    match (payload.downcast_ref::<String>(), payload.downcast_ref::<&str>()) {
        (Some(message), _) => message.clone(),
        (None, Some(message)) => message.to_string(),
        (None, None) => String::new(),
    }
}
