//! `impl_block!`: what `#[derive(Module)]` writes besides `impl Module`, for
//! the layers of this crate (which cannot use the derive on themselves):
//! the [`Takes`](crate::nn::Takes) rule (which gives the block its
//! [`Call`](crate::nn::Call) impls), the inherent `forward` that every caller
//! uses, and `Display` (PyTorch's repr).
//!
//! ```text
//! impl_block! {
//!     /// doc comment of the generated `forward`, with an example
//!     [const IN: usize, const OUT: usize] Linear<IN, OUT>
//! }
//! impl_block! { /// ... \n [] ReLU, keeps_width }
//! ```
//!
//! The generics go in brackets (empty for none); `keeps_width` makes the
//! block take every tensor kind and give back the same kind, as
//! `#[module(keeps_width)]` does; `keeps_width, f64: |layer, x| body` also
//! runs it on float64 tensors (the body again, on a `Tensor64`).

/// See the module documentation.
macro_rules! impl_block {
    ($(#[$doc:meta])* [$($generics:tt)*] $ty:ty, keeps_width $(, f64: |$layer:ident, $x:ident| $body:expr)?) => {
        #[diagnostic::do_not_recommend]
        impl<$($generics)*> $crate::nn::Takes for $ty {
            type Rule = $crate::nn::AnyKind;
        }

        #[diagnostic::do_not_recommend]
        impl<$($generics)*> $crate::nn::KeptForward for $ty {
            #[track_caller]
            fn forward_kept(&self, x: &$crate::Tensor) -> $crate::Tensor {
                $crate::nn::forward_kept(self, x)
            }

            $(
                #[track_caller]
                fn forward_kept_f64(&self, $x: &$crate::Tensor64) -> $crate::Tensor64 {
                    let $layer = self;
                    let _ = $layer;
                    $body
                }
            )?
        }

        impl_block!(@common $(#[$doc])* [$($generics)*] $ty);
    };
    ($(#[$doc:meta])* [$($generics:tt)*] $ty:ty, to_plain, f64: |$layer:ident, $x:ident| $body:expr) => {
        #[diagnostic::do_not_recommend]
        impl<$($generics)*> $crate::nn::Takes for $ty {
            type Rule = $crate::nn::ToPlain;
        }

        #[diagnostic::do_not_recommend]
        impl<$($generics)*> $crate::nn::KeptForward for $ty {
            #[track_caller]
            fn forward_kept(&self, x: &$crate::Tensor) -> $crate::Tensor {
                $crate::nn::Forward::forward(self, x)
            }

            #[track_caller]
            fn forward_kept_f64(&self, $x: &$crate::Tensor64) -> $crate::Tensor64 {
                let $layer = self;
                $body
            }
        }

        impl_block!(@common $(#[$doc])* [$($generics)*] $ty);
    };
    ($(#[$doc:meta])* [$($generics:tt)*] $ty:ty) => {
        #[diagnostic::do_not_recommend]
        impl<$($generics)*> $crate::nn::Takes for $ty {
            type Rule = $crate::nn::ByInput;
        }

        impl_block!(@common $(#[$doc])* [$($generics)*] $ty);
    };
    (@common $(#[$doc:meta])* [$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> $ty {
            $(#[$doc])*
            #[track_caller]
            pub fn forward<G>(&self, input: &G) -> <Self as $crate::nn::Call<G>>::Out
            where
                Self: $crate::nn::Call<G>,
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

/// A width-keeping layer whose forward is one call on a `Tensor` and whose
/// members are only settings (activations with parameters, pools): its
/// `Forward`, its `Module` (PyTorch's class name and `extra_repr`, no
/// members) and, through [`impl_block!`], the rest. The doc comments given
/// first become those of its generated `forward`.
macro_rules! settings_block {
    ($(#[$doc:meta])* $name:ident, |$layer:ident, $x:ident| $body:expr, |$s:ident| $repr:expr) => {
        #[diagnostic::do_not_recommend]
        impl $crate::nn::Forward for $name {
            type Input = $crate::Tensor;
            type Output = $crate::Tensor;

            #[track_caller]
            fn forward(&self, $x: &$crate::Tensor) -> $crate::Tensor {
                let $layer = self;
                $body
            }
        }

        #[diagnostic::do_not_recommend]
        impl $crate::nn::Module for $name {
            fn type_name(&self) -> String {
                stringify!($name).into()
            }

            fn extra_repr(&self) -> String {
                let $s = self;
                $repr
            }

            fn visit<'m>(&'m self, visitor: &mut dyn $crate::nn::Visitor<'m>) {
                visitor.hooks(&self.hooks);
            }
        }

        impl_block! {
            $(#[$doc])*
            [] $name, keeps_width, f64: |$layer, $x| $body
        }

        $crate::nn::to_element::same_in_every_element!($name);
    };
}
