//! Activations with settings, as blocks: `nn.GELU(approximate)`,
//! `nn.LeakyReLU(negative_slope)`, `nn.ELU(alpha)` and
//! `nn.Softplus(beta, threshold)`, with PyTorch's defaults and reprs. Each
//! keeps the kind it is given.

use crate::GeluApproximate;
use crate::nn::Hooks;
use crate::optim::pyrepr::float;

/// The Gaussian error linear unit as a block, like `nn.GELU(approximate='none')`
/// (the exact `x · Φ(x)`) or `nn.GELU(approximate='tanh')`.
///
/// ```
/// use blocks_core::{nn::GELU, GeluApproximate, Tensor};
/// assert_eq!(GELU::default().to_string(), "GELU(approximate='none')");
/// let tanh = GELU::new(GeluApproximate::Tanh);
/// assert_eq!(tanh.to_string(), "GELU(approximate='tanh')");
/// assert_eq!(tanh.forward(&Tensor::zeros([1])).to_vec(), vec![0.0]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug, Default)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct GELU {
    #[module(skip)]
    approximate: GeluApproximate,
    hooks: Hooks,
}

impl GELU {
    /// A GELU with the given approximation (`GeluApproximate::None` is PyTorch's default).
    ///
    /// ```
    /// let gelu = blocks_core::nn::GELU::new(blocks_core::GeluApproximate::None);
    /// assert_eq!(gelu.approximate(), blocks_core::GeluApproximate::None);
    /// ```
    pub fn new(approximate: GeluApproximate) -> Self {
        GELU { approximate, hooks: Hooks::new() }
    }

    /// The approximation in use.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::GELU::default().approximate().as_str(), "none");
    /// ```
    pub fn approximate(&self) -> GeluApproximate {
        self.approximate
    }
}

/// `max(0, x) + negative_slope · min(0, x)` as a block, like
/// `nn.LeakyReLU(negative_slope=0.01)`.
///
/// ```
/// use blocks_core::{nn::LeakyReLU, Tensor};
/// let layer = LeakyReLU::new(0.1);
/// assert_eq!(layer.to_string(), "LeakyReLU(negative_slope=0.1)");
/// assert_eq!(layer.forward(&Tensor::from_vec(vec![-2.0, 3.0], [2])).to_vec(), vec![-0.2, 3.0]);
/// assert_eq!(LeakyReLU::default().to_string(), "LeakyReLU(negative_slope=0.01)");
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct LeakyReLU {
    #[module(skip)]
    negative_slope: f64,
    hooks: Hooks,
}

impl LeakyReLU {
    /// A leaky ReLU with the given slope for negative inputs.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::LeakyReLU::new(0.2).negative_slope(), 0.2);
    /// ```
    pub fn new(negative_slope: f64) -> Self {
        LeakyReLU { negative_slope, hooks: Hooks::new() }
    }

    /// The slope for negative inputs.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::LeakyReLU::default().negative_slope(), 0.01);
    /// ```
    pub fn negative_slope(&self) -> f64 {
        self.negative_slope
    }
}

impl Default for LeakyReLU {
    /// PyTorch's default slope, 0.01.
    fn default() -> Self {
        LeakyReLU::new(0.01)
    }
}

/// The exponential linear unit as a block, like `nn.ELU(alpha=1.0)`:
/// `x` for `x > 0`, `alpha · (e^x − 1)` otherwise.
///
/// ```
/// use blocks_core::{nn::ELU, Tensor};
/// assert_eq!(ELU::default().to_string(), "ELU(alpha=1.0)");
/// assert_eq!(ELU::new(2.0).forward(&Tensor::from_vec(vec![3.0], [1])).to_vec(), vec![3.0]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct ELU {
    #[module(skip)]
    alpha: f64,
    hooks: Hooks,
}

impl ELU {
    /// An ELU with the given `alpha`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ELU::new(0.5).alpha(), 0.5);
    /// ```
    pub fn new(alpha: f64) -> Self {
        ELU { alpha, hooks: Hooks::new() }
    }

    /// The scale of the negative part.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ELU::default().alpha(), 1.0);
    /// ```
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

impl Default for ELU {
    /// PyTorch's default, `alpha = 1.0`.
    fn default() -> Self {
        ELU::new(1.0)
    }
}

/// `log(1 + e^(beta·x)) / beta` as a block, like
/// `nn.Softplus(beta=1.0, threshold=20.0)`; linear where `beta·x > threshold`.
///
/// ```
/// use blocks_core::{nn::Softplus, Tensor};
/// assert_eq!(Softplus::default().to_string(), "Softplus(beta=1.0, threshold=20.0)");
/// assert_eq!(Softplus::new(1.0, 20.0).forward(&Tensor::from_vec(vec![30.0], [1])).to_vec(), vec![30.0]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct Softplus {
    #[module(skip)]
    beta: f64,
    #[module(skip)]
    threshold: f64,
    hooks: Hooks,
}

impl Softplus {
    /// A softplus with the given `beta` and `threshold`.
    ///
    /// ```
    /// let layer = blocks_core::nn::Softplus::new(2.0, 10.0);
    /// assert_eq!((layer.beta(), layer.threshold()), (2.0, 10.0));
    /// ```
    pub fn new(beta: f64, threshold: f64) -> Self {
        Softplus { beta, threshold, hooks: Hooks::new() }
    }

    /// The sharpness `beta`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Softplus::default().beta(), 1.0);
    /// ```
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Above `beta · x > threshold` the output is `x`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Softplus::default().threshold(), 20.0);
    /// ```
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
}

impl Default for Softplus {
    /// PyTorch's defaults, `beta = 1.0`, `threshold = 20.0`.
    fn default() -> Self {
        Softplus::new(1.0, 20.0)
    }
}

impl GELU {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("approximate='{}'", self.approximate.as_str())
    }
}

impl<K: crate::nn::TensorKind> crate::nn::Forward<K> for GELU {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        crate::nn::keep_kind(self, x, x.tensor().gelu(self.approximate))
    }
}

impl LeakyReLU {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("negative_slope={}", float(self.negative_slope))
    }
}

impl<K: crate::nn::TensorKind> crate::nn::Forward<K> for LeakyReLU {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        crate::nn::keep_kind(self, x, x.tensor().leaky_relu(crate::Element::of(self.negative_slope)))
    }
}

impl ELU {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("alpha={}", float(self.alpha))
    }
}

impl<K: crate::nn::TensorKind> crate::nn::Forward<K> for ELU {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        crate::nn::keep_kind(self, x, x.tensor().elu(crate::Element::of(self.alpha)))
    }
}

impl Softplus {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("beta={}, threshold={}", float(self.beta), float(self.threshold))
    }
}

impl<K: crate::nn::TensorKind> crate::nn::Forward<K> for Softplus {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        crate::nn::keep_kind(
            self,
            x,
            x.tensor().softplus(crate::Element::of(self.beta), crate::Element::of(self.threshold)),
        )
    }
}
