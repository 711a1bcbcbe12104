//! Gradient clipping, like `torch.nn.utils.clip_grad_norm_` and
//! `clip_grad_value_`: applied after `backward` and before the optimizer's
//! step, to the parameters' accumulated gradients, in place.

use std::collections::HashSet;
use std::fmt;

use ndarray::ArrayD;

use crate::{Element, TensorBase};

/// The error of [`try_clip_grad_norm_`] with `error_if_nonfinite`: the total
/// norm is NaN or infinite, with PyTorch's message.
///
/// ```
/// use blocks_core::Tensor;
/// use blocks_core::nn::utils::try_clip_grad_norm_;
/// let w = Tensor::ones([2]).requires_grad_(true);
/// (&w * f32::INFINITY).sum().backward();
/// let error = try_clip_grad_norm_([&w], 1.0, 2.0, true).unwrap_err();
/// assert!(error.to_string().starts_with("The total norm of order 2 for gradients from `parameters` is non-finite"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NonFiniteNormError {
    /// The norm that was found.
    pub total_norm: f64,
    /// The order of the norm.
    pub norm_type: f64,
}

impl fmt::Display for NonFiniteNormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The total norm of order {} for gradients from `parameters` is non-finite, so it cannot be \
             clipped. To disable this error and scale the gradients by the non-finite norm anyway, set \
             `error_if_nonfinite=False`",
            self.norm_type
        )
    }
}

impl std::error::Error for NonFiniteNormError {}

/// The `norm_type`-norm of `values`, like `torch.linalg.vector_norm`:
/// `inf` the largest magnitude, `-inf` the smallest, 0 the count of nonzero
/// values, else `(Σ |v|^p)^(1/p)`.
fn vector_norm<E: Element>(values: impl Iterator<Item = E>, norm_type: f64) -> E {
    let magnitudes = values.map(E::abs);
    if norm_type == f64::INFINITY {
        magnitudes.fold(E::zero(), |m, v| if v > m || v.is_nan() { v } else { m })
    } else if norm_type == f64::NEG_INFINITY {
        magnitudes.fold(E::infinity(), |m, v| if v < m || v.is_nan() { v } else { m })
    } else if norm_type == 0.0 {
        magnitudes.fold(E::zero(), |n, v| if v != E::zero() { n + E::one() } else { n })
    } else if norm_type == 1.0 {
        magnitudes.fold(E::zero(), |s, v| s + v)
    } else if norm_type == 2.0 {
        magnitudes.fold(E::zero(), |s, v| s + v * v).sqrt()
    } else {
        let p = E::from_f64(norm_type).expect("a float converts");
        magnitudes.fold(E::zero(), |s, v| s + v.powf(p)).powf(p.recip())
    }
}

/// The distinct tensors of `params` (a parameter listed twice is clipped once, as PyTorch's foreach path does).
fn distinct<E: Element, P: AsRef<TensorBase<E>>>(params: impl IntoIterator<Item = P>) -> Vec<TensorBase<E>> {
    let mut seen = HashSet::new();
    params.into_iter().map(|p| p.as_ref().clone()).filter(|p| seen.insert(p.identity())).collect()
}

