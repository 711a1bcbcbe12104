//! `impl_block!`: what `#[derive(Module)]` writes besides `impl Module`, for
//! the layers of this crate (which cannot use the derive on themselves):
//! their [`Takes`](crate::nn::Takes) (generic over their input:
//! [`AnyInput`](crate::nn::AnyInput)), the inherent `forward` that every
//! caller uses, and `Display` (PyTorch's repr).
//!
//! ```text
//! impl_block! {
//!     /// doc comment of the generated `forward`, with an example
//!     [const IN: usize, const OUT: usize] Linear<IN, OUT>
//! }
//! ```
//!
//! The generics go in brackets (empty for none).

/// See the module documentation.
macro_rules! impl_block {
    ($(#[$doc:meta])* [$($generics:tt)*] $ty:ty) => {
        #[diagnostic::do_not_recommend]
        impl<$($generics)*> $crate::nn::Takes for $ty {
            type Inputs = $crate::nn::AnyInput;
        }

        impl_forward!($(#[$doc])* [$($generics)*] $ty);
    };
}

/// [`impl_block!`] without the [`Takes`](crate::nn::Takes) impl, for a
/// container that takes inputs as its blocks do (`Repeat`).
macro_rules! impl_forward {
    ($(#[$doc:meta])* [$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> $ty {
            $(#[$doc])*
            #[track_caller]
            pub fn forward<G>(&self, input: &G) -> <Self as $crate::nn::Forward<G>>::Output
            where
                Self: $crate::nn::Forward<G> + 'static,
                G: $crate::nn::HookValue,
                <Self as $crate::nn::Forward<G>>::Output: $crate::nn::HookValue,
            {
                $crate::nn::run(self, input)
            }
        }

        impl<$($generics)*> ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::nn::fmt_module(self, f)
            }
        }
    };
}
