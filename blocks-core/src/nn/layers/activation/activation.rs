//! Activations without settings, as blocks: `nn.ReLU`, `nn.Sigmoid`,
//! `nn.Tanh`, `nn.SiLU` and `nn.Identity`. Each is generic over what it is
//! given and keeps its kind (a `Batch<N>` stays a `Batch<N>`, `Images<C>`
//! stay `Images<C>`), in either element type. Each also has a constant of
//! its name, a block with no hooks, written as PyTorch's class is
//! (`sequential![Linear::<4, 8>::new(), ReLU]`); each use is a block of its
//! own, with hooks of its own. (A method called on the constant itself works
//! on a fresh block each time, which clippy's `borrow_interior_mutable_const`
//! points out: bind it first, or write `ReLU::default()`.)

use crate::nn::{Forward, Hooks, TensorKind, keep_kind};

/// `max(x, 0)` as a block, like `nn.ReLU()`: it keeps whatever width it is
/// given (a `Batch<N>` stays a `Batch<N>`, `Images<C>` stay `Images<C>`).
///
/// ```
/// use blocks_core::nn::{Batch, ReLU};
/// use blocks_core::Tensor;
/// let relu = ReLU::default();
/// let y = relu.forward(&Tensor::from_vec(vec![-1.0, 2.0], [2]));
/// assert_eq!(y.to_vec(), vec![0.0, 2.0]);
/// let _: Batch<3> = relu.forward(&Batch::<3>::rand(2));
/// assert_eq!(relu.to_string(), "ReLU()");
/// ```
#[derive(blocks_macros::Module, Clone, Debug, Default)]
#[module(crate = "crate", any_input)]
pub struct ReLU {
    hooks: Hooks,
}

/// `ReLU` with no hooks, written as PyTorch's class is (see the module
/// documentation).
#[allow(non_upper_case_globals, clippy::declare_interior_mutable_const)]
pub const ReLU: ReLU = ReLU { hooks: Hooks::new() };

impl<K: TensorKind> Forward<K> for ReLU {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, x.tensor().relu())
    }
}

/// `1 / (1 + e^-x)` as a block, like `nn.Sigmoid()`.
///
/// ```
/// use blocks_core::{nn::Sigmoid, Tensor};
/// let sigmoid = Sigmoid::default();
/// assert_eq!(sigmoid.forward(&Tensor::zeros([2])).to_vec(), vec![0.5, 0.5]);
/// assert_eq!(sigmoid.to_string(), "Sigmoid()");
/// ```
#[derive(blocks_macros::Module, Clone, Debug, Default)]
#[module(crate = "crate", any_input)]
pub struct Sigmoid {
    hooks: Hooks,
}

/// `Sigmoid` with no hooks, written as PyTorch's class is (see the module
/// documentation).
#[allow(non_upper_case_globals, clippy::declare_interior_mutable_const)]
pub const Sigmoid: Sigmoid = Sigmoid { hooks: Hooks::new() };

impl<K: TensorKind> Forward<K> for Sigmoid {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, x.tensor().sigmoid())
    }
}

/// `tanh(x)` as a block, like `nn.Tanh()`.
///
/// ```
/// use blocks_core::{nn::Tanh, Tensor};
/// let tanh = Tanh::default();
/// assert_eq!(tanh.forward(&Tensor::zeros([1])).to_vec(), vec![0.0]);
/// assert_eq!(tanh.to_string(), "Tanh()");
/// ```
#[derive(blocks_macros::Module, Clone, Debug, Default)]
#[module(crate = "crate", any_input)]
pub struct Tanh {
    hooks: Hooks,
}

/// `Tanh` with no hooks, written as PyTorch's class is (see the module
/// documentation).
#[allow(non_upper_case_globals, clippy::declare_interior_mutable_const)]
pub const Tanh: Tanh = Tanh { hooks: Hooks::new() };

impl<K: TensorKind> Forward<K> for Tanh {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, x.tensor().tanh())
    }
}

/// `x · sigmoid(x)` as a block, like `nn.SiLU()`.
///
/// ```
/// use blocks_core::{nn::SiLU, Tensor};
/// let silu = SiLU::default();
/// assert_eq!(silu.forward(&Tensor::zeros([1])).to_vec(), vec![0.0]);
/// assert_eq!(silu.to_string(), "SiLU()");
/// ```
#[derive(blocks_macros::Module, Clone, Debug, Default)]
#[module(crate = "crate", any_input)]
pub struct SiLU {
    hooks: Hooks,
}

/// `SiLU` with no hooks, written as PyTorch's class is (see the module
/// documentation).
#[allow(non_upper_case_globals, clippy::declare_interior_mutable_const)]
pub const SiLU: SiLU = SiLU { hooks: Hooks::new() };

impl<K: TensorKind> Forward<K> for SiLU {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, x.tensor().silu())
    }
}

/// The identity as a block, like `nn.Identity()`: gives back its input
/// (the same tensor, as PyTorch does).
///
/// ```
/// use blocks_core::{nn::Identity, Tensor};
/// let x = Tensor::ones([2]);
/// let identity = Identity::default();
/// assert!(identity.forward(&x).same(&x));
/// assert_eq!(identity.to_string(), "Identity()");
/// ```
#[derive(blocks_macros::Module, Clone, Debug, Default)]
#[module(crate = "crate", any_input)]
pub struct Identity {
    hooks: Hooks,
}

/// `Identity` with no hooks, written as PyTorch's class is (see the module
/// documentation).
#[allow(non_upper_case_globals, clippy::declare_interior_mutable_const)]
pub const Identity: Identity = Identity { hooks: Hooks::new() };

impl<K: TensorKind> Forward<K> for Identity {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, x.tensor().clone())
    }
}