/// Scales the gradients of `params` so that their total `norm_type`-norm is
/// at most `max_norm`, like `torch.nn.utils.clip_grad_norm_(params,
/// max_norm, norm_type)`, and returns the total norm from before clipping
/// as a 0-dim tensor.
///
/// The total is the norm of the per-parameter norms (so the norm of all
/// gradients together); `norm_type` is 2 for the Euclidean norm,
/// `f64::INFINITY` for the largest magnitude, or any other order. The
/// gradients are multiplied by `max_norm / (total + 1e-6)` when that is
/// below 1. Parameters without a gradient are skipped; with none, the total
/// is 0. A NaN or infinite total scales the gradients anyway, as PyTorch
/// does by default; see [`try_clip_grad_norm_`] to refuse it.
///
/// ```
/// use blocks_core::Tensor;
/// use blocks_core::nn::utils::clip_grad_norm_;
/// let w = Tensor::from_vec(vec![1.0, 1.0], [2]).requires_grad_(true);
/// (&w * &Tensor::from_vec(vec![3.0, 4.0], [2])).sum().backward();
/// let total = clip_grad_norm_([&w], 1.0, 2.0);
/// assert_eq!(total.item(), 5.0);
/// let clipped = w.grad().unwrap().to_vec();
/// assert!((clipped[0] - 0.6).abs() < 1e-6 && (clipped[1] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm_<E, P>(
    params: impl IntoIterator<Item = P>,
    max_norm: f64,
    norm_type: f64,
) -> TensorBase<E>
where
    E: Element,
    P: AsRef<TensorBase<E>>,
{
    match try_clip_grad_norm_(params, max_norm, norm_type, false) {
        Ok(total) => total,
        Err(_) => unreachable!("only error_if_nonfinite refuses a norm"),
    }
}

/// [`clip_grad_norm_`] with PyTorch's `error_if_nonfinite`: when it is set
/// and the total norm is NaN or infinite, the gradients are left as they
/// are and the error says so.
///
/// # Errors
/// [`NonFiniteNormError`] when `error_if_nonfinite` and the total norm is not finite.
///
/// ```
/// use blocks_core::Tensor;
/// use blocks_core::nn::utils::try_clip_grad_norm_;
/// let w = Tensor::ones([3]).requires_grad_(true);
/// (&w * 2.0).sum().backward();
/// let total = try_clip_grad_norm_([&w], 100.0, f64::INFINITY, true).unwrap();
/// assert_eq!(total.item(), 2.0);
/// assert_eq!(w.grad().unwrap().to_vec(), vec![2.0; 3]);
/// ```
pub fn try_clip_grad_norm_<E, P>(
    params: impl IntoIterator<Item = P>,
    max_norm: f64,
    norm_type: f64,
    error_if_nonfinite: bool,
) -> Result<TensorBase<E>, NonFiniteNormError>
where
    E: Element,
    P: AsRef<TensorBase<E>>,
{
    let params = distinct(params);
    let norms: Vec<E> = params
        .iter()
        .filter_map(|p| p.with_grad(|g| g.map(|g: &ArrayD<E>| vector_norm(g.iter().copied(), norm_type))))
        .collect();
    if norms.is_empty() {
        return Ok(TensorBase::from_vec(vec![E::zero()], []));
    }
    let total = vector_norm(norms.into_iter(), norm_type);
    if error_if_nonfinite && !total.is_finite() {
        return Err(NonFiniteNormError { total_norm: total.to_f64().unwrap_or(f64::NAN), norm_type });
    }
    let max_norm = E::from_f64(max_norm).expect("a float converts");
    let coefficient = max_norm / (total + E::from_f64(1e-6).expect("a float converts"));
    // clamp(max=1), which keeps a NaN.
    let coefficient = if coefficient > E::one() { E::one() } else { coefficient };
    if coefficient != E::one() {
        for p in &params {
            p.with_grad_mut(|g| {
                if let Some(g) = g.as_mut() {
                    g.mapv_inplace(|v| v * coefficient);
                }
            });
        }
    }
    Ok(TensorBase::from_vec(vec![total], []))
}

