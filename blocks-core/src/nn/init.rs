//! Initialization in place, like `torch.nn.init`: fills a tensor or a
//! [`Parameter`] outside the graph (nothing is recorded for autograd), drawing
//! from this thread's generator, so [`manual_seed`](crate::manual_seed) makes it
//! reproducible.
//!
//! ```
//! use blocks_core::nn::{DynLinear, Linear, Module, ModuleExt, ReLU, Sequential, apply, init};
//! let net = Sequential::new((Linear::<4, 8>::new(), ReLU, Linear::<8, 1>::new()));
//! // d2l's init_normal: `if type(m) == nn.Linear: normal_(m.weight, 0, 0.01); zeros_(m.bias)`
//! apply(&net, |m| {
//!     if let Some(linear) = m.downcast_ref::<DynLinear>() {
//!         init::normal_(linear.weight(), 0.0, 0.01);
//!         init::zeros_(linear.bias().unwrap());
//!     }
//! });
//! assert_eq!(net.0.0.bias().unwrap().to_vec(), vec![0.0; 8]);
//! ```
//!
//! The functions panic, with PyTorch's message, where PyTorch raises: on an
//! uninitialized parameter (a lazy layer before its first forward), on
//! fans of a tensor with fewer than two dimensions, on `std < 0` or `a > b`,
//! on bounds, means and deviations that are not finite.
//! A tensor with no elements is left as it is.

use std::fmt;
use std::str::FromStr;

use ndarray::ArrayD;

use super::Parameter;
use crate::{Element, TensorBase, with_rng};

mod trunc_normal;

pub use trunc_normal::trunc_normal_;

/// What the initializers fill: a tensor, or a [`Parameter`] (checked to be
/// initialized first).
///
/// ```
/// use blocks_core::nn::{init, Parameter};
/// use blocks_core::{Tensor, Tensor64};
/// init::ones_(&Tensor::zeros([2]));
/// init::ones_(&Tensor64::zeros([2]));
/// init::ones_(&Parameter::new(Tensor::zeros([2])));
/// ```
pub trait InitTarget {
    /// The element type of the tensor.
    type Elem: Element;

    /// The tensor to fill; `function` names the initializer for error messages.
    ///
    /// Panics for an uninitialized parameter, as PyTorch raises.
    fn init_target(&self, function: &str) -> &TensorBase<Self::Elem>;
}

impl<E: Element> InitTarget for TensorBase<E> {
    type Elem = E;

    fn init_target(&self, _: &str) -> &TensorBase<E> {
        self
    }
}

impl<E: Element> InitTarget for Parameter<E> {
    type Elem = E;

    fn init_target(&self, function: &str) -> &TensorBase<E> {
        if !self.is_initialized() {
            panic!(
                "Attempted to use an uninitialized parameter in {function}. This error happens when you \
                 are using a lazy layer (LazyLinear) before its first forward: run the model once on a \
                 dummy batch (or load a checkpoint) so that it knows its widths, then initialize it"
            );
        }
        self.tensor()
    }
}

/// Which fan scales a Kaiming initialization, like `mode='fan_in'`.
///
/// ```
/// use blocks_core::nn::init::FanMode;
/// assert_eq!(FanMode::default(), FanMode::FanIn);
/// assert_eq!("fan_out".parse::<FanMode>().unwrap(), FanMode::FanOut);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FanMode {
    /// Keeps the variance of the activations in the forward pass (the default).
    #[default]
    FanIn,
    /// Keeps the variance of the gradients in the backward pass.
    FanOut,
}

impl FromStr for FanMode {
    type Err = InitError;

    fn from_str(mode: &str) -> Result<Self, InitError> {
        match mode {
            "fan_in" => Ok(FanMode::FanIn),
            "fan_out" => Ok(FanMode::FanOut),
            _ => Err(InitError(format!("Mode {mode} not supported, please use one of fan_in, fan_out"))),
        }
    }
}

