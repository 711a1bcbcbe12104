//! `nn.Softmax(dim)` and `nn.LogSoftmax(dim)` as blocks. Each keeps the
//! kind it is given.

use crate::nn::Hooks;
use crate::nn::{Forward, Module, Visitor};

/// `exp(x) / sum(exp(x))` along `dim`, like `nn.Softmax(dim=dim)`.
///
/// ```
/// use blocks_core::{nn::Softmax, Tensor};
/// let layer = Softmax::new(1);
/// assert_eq!(layer.to_string(), "Softmax(dim=1)");
/// assert_eq!(layer.forward(&Tensor::zeros([1, 2])).to_vec(), vec![0.5, 0.5]);
/// ```
#[derive(Clone, Debug)]
pub struct Softmax {
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
#[derive(Clone, Debug)]
pub struct LogSoftmax {
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

macro_rules! softmax_block {
    ($name:ident, $try_op:ident) => {
        impl<K: crate::nn::TensorKind> Forward<K> for $name {
            type Output = K;

            #[track_caller]
            fn forward(&self, input: &K) -> K {
                crate::nn::keep_kind(self, input, crate::nn::path::or_panic(input.tensor().$try_op(self.dim)))
            }
        }

        #[diagnostic::do_not_recommend]
        impl Module for $name {
            fn type_name(&self) -> String {
                stringify!($name).into()
            }

            fn extra_repr(&self) -> String {
                format!("dim={}", self.dim)
            }

            fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
                visitor.hooks(&self.hooks);
            }
        }

        impl_block! {
            /// Runs the layer on a `Tensor`, `Batch<N>`, `Images<C>` or
            /// `Scalar`, giving the same kind.
            ///
            /// # Panics
            ///
            /// When `dim` is out of range for the input, naming the op and the shape.
            ///
            /// ```
            /// use blocks_core::nn::{Batch, LogSoftmax, Softmax};
            /// let x = Batch::<3>::rand(2);
            /// let _: Batch<3> = Softmax::new(1).forward(&x);
            /// let y: Batch<3> = LogSoftmax::new(1).forward(&x);
            /// assert_eq!(y.shape(), vec![2, 3]);
            /// ```
            [] $name
        }

        crate::nn::to_element::same_in_every_element!($name);
    };
}

softmax_block!(Softmax, try_softmax);
softmax_block!(LogSoftmax, try_log_softmax);