/// Limits every gradient value of `params` to `[-clip_value, clip_value]`,
/// in place, like `torch.nn.utils.clip_grad_value_(params, clip_value)`.
/// Parameters without a gradient are skipped; NaN stays NaN.
///
/// ```
/// use blocks_core::Tensor;
/// use blocks_core::nn::utils::clip_grad_value_;
/// let w = Tensor::ones([3]).requires_grad_(true);
/// (&w * &Tensor::from_vec(vec![-5.0, 0.5, 2.0], [3])).sum().backward();
/// clip_grad_value_([&w], 1.0);
/// assert_eq!(w.grad().unwrap().to_vec(), vec![-1.0, 0.5, 1.0]);
/// ```
pub fn clip_grad_value_<E, P>(params: impl IntoIterator<Item = P>, clip_value: f64)
where
    E: Element,
    P: AsRef<TensorBase<E>>,
{
    let limit = E::from_f64(clip_value).expect("a float converts");
    for p in distinct(params) {
        p.with_grad_mut(|g| {
            if let Some(g) = g.as_mut() {
                g.mapv_inplace(|v| {
                    if v > limit {
                        limit
                    } else if v < -limit {
                        -limit
                    } else {
                        v
                    }
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{clip_grad_norm_, clip_grad_value_, try_clip_grad_norm_};
    use crate::Tensor64;

    /// Two parameters with gradients `[3, −4]` and `[12]`.
    fn params() -> [Tensor64; 2] {
        let a = Tensor64::zeros([2]).requires_grad_(true);
        let b = Tensor64::zeros([1]).requires_grad_(true);
        a.with_grad_mut(|g| *g = Some(ndarray::arr1(&[3.0, -4.0]).into_dyn()));
        b.with_grad_mut(|g| *g = Some(ndarray::arr1(&[12.0]).into_dyn()));
        [a, b]
    }

    #[test]
    fn norms_of_every_order() {
        let cases = [(2.0, 13.0), (1.0, 19.0), (f64::INFINITY, 12.0), (0.0, 2.0), (f64::NEG_INFINITY, 3.0)];
        // Order 0 counts the nonzero per-parameter norms (2 and 1), as PyTorch does.
        for (norm_type, expected) in cases {
            let total = clip_grad_norm_(params(), 1e9, norm_type).item();
            assert!((total - expected).abs() < 1e-9, "order {norm_type}: {total}");
        }
        let p3: f64 = (27.0f64 + 64.0 + 1728.0).powf(1.0 / 3.0);
        assert!((clip_grad_norm_(params(), 1e9, 3.0).item() - p3).abs() < 1e-9);
    }

    #[test]
    fn gradients_are_scaled_only_above_max_norm() {
        let p = params();
        let total = clip_grad_norm_(&p, 6.5, 2.0);
        assert_eq!(total.item(), 13.0);
        let scale = 6.5 / (13.0 + 1e-6);
        assert_eq!(p[0].grad().unwrap().to_vec(), vec![3.0 * scale, -4.0 * scale]);
        let p = params();
        clip_grad_norm_(&p, 20.0, 2.0);
        assert_eq!(p[1].grad().unwrap().to_vec(), vec![12.0]);
    }

    #[test]
    fn a_parameter_listed_twice_is_clipped_once_and_no_gradients_give_zero() {
        let p = params();
        let total = clip_grad_norm_([&p[0], &p[0]], 2.5, 2.0);
        assert_eq!(total.item(), 5.0);
        assert!((p[0].grad().unwrap().to_vec()[0] - 1.5).abs() < 1e-6);
        let fresh = Tensor64::zeros([2]).requires_grad_(true);
        assert_eq!(clip_grad_norm_([&fresh], 1.0, 2.0).item(), 0.0);
    }

    #[test]
    fn non_finite_norms_are_refused_only_when_asked() {
        let p = params();
        p[1].with_grad_mut(|g| *g = Some(ndarray::arr1(&[f64::NAN]).into_dyn()));
        let error = try_clip_grad_norm_(&p, 1.0, 2.0, true).unwrap_err();
        assert_eq!(error.norm_type, 2.0);
        assert_eq!(p[0].grad().unwrap().to_vec(), vec![3.0, -4.0]);
        assert!(clip_grad_norm_(&p, 1.0, 2.0).item().is_nan());
        assert!(p[0].grad().unwrap().to_vec()[0].is_nan());
    }

    #[test]
    fn values_are_clamped() {
        let p = params();
        clip_grad_value_(&p, 3.5);
        assert_eq!(p[0].grad().unwrap().to_vec(), vec![3.0, -3.5]);
        assert_eq!(p[1].grad().unwrap().to_vec(), vec![3.5]);
    }
}