/// The nonlinearity after a layer, for [`calculate_gain`], like PyTorch's
/// `nonlinearity='relu'`.
///
/// ```
/// use blocks_core::nn::init::Nonlinearity;
/// assert_eq!("leaky_relu".parse::<Nonlinearity>().unwrap(), Nonlinearity::LeakyRelu);
/// assert!("swish".parse::<Nonlinearity>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nonlinearity {
    /// No nonlinearity (gain 1); also what convolutions get.
    Linear,
    /// `conv1d`, `conv2d`, ..., `conv_transpose3d` (gain 1).
    Conv,
    /// Sigmoid (gain 1).
    Sigmoid,
    /// Tanh (gain 5/3).
    Tanh,
    /// ReLU (gain √2).
    Relu,
    /// Leaky ReLU with the slope given as `param` (gain √(2/(1+slope²)));
    /// Kaiming's default.
    #[default]
    LeakyRelu,
    /// SELU (gain 3/4).
    Selu,
}

impl FromStr for Nonlinearity {
    type Err = InitError;

    /// PyTorch's names: `linear`, `conv1d` ... `conv_transpose3d`, `sigmoid`,
    /// `tanh`, `relu`, `leaky_relu`, `selu`.
    fn from_str(name: &str) -> Result<Self, InitError> {
        Ok(match name {
            "linear" => Nonlinearity::Linear,
            "conv1d" | "conv2d" | "conv3d" | "conv_transpose1d" | "conv_transpose2d" | "conv_transpose3d" => {
                Nonlinearity::Conv
            }
            "sigmoid" => Nonlinearity::Sigmoid,
            "tanh" => Nonlinearity::Tanh,
            "relu" => Nonlinearity::Relu,
            "leaky_relu" => Nonlinearity::LeakyRelu,
            "selu" => Nonlinearity::Selu,
            _ => return Err(InitError(format!("Unsupported nonlinearity {name}"))),
        })
    }
}

/// Why fans or a gain cannot be computed, in PyTorch's words.
///
/// ```
/// let error = blocks_core::nn::init::calculate_fan_in_and_fan_out(&[3]).unwrap_err();
/// assert!(error.to_string().contains("fewer than 2 dimensions"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitError(String);

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InitError {}

/// The recommended gain for `nonlinearity`, like `nn.init.calculate_gain`:
/// 1 for linear, convolutions and sigmoid, 5/3 for tanh, √2 for relu,
/// √(2/(1+slope²)) for leaky_relu (slope = `param`, 0.01 when `None`), 3/4
/// for selu.
///
/// ```
/// use blocks_core::nn::init::{calculate_gain, Nonlinearity};
/// assert_eq!(calculate_gain(Nonlinearity::Relu, None), 2f64.sqrt());
/// assert_eq!(calculate_gain(Nonlinearity::LeakyRelu, Some(0.2)), (2.0f64 / 1.04).sqrt());
/// ```
pub fn calculate_gain(nonlinearity: Nonlinearity, param: Option<f64>) -> f64 {
    match nonlinearity {
        Nonlinearity::Linear | Nonlinearity::Conv | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f64.sqrt(),
        Nonlinearity::LeakyRelu => {
            let slope = param.unwrap_or(0.01);
            (2.0 / (1.0 + slope * slope)).sqrt()
        }
        Nonlinearity::Selu => 3.0 / 4.0,
    }
}

/// `(fan_in, fan_out)` of a weight of shape `shape`, like PyTorch's
/// `_calculate_fan_in_and_fan_out`: `fan_in = shape[1] * receptive field`,
/// `fan_out = shape[0] * receptive field`, the receptive field being the
/// product of the dimensions after the first two (1 for a `Linear` weight).
///
/// ```
/// use blocks_core::nn::init::calculate_fan_in_and_fan_out;
/// assert_eq!(calculate_fan_in_and_fan_out(&[256, 20]).unwrap(), (20, 256));
/// assert_eq!(calculate_fan_in_and_fan_out(&[3, 4, 5, 6]).unwrap(), (120, 90));
/// assert!(calculate_fan_in_and_fan_out(&[2, 1 << 33, 1 << 33]).is_err());
/// ```
///
/// # Errors
///
/// An [`InitError`] for fewer than two dimensions (PyTorch's message), or
/// fans that overflow `usize`.
pub fn calculate_fan_in_and_fan_out(shape: &[usize]) -> Result<(usize, usize), InitError> {
    if shape.len() < 2 {
        return Err(InitError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions".into(),
        ));
    }
    // Checked: a shape no tensor can have gives an error, not an overflow.
    let receptive_field = shape[2..].iter().try_fold(1usize, |n, &len| n.checked_mul(len));
    let fan = |channels: usize| receptive_field.and_then(|field| channels.checked_mul(field));
    match (fan(shape[1]), fan(shape[0])) {
        (Some(fan_in), Some(fan_out)) => Ok((fan_in, fan_out)),
        _ => Err(InitError(format!("Fan in and fan out of a tensor of shape {shape:?} overflow usize"))),
    }
}

