//! `nn.Softmax(dim)` and `nn.LogSoftmax(dim)` as blocks. Each keeps the
//! kind it is given.

use crate::nn::Hooks;

/// `exp(x) / sum(exp(x))` along `dim`, like `nn.Softmax(dim=dim)`.
///
/// ```
/// use blocks_core::{nn::Softmax, Tensor};
/// let layer = Softmax::new(1);
/// assert_eq!(layer.to_string(), "Softmax(dim=1)");
/// assert_eq!(layer.forward(&Tensor::zeros([1, 2])).to_vec(), vec![0.5, 0.5]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct Softmax {
    #[module(skip)]
    dim: isize,
    hooks: Hooks,
}

impl Softmax {
    /// A softmax along `dim` (negative counts from the end).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Softmax::new(-1).dim(), -1);
    /// ```
    pub fn new(dim: isize) -> Self {
        Softmax { dim, hooks: Hooks::new() }
    }

    /// The dimension it normalizes along.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Softmax::new(1).dim(), 1);
    /// ```
    pub fn dim(&self) -> isize {
        self.dim
    }
}

/// `log(softmax(x))` along `dim`, computed stably, like `nn.LogSoftmax(dim=dim)`.
///
/// ```
/// use blocks_core::{nn::LogSoftmax, Tensor};
/// let layer = LogSoftmax::new(1);
/// assert_eq!(layer.to_string(), "LogSoftmax(dim=1)");
/// assert_eq!(layer.forward(&Tensor::zeros([1, 1])).to_vec(), vec![0.0]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct LogSoftmax {
    #[module(skip)]
    dim: isize,
    hooks: Hooks,
}

impl LogSoftmax {
    /// A log-softmax along `dim` (negative counts from the end).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::LogSoftmax::new(0).dim(), 0);
    /// ```
    pub fn new(dim: isize) -> Self {
        LogSoftmax { dim, hooks: Hooks::new() }
    }

    /// The dimension it normalizes along.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::LogSoftmax::new(1).dim(), 1);
    /// ```
    pub fn dim(&self) -> isize {
        self.dim
    }
}

impl Softmax {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("dim={}", self.dim)
    }
}

impl<K: crate::nn::TensorKind> crate::nn::Forward<K> for Softmax {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        crate::nn::keep_kind(self, x, crate::nn::path::or_panic(x.tensor().try_softmax(self.dim)))
    }
}

impl LogSoftmax {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("dim={}", self.dim)
    }
}

impl<K: crate::nn::TensorKind> crate::nn::Forward<K> for LogSoftmax {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        crate::nn::keep_kind(self, x, crate::nn::path::or_panic(x.tensor().try_log_softmax(self.dim)))
    }
}
