//! `nn::init` against PyTorch's rules: exact fans and gains, the bounds and
//! moments of every distribution on large tensors, reproducibility under
//! `manual_seed`, nothing recorded for autograd, and `Linear`'s default.

use std::sync::{Mutex, MutexGuard};

use blocks_core::nn::init::{self, FanMode, Nonlinearity, calculate_fan_in_and_fan_out, calculate_gain};
use blocks_core::nn::{DynLinear, Linear, Module, Parameter};
use blocks_core::{Tensor, Tensor64, manual_seed};

/// The generator is global: tests that seed it or count on its sequence take turns.
pub(crate) fn rng_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

const N: usize = 200_000;

/// Sample mean and standard deviation, in f64.
fn moments(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

fn f64s(t: &Tensor) -> Vec<f64> {
    t.to_vec().into_iter().map(f64::from).collect()
}

/// Checks the mean within 6 standard errors and the std within 2% (its
/// standard error on N draws is about 0.16% for a normal, 0.1% for a uniform).
fn assert_moments(what: &str, values: &[f64], mean: f64, std: f64) {
    let (m, s) = moments(values);
    let standard_error = std / (values.len() as f64).sqrt();
    assert!((m - mean).abs() <= 6.0 * standard_error, "{what}: mean {m}, expected {mean} ± {standard_error}");
    assert!((s / std - 1.0).abs() <= 0.02, "{what}: std {s}, expected {std}");
}

#[test]
fn fans_follow_pytorchs_rule() {
    assert_eq!(calculate_fan_in_and_fan_out(&[256, 20]).unwrap(), (20, 256));
    assert_eq!(calculate_fan_in_and_fan_out(&[3, 4, 5, 6]).unwrap(), (120, 90));
    assert_eq!(calculate_fan_in_and_fan_out(&[16, 3, 5]).unwrap(), (15, 80));
    assert_eq!(calculate_fan_in_and_fan_out(&[2, 3, 0]).unwrap(), (0, 0));
    for shape in [&[][..], &[7][..]] {
        let error = calculate_fan_in_and_fan_out(shape).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        );
    }
}

#[test]
fn gains_are_pytorchs() {
    // torch.nn.init.calculate_gain, printed by PyTorch 2.x.
    assert_eq!(calculate_gain(Nonlinearity::Linear, None), 1.0);
    assert_eq!(calculate_gain(Nonlinearity::Conv, None), 1.0);
    assert_eq!(calculate_gain(Nonlinearity::Sigmoid, None), 1.0);
    assert_eq!(calculate_gain(Nonlinearity::Tanh, None), 1.6666666666666667);
    assert_eq!(calculate_gain(Nonlinearity::Relu, None), std::f64::consts::SQRT_2);
    assert_eq!(calculate_gain(Nonlinearity::LeakyRelu, None), 1.4141428569978354);
    assert_eq!(calculate_gain(Nonlinearity::LeakyRelu, Some(0.2)), 1.3867504905630728);
    assert_eq!(calculate_gain(Nonlinearity::LeakyRelu, Some(0.0)), 2f64.sqrt());
    assert_eq!(calculate_gain(Nonlinearity::LeakyRelu, Some(5f64.sqrt())), (1.0f64 / 3.0).sqrt());
    assert_eq!(calculate_gain(Nonlinearity::Selu, None), 0.75);
    for (name, expected) in [
        ("linear", Nonlinearity::Linear),
        ("conv2d", Nonlinearity::Conv),
        ("conv_transpose3d", Nonlinearity::Conv),
        ("sigmoid", Nonlinearity::Sigmoid),
        ("tanh", Nonlinearity::Tanh),
        ("relu", Nonlinearity::Relu),
        ("leaky_relu", Nonlinearity::LeakyRelu),
        ("selu", Nonlinearity::Selu),
    ] {
        assert_eq!(name.parse::<Nonlinearity>().unwrap(), expected, "{name}");
    }
    assert_eq!("foo".parse::<Nonlinearity>().unwrap_err().to_string(), "Unsupported nonlinearity foo");
    assert!("fan_avg".parse::<FanMode>().is_err());
}

