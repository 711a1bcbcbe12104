//! Hostile arguments to the initializers: an infinite or NaN bound, mean,
//! std, gain or slope ends in a panic with PyTorch's message instead of an
//! endless loop (`uniform_(t, 0, inf)` used to draw forever) or a tensor of
//! infinities. Each case runs under a watchdog, so a loop fails the test.

mod watchdog;

use blocks_core::nn::init::{self, FanMode, Nonlinearity};
use blocks_core::{Tensor, Tensor64};
use watchdog::within_watchdog;

/// The panic message of `init`, run under the watchdog (`None` if it returned).
fn panic_of(init: impl FnOnce() + Send + 'static) -> Option<String> {
    within_watchdog("an initializer with a hostile argument", move || {
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(init)).err()?;
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
    })
}

#[test]
fn uniform_refuses_bounds_outside_the_element_type_with_pytorchs_messages() {
    let t = || Tensor::zeros([8]);
    let cases: [(f64, f64, &str); 6] = [
        (0.0, f64::INFINITY, "to is out of bounds for float"),
        (f64::NEG_INFINITY, 0.0, "from is out of bounds for float"),
        (f64::NAN, 1.0, "from is out of bounds for float"),
        (0.0, 1e39, "to is out of bounds for float"),
        (
            -3e38,
            3e38,
            "uniform_ expects to-from <= std::numeric_limits<Float>::max(), but found to=300000000000000000000000000000000000000 \
             and from=-300000000000000000000000000000000000000 which result in to-from to exceed the limit",
        ),
        (1.0, 0.0, "uniform_ expects to return a [from, to) range, but found from=1 > to=0"),
    ];
    for (a, b, expected) in cases {
        let message = panic_of(move || init::uniform_(&t(), a, b)).unwrap_or_default();
        assert_eq!(message, expected, "uniform_({a}, {b})");
    }
    let message = panic_of(|| init::uniform_(&Tensor64::zeros([8]), 0.0, f64::INFINITY)).unwrap_or_default();
    assert_eq!(message, "to is out of bounds for double");
    // 1e39 is a fine bound for float64.
    assert_eq!(panic_of(|| init::uniform_(&Tensor64::zeros([8]), 0.0, 1e39)), None);
}

#[test]
fn normal_refuses_a_non_finite_mean_or_std() {
    let message = panic_of(|| init::normal_(&Tensor::zeros([8]), 0.0, f64::INFINITY)).unwrap_or_default();
    assert_eq!(message, "normal expects a finite mean and std, but found mean=0 and std=inf");
    let message = panic_of(|| init::normal_(&Tensor::zeros([8]), f64::NAN, 1.0)).unwrap_or_default();
    assert_eq!(message, "normal expects a finite mean and std, but found mean=NaN and std=1");
    let message = panic_of(|| init::normal_(&Tensor::zeros([8]), 0.0, f64::NAN)).unwrap_or_default();
    assert_eq!(message, "normal expects std >= 0.0, but found std NaN");
}

#[test]
fn xavier_and_kaiming_with_an_infinite_gain_or_slope_panic_instead_of_looping() {
    let w = || Tensor::zeros([4, 3]);
    let message = panic_of(move || init::xavier_uniform_(&w(), f64::INFINITY)).unwrap_or_default();
    assert_eq!(message, "from is out of bounds for float");
    let message = panic_of(move || init::xavier_normal_(&w(), f64::INFINITY)).unwrap_or_default();
    assert!(message.starts_with("normal expects a finite mean and std"), "{message}");
    let message =
        panic_of(move || init::kaiming_uniform_(&w(), f64::NAN, FanMode::FanIn, Nonlinearity::LeakyRelu))
            .unwrap_or_default();
    assert_eq!(message, "from is out of bounds for float");
    let message =
        panic_of(move || init::kaiming_normal_(&w(), f64::NAN, FanMode::FanOut, Nonlinearity::LeakyRelu))
            .unwrap_or_default();
    assert!(message.starts_with("normal expects std >= 0.0, but found std NaN"), "{message}");
    // Finite arguments still fill the tensor.
    assert_eq!(panic_of(move || init::xavier_uniform_(&w(), 1.0)), None);
}