#[track_caller]
fn fans(tensor: &TensorBase<impl Element>) -> (usize, usize) {
    calculate_fan_in_and_fan_out(&tensor.shape()).unwrap_or_else(|error| panic!("{error}"))
}

/// Fills every element with `value(rng)`, outside the graph.
fn fill<E: Element>(tensor: &TensorBase<E>, mut value: impl FnMut(&mut rand::rngs::StdRng) -> E) {
    let shape = tensor.shape();
    if shape.contains(&0) {
        return;
    }
    let array = with_rng(|rng| ArrayD::from_shape_simple_fn(shape, || value(rng)));
    tensor.data_mut().assign(&array);
}

/// Uniform values in `[a, b)`, like `nn.init.uniform_(tensor, a, b)`.
///
/// ```
/// use blocks_core::{nn::init, Tensor};
/// let w = Tensor::zeros([100]);
/// init::uniform_(&w, -10.0, 10.0);
/// assert!(w.to_vec().iter().all(|v| (-10.0..10.0).contains(v)));
/// ```
///
/// # Panics
///
/// With PyTorch's messages: if `a` or `b` is not a finite value of the
/// element type ("from is out of bounds for float", also for NaN), if
/// `a > b`, or if `b - a` exceeds the type's largest value.
///
/// ```should_panic
/// use blocks_core::{nn::init, Tensor};
/// // PyTorch: RuntimeError: to is out of bounds for float
/// init::uniform_(&Tensor::zeros([3]), 0.0, f64::INFINITY);
/// ```
#[track_caller]
pub fn uniform_<T: InitTarget + ?Sized>(target: &T, a: f64, b: f64) {
    let tensor = target.init_target("uniform_");
    check_uniform_bounds::<T::Elem>(a, b);
    let (low, high) = (T::Elem::of(a), T::Elem::of(b));
    if low == high {
        tensor.data_mut().fill(low);
        return;
    }
    fill(tensor, |rng| {
        loop {
            let u = T::Elem::sample_unit(rng).as_f64();
            let value = T::Elem::of(a + (b - a) * u);
            // Rounding can reach `b` itself; PyTorch's range is half-open.
            if value < high {
                break value;
            }
        }
    });
}

/// PyTorch's checks of `uniform_(from, to)` for elements of type `E`, in
/// its order and words; they also keep the drawing loop finite (an infinite
/// bound would make every draw fall outside `[a, b)`).
#[track_caller]
fn check_uniform_bounds<E: Element>(a: f64, b: f64) {
    let (c_name, torch_name) = if E::IS_FLOAT32 { ("float", "Float") } else { ("double", "Double") };
    let max = E::max_value().as_f64();
    for (value, name) in [(a, "from"), (b, "to")] {
        assert!((-max..=max).contains(&value), "{name} is out of bounds for {c_name}");
    }
    assert!(a <= b, "uniform_ expects to return a [from, to) range, but found from={a} > to={b}");
    assert!(
        b - a <= max,
        "uniform_ expects to-from <= std::numeric_limits<{torch_name}>::max(), but found to={b} and \
         from={a} which result in to-from to exceed the limit"
    );
}