#[test]
fn uniform_stays_in_range_with_the_right_moments() {
    let _rng = rng_lock();
    let t = Tensor::zeros([N]);
    init::uniform_(&t, -3.0, 5.0);
    let values = f64s(&t);
    assert!(values.iter().all(|v| (-3.0..5.0).contains(v)));
    assert!(values.iter().any(|v| *v < -2.99) && values.iter().any(|v| *v > 4.99), "the whole range is used");
    assert_moments("uniform_(-3, 5)", &values, 1.0, 8.0 / 12f64.sqrt());
}

#[test]
fn normal_has_the_right_moments_in_f32_and_f64() {
    let _rng = rng_lock();
    let t = Tensor::zeros([N]);
    init::normal_(&t, 2.0, 0.5);
    assert_moments("normal_(2, 0.5)", &f64s(&t), 2.0, 0.5);
    let t = Tensor64::zeros([N]);
    init::normal_(&t, -1.0, 3.0);
    assert_moments("normal_(-1, 3) f64", &t.to_vec(), -1.0, 3.0);
}

#[test]
fn constants() {
    let t = Tensor::zeros([2, 3]);
    init::constant_(&t, 0.25);
    assert_eq!(t.to_vec(), vec![0.25; 6]);
    init::ones_(&t);
    assert_eq!(t.to_vec(), vec![1.0; 6]);
    init::zeros_(&t);
    assert_eq!(t.to_vec(), vec![0.0; 6]);
}

#[test]
fn xavier_uses_both_fans() {
    let _rng = rng_lock();
    // fan_in = 50 * 4 = 200, fan_out = 300 * 4 = 1200.
    let (fan_in, fan_out) = (200.0, 1200.0);
    let t = Tensor::zeros([300, 50, 2, 2]);
    init::xavier_uniform_(&t, 2.0);
    let bound = 2.0 * (6.0f64 / (fan_in + fan_out)).sqrt();
    let values = f64s(&t);
    // float32 draws: bounded by the bound rounded to float32.
    assert!(values.iter().all(|v| v.abs() <= f64::from(bound as f32)));
    assert!(values.iter().any(|v| v.abs() > 0.99 * bound));
    assert_moments("xavier_uniform_", &values, 0.0, bound / 3f64.sqrt());
    init::xavier_normal_(&t, 0.5);
    assert_moments("xavier_normal_", &f64s(&t), 0.0, 0.5 * (2.0f64 / (fan_in + fan_out)).sqrt());
}

#[test]
fn kaiming_uses_the_chosen_fan_and_gain() {
    let _rng = rng_lock();
    let t = Tensor::zeros([400, 500]); // fan_in 500, fan_out 400
    init::kaiming_uniform_(&t, 0.0, FanMode::FanIn, Nonlinearity::Relu);
    let bound = 2f64.sqrt() * (3.0f64 / 500.0).sqrt();
    let values = f64s(&t);
    assert!(
        values.iter().all(|v| v.abs() <= f64::from(bound as f32))
            && values.iter().any(|v| v.abs() > 0.99 * bound)
    );
    assert_moments("kaiming_uniform_ relu fan_in", &values, 0.0, bound / 3f64.sqrt());

    init::kaiming_normal_(&t, 0.0, FanMode::FanOut, Nonlinearity::Relu);
    assert_moments("kaiming_normal_ relu fan_out", &f64s(&t), 0.0, 2f64.sqrt() / 400f64.sqrt());

    init::kaiming_normal_(&t, 0.2, FanMode::FanIn, Nonlinearity::LeakyRelu);
    assert_moments("kaiming_normal_ leaky 0.2", &f64s(&t), 0.0, (2.0f64 / 1.04).sqrt() / 500f64.sqrt());

    // PyTorch's defaults (a = 0, fan_in, leaky_relu) give the relu gain.
    init::kaiming_uniform_(&t, 0.0, FanMode::default(), Nonlinearity::default());
    let values = f64s(&t);
    assert!(
        values.iter().all(|v| v.abs() <= f64::from(bound as f32))
            && values.iter().any(|v| v.abs() > 0.99 * bound)
    );
}

#[test]
fn same_seed_same_values() {
    let _rng = rng_lock();
    let draw = || {
        let t = Tensor::zeros([4, 5]);
        init::xavier_normal_(&t, 1.0);
        init::kaiming_uniform_(&t, 1.0, FanMode::FanIn, Nonlinearity::LeakyRelu);
        let u = Tensor::zeros([7]);
        init::uniform_(&u, 0.0, 1.0);
        (t.to_vec(), u.to_vec())
    };
    manual_seed(42);
    let first = draw();
    manual_seed(42);
    assert_eq!(first, draw());
    manual_seed(43);
    assert_ne!(first, draw());
}

