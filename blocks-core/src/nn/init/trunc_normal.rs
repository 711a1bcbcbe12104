//! `trunc_normal_`: normal values truncated to `[a, b]`, drawn as PyTorch
//! draws them (inverse transform sampling: a uniform value between the
//! bounds' CDFs, through the inverse error function).

use std::f64::consts::{FRAC_2_SQRT_PI, PI, SQRT_2};

use super::{InitTarget, check_uniform_bounds, fill};
use crate::Element;

/// Values from a normal distribution with `mean` and standard deviation
/// `std`, truncated to `[a, b]`, like
/// `nn.init.trunc_normal_(tensor, mean, std, a, b)` (PyTorch's defaults
/// are `0.0, 1.0, -2.0, 2.0`). As PyTorch, it draws `u` uniform in
/// `[2Φ(α) - 1, 2Φ(β) - 1)` (Φ the standard normal CDF, α and β the bounds
/// in standard deviations from the mean) and returns
/// `mean + std·√2·erfinv(u)`, clamped to `[a, b]`; a bound may be infinite.
///
/// ```
/// use blocks_core::{nn::init, Tensor};
/// let w = Tensor::zeros([10_000]);
/// init::trunc_normal_(&w, 0.0, 0.02, -0.04, 0.04); // ViT's initialization
/// assert!(w.to_vec().iter().all(|v| (-0.04..=0.04).contains(v)));
/// assert!(w.mean().item().abs() < 0.001);
/// ```
///
/// When `mean` is more than 2 `std` outside `[a, b]` it prints PyTorch's
/// warning to stderr ("mean is more than 2 std from [a, b] in
/// nn.init.trunc_normal_. The distribution of values may be incorrect.")
/// and goes on.
///
/// # Panics
///
/// If `mean` or `std` is not finite (the values would all be NaN); if `std`
/// is 0 ("float division by zero", PyTorch's `ZeroDivisionError`); if
/// `a > b` or `std < 0`, with the message of PyTorch's `uniform_` on the
/// CDF bounds ("uniform_ expects to return a [from, to) range, but found
/// from=... > to=..."); if `a` or `b` is NaN ("from is out of bounds for
/// float"); or on an uninitialized parameter.
///
/// ```should_panic
/// use blocks_core::{nn::init, Tensor};
/// // PyTorch: RuntimeError: uniform_ expects to return a [from, to) range, ...
/// init::trunc_normal_(&Tensor::zeros([3]), 0.0, 1.0, 2.0, -2.0);
/// ```
#[track_caller]
pub fn trunc_normal_<T: InitTarget + ?Sized>(target: &T, mean: f64, std: f64, a: f64, b: f64) {
    let tensor = target.init_target("trunc_normal_");
    assert!(
        mean.is_finite() && std.is_finite(),
        "trunc_normal_ expects a finite mean and std, but found mean={mean} and std={std}"
    );
    if mean < a - 2.0 * std || mean > b + 2.0 * std {
        eprintln!(
            "UserWarning: mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of \
             values may be incorrect."
        );
    }
    assert!(std != 0.0, "float division by zero");
    let cdf = |x: f64| (1.0 + libm::erf(x / SQRT_2)) / 2.0;
    let (low, high) = (2.0 * cdf((a - mean) / std) - 1.0, 2.0 * cdf((b - mean) / std) - 1.0);
    check_uniform_bounds::<T::Elem>(low, high);
    let (min, max) = (T::Elem::of(a), T::Elem::of(b));
    fill(tensor, |rng| {
        let u = low + (high - low) * T::Elem::sample_unit(rng).as_f64();
        let value = T::Elem::of(mean + std * SQRT_2 * erfinv(u));
        if value < min {
            min
        } else if value > max {
            max
        } else {
            value
        }
    });
}

/// The inverse error function on `[-1, 1]` (±∞ at ±1): Winitzki's closed
/// form as the start, then Newton steps on `erf`, or on `erfc` near ±1
/// where `erf` has no digits left.
pub(super) fn erfinv(y: f64) -> f64 {
    if y.is_nan() || y.abs() > 1.0 {
        return f64::NAN;
    }
    if y.abs() == 1.0 {
        return f64::INFINITY.copysign(y);
    }
    let (sign, y) = (y.signum(), y.abs());
    let a = 0.147;
    let ln = ((1.0 - y) * (1.0 + y)).ln();
    let t = 2.0 / (PI * a) + ln / 2.0;
    let mut x = ((t * t - ln / a).sqrt() - t).sqrt();
    let tail = 1.0 - y; // exact for y in [0.5, 1] (Sterbenz)
    for _ in 0..5 {
        let slope = FRAC_2_SQRT_PI * (-x * x).exp();
        let error = if y > 0.5 { tail - libm::erfc(x) } else { libm::erf(x) - y };
        let step = error / slope;
        if !step.is_finite() {
            break;
        }
        x -= step;
    }
    sign * x
}

#[cfg(test)]
mod tests {
    use super::erfinv;

    #[test]
    fn erfinv_inverts_erf() {
        for &x in &[0.0, 1e-8, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 4.5] {
            let y = libm::erf(x);
            let back = erfinv(y);
            // Back to y within an ulp or two; to x as closely as y (a
            // float64 near 1) pins x down: about 1e-12 up to 3, less beyond.
            assert!((libm::erf(back) - y).abs() <= 4.5e-16, "erf(erfinv({y})) = {}", libm::erf(back));
            let pinned = if x <= 3.0 { 1e-12 } else { 1e-7 };
            assert!((back - x).abs() <= pinned * x.max(1.0), "erfinv(erf({x})) = {back}");
            assert_eq!(erfinv(-y), -back);
        }
        // Near 1, through erfc: the tail 1 - y is found to float64 precision.
        let y = 1.0 - 1e-12;
        let x = erfinv(y);
        assert!((libm::erfc(x) / (1.0 - y) - 1.0).abs() < 1e-13, "erfinv({y}) = {x}");
        assert_eq!(erfinv(1.0), f64::INFINITY);
        assert_eq!(erfinv(-1.0), f64::NEG_INFINITY);
        assert!(erfinv(1.5).is_nan() && erfinv(f64::NAN).is_nan());
    }
}