/// Normal values with `mean` and standard deviation `std`, like
/// `nn.init.normal_(tensor, mean, std)`.
///
/// ```
/// use blocks_core::{nn::init, Tensor};
/// let w = Tensor::zeros([10_000]);
/// init::normal_(&w, 0.0, 0.01);
/// assert!(w.mean().item().abs() < 0.001);
/// ```
///
/// # Panics
///
/// If `std < 0` or NaN (PyTorch's "normal expects std >= 0.0"), or if
/// `mean` or `std` is not finite (the values would all be infinite or NaN).
///
/// ```should_panic
/// use blocks_core::{nn::init, Tensor};
/// init::normal_(&Tensor::zeros([3]), 0.0, f64::INFINITY);
/// ```
#[track_caller]
pub fn normal_<T: InitTarget + ?Sized>(target: &T, mean: f64, std: f64) {
    let tensor = target.init_target("normal_");
    assert!(std >= 0.0, "normal expects std >= 0.0, but found std {std}");
    assert!(
        mean.is_finite() && std.is_finite(),
        "normal expects a finite mean and std, but found mean={mean} and std={std}"
    );
    fill(tensor, |rng| T::Elem::of(mean + std * T::Elem::sample_normal(rng).as_f64()));
}

/// Every element set to `value`, like `nn.init.constant_(tensor, value)`.
///
/// ```
/// use blocks_core::{nn::init, Tensor};
/// let w = Tensor::zeros([2]);
/// init::constant_(&w, 42.0);
/// assert_eq!(w.to_vec(), vec![42.0, 42.0]);
/// ```
pub fn constant_<T: InitTarget + ?Sized>(target: &T, value: f64) {
    let tensor = target.init_target("constant_");
    tensor.data_mut().fill(T::Elem::of(value));
}

/// Every element set to 0, like `nn.init.zeros_`.
///
/// ```
/// use blocks_core::{nn::init, Tensor};
/// let b = Tensor::ones([3]);
/// init::zeros_(&b);
/// assert_eq!(b.to_vec(), vec![0.0; 3]);
/// ```
pub fn zeros_<T: InitTarget + ?Sized>(target: &T) {
    let tensor = target.init_target("zeros_");
    tensor.data_mut().fill(T::Elem::of(0.0));
}

/// Every element set to 1, like `nn.init.ones_`.
///
/// ```
/// use blocks_core::{nn::init, Tensor};
/// let w = Tensor::zeros([2]);
/// init::ones_(&w);
/// assert_eq!(w.to_vec(), vec![1.0, 1.0]);
/// ```
pub fn ones_<T: InitTarget + ?Sized>(target: &T) {
    let tensor = target.init_target("ones_");
    tensor.data_mut().fill(T::Elem::of(1.0));
}

/// Glorot's uniform initialization, like `nn.init.xavier_uniform_(tensor, gain)`:
/// U(-a, a) with `a = gain * √(6 / (fan_in + fan_out))`.
///
/// ```
/// use blocks_core::{nn::init, Tensor};
/// let w = Tensor::zeros([8, 4]);
/// init::xavier_uniform_(&w, 1.0);
/// let bound = (6.0f32 / 12.0).sqrt();
/// assert!(w.to_vec().iter().all(|v| v.abs() <= bound));
/// ```
///
/// # Panics
///
/// For a tensor with fewer than two dimensions, or when `gain` makes the
/// bound infinite or NaN (as [`uniform_`] panics, with PyTorch's message).
#[track_caller]
pub fn xavier_uniform_<T: InitTarget + ?Sized>(target: &T, gain: f64) {
    let tensor = target.init_target("xavier_uniform_");
    let (fan_in, fan_out) = fans(tensor);
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    let bound = 3f64.sqrt() * std;
    uniform_(tensor, -bound, bound);
}

/// Glorot's normal initialization, like `nn.init.xavier_normal_(tensor, gain)`:
/// N(0, std²) with `std = gain * √(2 / (fan_in + fan_out))`.
///
/// ```
/// use blocks_core::{nn::init, Tensor};
/// let w = Tensor::zeros([200, 200]);
/// init::xavier_normal_(&w, 1.0);
/// assert!(w.mean().item().abs() < 0.01);
/// ```
///
/// # Panics
///
/// For a tensor with fewer than two dimensions, or when `gain` makes the
/// bound infinite or NaN (as [`normal_`] panics, with PyTorch's message).
#[track_caller]
pub fn xavier_normal_<T: InitTarget + ?Sized>(target: &T, gain: f64) {
    let tensor = target.init_target("xavier_normal_");
    let (fan_in, fan_out) = fans(tensor);
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    normal_(tensor, 0.0, std);
}