#[test]
fn nothing_is_recorded_and_gradients_still_flow() {
    let _rng = rng_lock();
    let w = Parameter::new(Tensor::zeros([3, 2]));
    init::normal_(&w, 0.0, 1.0);
    assert!(w.is_leaf() && w.requires_grad() && w.grad_fn().is_none());
    let x = Tensor::ones([1, 2]);
    x.linear(&w, None).sum().backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![1.0; 6]);
    // Re-initializing between steps is fine: the tensor keeps its identity.
    let handle = w.clone();
    init::zeros_(&w);
    assert!(handle.same(&w) && handle.to_vec() == vec![0.0; 6]);
}

#[test]
fn zero_element_tensors_are_left_alone() {
    let _rng = rng_lock();
    manual_seed(5);
    let empty = Tensor::zeros([0, 3]);
    init::kaiming_uniform_(&empty, 0.0, FanMode::FanIn, Nonlinearity::LeakyRelu);
    init::kaiming_normal_(&empty, 0.0, FanMode::FanOut, Nonlinearity::Relu);
    init::xavier_uniform_(&empty, 1.0);
    init::normal_(&empty, 0.0, 1.0);
    assert_eq!(empty.shape(), vec![0, 3]);
    // No draw was spent on them.
    let after = Tensor::rand([3]).to_vec();
    manual_seed(5);
    assert_eq!(after, Tensor::rand([3]).to_vec());
}

#[test]
#[should_panic(expected = "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")]
fn xavier_refuses_a_vector() {
    init::xavier_uniform_(&Tensor::zeros([3]), 1.0);
}

#[test]
#[should_panic(expected = "normal expects std >= 0.0, but found std -1")]
fn normal_refuses_a_negative_std() {
    init::normal_(&Tensor::zeros([3]), 0.0, -1.0);
}

#[test]
#[should_panic(expected = "uniform_ expects to return a [from, to) range, but found from=1 > to=0")]
fn uniform_refuses_an_empty_range() {
    init::uniform_(&Tensor::zeros([3]), 1.0, 0.0);
}

#[test]
fn uniform_of_a_point_is_a_constant() {
    let _rng = rng_lock();
    let t = Tensor::zeros([5]);
    init::uniform_(&t, 2.5, 2.5);
    assert_eq!(t.to_vec(), vec![2.5; 5]);
}

#[test]
fn linear_default_is_pytorchs_kaiming_uniform_with_a_sqrt5() {
    let _rng = rng_lock();
    // U(-1/√in, 1/√in) for weight and bias.
    let layer = DynLinear::new(400, 300);
    let bound = 1.0 / 400f64.sqrt();
    // The draws are float32 in [f32(-bound), f32(bound)): the low end is the
    // bound rounded to float32, 0.0500000007 here (a draw of u near 0 lands on it).
    let bound32 = f64::from(bound as f32);
    let weight = f64s(layer.weight());
    assert!(weight.iter().all(|v| v.abs() <= bound32) && weight.iter().any(|v| v.abs() > 0.99 * bound));
    assert_moments("Linear weight", &weight, 0.0, bound / 3f64.sqrt());
    let bias = f64s(layer.bias().unwrap());
    assert!(bias.iter().all(|v| v.abs() <= bound32) && bias.iter().any(|v| v.abs() > 0.9 * bound));

    // The same draws as the init functions called in PyTorch's order.
    manual_seed(11);
    let layer = Linear::<20, 256>::new();
    manual_seed(11);
    let (w, b) = (Tensor::zeros([256, 20]), Tensor::zeros([256]));
    init::kaiming_uniform_(&w, 5f64.sqrt(), FanMode::FanIn, Nonlinearity::LeakyRelu);
    init::uniform_(&b, -1.0 / 20f64.sqrt(), 1.0 / 20f64.sqrt());
    assert_eq!(layer.weight().to_vec(), w.to_vec());
    assert_eq!(layer.bias().unwrap().to_vec(), b.to_vec());

    // reset_parameters draws again, the same way.
    manual_seed(11);
    layer.as_dyn().downcast_ref::<DynLinear>().unwrap().reset_parameters();
    assert_eq!(layer.weight().to_vec(), w.to_vec());
}
