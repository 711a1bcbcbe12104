//! Activations without settings, as blocks: `nn.ReLU`, `nn.Sigmoid`,
//! `nn.Tanh`, `nn.SiLU` and `nn.Identity`. Each keeps the kind it is given
//! (a `Batch<N>` stays a `Batch<N>`, `Images<C>` stay `Images<C>`).

use crate::nn::{Forward, Hooks, Module, Visitor};

/// One setting-free activation: its struct, its forward (`Tensor` to
/// generic over the kind and element type of its input) and its repr (`Name()`).
macro_rules! unit_activation {
    ($(#[$doc:meta])* $name:ident, $py:literal, |$x:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default)]
        pub struct $name {
            hooks: Hooks,
        }

        /// The block with no hooks, written as PyTorch's class is
        /// (`sequential![Linear::<4, 8>::new(), ReLU]`); each use is a block
        /// of its own, with hooks of its own. (A method called on the
        /// constant itself works on a fresh block each time, which clippy's
        /// `borrow_interior_mutable_const` points out: bind it first, or
        /// write `ReLU::default()`.)
        #[allow(non_upper_case_globals, clippy::declare_interior_mutable_const)]
        pub const $name: $name = $name { hooks: Hooks::new() };

        impl<K: crate::nn::TensorKind> Forward<K> for $name {
            type Output = K;

            #[track_caller]
            fn forward(&self, input: &K) -> K {
                {
                    let $x = input.tensor();
                    crate::nn::keep_kind(self, input, $body)
                }
            }
        }

        #[diagnostic::do_not_recommend]
        impl Module for $name {
            fn type_name(&self) -> String {
                $py.into()
            }

            fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
                visitor.hooks(&self.hooks);
            }
        }

        impl_block! {
            /// Runs the activation on a `Tensor`, `Batch<N>`, `Images<C>` or
            /// `Scalar`, giving the same kind.
            ///
            /// ```
            /// use blocks_core::nn::{Batch, ReLU, Sigmoid, SiLU, Tanh, Identity};
            /// let x = Batch::<3>::rand(2);
            /// let _: Batch<3> = ReLU.forward(&x);
            /// let _: Batch<3> = Sigmoid.forward(&x);
            /// let _: Batch<3> = Tanh.forward(&x);
            /// let _: Batch<3> = SiLU.forward(&x);
            /// let y: Batch<3> = Identity.forward(&x);
            /// assert_eq!(y.shape(), vec![2, 3]);
            /// ```
            [] $name
        }

        crate::nn::to_element::same_in_every_element!($name);
    };
}

unit_activation! {
    /// `max(x, 0)` as a block, like `nn.ReLU()`: it keeps whatever width it is
    /// given (a `Batch<N>` stays a `Batch<N>`, `Images<C>` stay `Images<C>`).
    ///
    /// ```
    /// use blocks_core::{nn::ReLU, Tensor};
    /// let y = ReLU.forward(&Tensor::from_vec(vec![-1.0, 2.0], [2]));
    /// assert_eq!(y.to_vec(), vec![0.0, 2.0]);
    /// assert_eq!(ReLU.to_string(), "ReLU()");
    /// ```
    ReLU, "ReLU", |x| x.relu()
}

unit_activation! {
    /// `1 / (1 + e^-x)` as a block, like `nn.Sigmoid()`.
    ///
    /// ```
    /// use blocks_core::{nn::Sigmoid, Tensor};
    /// assert_eq!(Sigmoid.forward(&Tensor::zeros([2])).to_vec(), vec![0.5, 0.5]);
    /// assert_eq!(Sigmoid.to_string(), "Sigmoid()");
    /// ```
    Sigmoid, "Sigmoid", |x| x.sigmoid()
}

unit_activation! {
    /// `tanh(x)` as a block, like `nn.Tanh()`.
    ///
    /// ```
    /// use blocks_core::{nn::Tanh, Tensor};
    /// assert_eq!(Tanh.forward(&Tensor::zeros([1])).to_vec(), vec![0.0]);
    /// assert_eq!(Tanh.to_string(), "Tanh()");
    /// ```
    Tanh, "Tanh", |x| x.tanh()
}

unit_activation! {
    /// `x · sigmoid(x)` as a block, like `nn.SiLU()`.
    ///
    /// ```
    /// use blocks_core::{nn::SiLU, Tensor};
    /// assert_eq!(SiLU.forward(&Tensor::zeros([1])).to_vec(), vec![0.0]);
    /// assert_eq!(SiLU.to_string(), "SiLU()");
    /// ```
    SiLU, "SiLU", |x| x.silu()
}

unit_activation! {
    /// The identity as a block, like `nn.Identity()`: gives back its input
    /// (the same tensor, as PyTorch does).
    ///
    /// ```
    /// use blocks_core::{nn::Identity, Tensor};
    /// let x = Tensor::ones([2]);
    /// assert!(Identity.forward(&x).same(&x));
    /// assert_eq!(Identity.to_string(), "Identity()");
    /// ```
    Identity, "Identity", |x| x.clone()
}