/// The standard deviation Kaiming aims for: `gain / √fan`.
#[track_caller]
fn kaiming_std(tensor: &TensorBase<impl Element>, a: f64, mode: FanMode, nonlinearity: Nonlinearity) -> f64 {
    let (fan_in, fan_out) = fans(tensor);
    let fan = match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    };
    calculate_gain(nonlinearity, Some(a)) / (fan as f64).sqrt()
}

/// He's uniform initialization, like
/// `nn.init.kaiming_uniform_(tensor, a, mode, nonlinearity)`: U(-bound, bound)
/// with `bound = gain * √(3 / fan)`; `a` is the leaky_relu slope (ignored by
/// other nonlinearities). PyTorch's defaults are `0.0, FanMode::FanIn,
/// Nonlinearity::LeakyRelu`; `nn.Linear` uses `a = √5`, i.e. U(-1/√in, 1/√in).
///
/// ```
/// use blocks_core::nn::init::{self, FanMode, Nonlinearity};
/// use blocks_core::Tensor;
/// let w = Tensor::zeros([256, 20]);
/// init::kaiming_uniform_(&w, 5f64.sqrt(), FanMode::FanIn, Nonlinearity::LeakyRelu);
/// assert!(w.to_vec().iter().all(|v| v.abs() <= 1.0 / 20f32.sqrt()));
/// ```
///
/// # Panics
///
/// For a tensor with fewer than two dimensions, or when `a` makes the
/// bound infinite or NaN (as [`uniform_`] panics, with PyTorch's message).
#[track_caller]
pub fn kaiming_uniform_<T: InitTarget + ?Sized>(
    target: &T,
    a: f64,
    mode: FanMode,
    nonlinearity: Nonlinearity,
) {
    let tensor = target.init_target("kaiming_uniform_");
    if tensor.numel() == 0 {
        return;
    }
    let bound = 3f64.sqrt() * kaiming_std(tensor, a, mode, nonlinearity);
    uniform_(tensor, -bound, bound);
}

/// He's normal initialization, like
/// `nn.init.kaiming_normal_(tensor, a, mode, nonlinearity)`: N(0, std²) with
/// `std = gain / √fan`.
///
/// ```
/// use blocks_core::nn::init::{self, FanMode, Nonlinearity};
/// use blocks_core::Tensor;
/// let w = Tensor::zeros([100, 50]);
/// init::kaiming_normal_(&w, 0.0, FanMode::FanIn, Nonlinearity::Relu);
/// assert!(w.mean().item().abs() < 0.02);
/// ```
///
/// # Panics
///
/// For a tensor with fewer than two dimensions, or when `a` makes the
/// bound infinite or NaN (as [`normal_`] panics, with PyTorch's message).
#[track_caller]
pub fn kaiming_normal_<T: InitTarget + ?Sized>(
    target: &T,
    a: f64,
    mode: FanMode,
    nonlinearity: Nonlinearity,
) {
    let tensor = target.init_target("kaiming_normal_");
    if tensor.numel() == 0 {
        return;
    }
    let std = kaiming_std(tensor, a, mode, nonlinearity);
    normal_(tensor, 0.0, std);
}

/// `nn.Linear.reset_parameters`: weight from kaiming_uniform with `a = √5`
/// (U(-1/√in, 1/√in)), then bias from U(-1/√fan_in, 1/√fan_in), in that order.
pub(crate) fn reset_linear<T: InitTarget + ?Sized>(weight: &T, bias: Option<&T>) {
    kaiming_uniform_(weight, 5f64.sqrt(), FanMode::FanIn, Nonlinearity::LeakyRelu);
    if let Some(bias) = bias {
        let (fan_in, _) = fans(weight.init_target("reset_parameters"));
        let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
        uniform_(bias, -bound, bound);
    }
}
