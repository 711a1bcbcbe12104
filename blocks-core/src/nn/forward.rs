//! Forward passes and the compile-time width checks between blocks.
//!
//! A block with a fixed signature implements [`Forward`] (its `Input` and
//! `Output` types). Every block can be [`Call`]ed with anything that
//! [`FeedsInto`] its input: a `Batch<N>` whose width matches (checked by the
//! compiler), or a plain `Tensor` (checked at run time). `sequential!` asks
//! the compiler whether each block can take what the block before it gives.

use super::typed::{Batch, Scalar};
use crate::Tensor;

/// A block's forward pass with a fixed signature, like `def forward(self, X)`.
///
/// ```
/// use blocks_core::nn::{Batch, Forward, Linear};
/// struct Double(Linear<3, 3>);
/// impl Forward for Double {
///     type Input = Batch<3>;
///     type Output = Batch<3>;
///     fn forward(&self, x: &Batch<3>) -> Batch<3> {
///         let h = self.0.forward(x);
///         self.0.forward(&h)
///     }
/// }
/// let y = Double(Linear::new()).forward(&Batch::rand(2));
/// assert_eq!(y.shape(), vec![2, 3]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no forward pass",
    label = "no forward pass",
    note = "a block gets a forward pass from `impl Forward` (`type Input`, `type Output` and `fn forward`, PyTorch's `def forward(self, X)`)"
)]
pub trait Forward {
    /// What the block takes: `Batch<N>`, `Scalar` or `Tensor`.
    type Input;
    /// What the block gives.
    type Output;

    /// Runs the block.
    fn forward(&self, input: &Self::Input) -> Self::Output;
}

/// Running a block on `G`, whatever kind of block it is: what `sequential!`
/// chains and what [`Sequential`](super::Sequential) calls.
///
/// Blocks with a [`Forward`] signature get it for every `G` that
/// [`FeedsInto`] their input; width-preserving layers such as `ReLU`
/// implement it for every tensor kind directly.
///
/// ```
/// use blocks_core::nn::{Call, Linear, ReLU};
/// use blocks_core::Tensor;
/// let y = ReLU.call(&Linear::<4, 2>::new().call(&Tensor::ones([3, 4])));
/// assert_eq!(y.shape(), vec![3, 2]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take `{G}` from the block before it",
    label = "cannot take `{G}`",
    note = "a block is a type that implements `Forward` (or `Call` for width-preserving layers)"
)]
pub trait Call<G> {
    /// What the block gives for `G`.
    type Out;

    /// Runs the block on `input`.
    fn call(&self, input: &G) -> Self::Out;
}

impl<B: Forward, G: FeedsInto<B::Input, B>> Call<G> for B {
    type Out = B::Output;

    fn call(&self, input: &G) -> B::Output {
        self.forward(&input.feed_into())
    }
}

/// A value that block `B`, taking `T`, can be fed: the compiler's side of
/// the width check (and the run-time check for plain tensors).
#[diagnostic::on_unimplemented(
    message = "`{B}` takes `{T}`, but the block before it gives `{Self}`",
    label = "cannot take `{Self}`"
)]
pub trait FeedsInto<T, B: ?Sized> {
    /// The value as `B`'s input (a handle, not a copy).
    fn feed_into(&self) -> T;
}

/// The width check: implemented only when `TAKES == GIVES`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes {TAKES} input features, but the block before it gives {GIVES}",
    label = "takes {TAKES} input features, but the block before it gives {GIVES}"
)]
pub trait SameWidth<const TAKES: usize, const GIVES: usize> {}

impl<B: ?Sized, const N: usize> SameWidth<N, N> for B {}

impl<B: ?Sized, const GIVES: usize, const TAKES: usize> FeedsInto<Batch<TAKES>, B> for Batch<GIVES>
where
    B: SameWidth<TAKES, GIVES>,
{
    fn feed_into(&self) -> Batch<TAKES> {
        Batch::trusted(self.deref_tensor().clone())
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized, const TAKES: usize> FeedsInto<Batch<TAKES>, B> for Tensor {
    fn feed_into(&self) -> Batch<TAKES> {
        if self.last_dim() != Some(TAKES) {
            panic!(
                "{} takes {TAKES} input features, but got a tensor of shape {:?}{}",
                short_type_name::<B>(),
                self.shape(),
                super::path::describe()
            );
        }
        Batch::trusted(self.clone())
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized> FeedsInto<Tensor, B> for Tensor {
    fn feed_into(&self) -> Tensor {
        self.clone()
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized, const GIVES: usize> FeedsInto<Tensor, B> for Batch<GIVES> {
    fn feed_into(&self) -> Tensor {
        self.deref_tensor().clone()
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized> FeedsInto<Scalar, B> for Scalar {
    fn feed_into(&self) -> Scalar {
        self.clone()
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized> FeedsInto<Tensor, B> for Scalar {
    fn feed_into(&self) -> Tensor {
        (**self).clone()
    }
}

impl<const N: usize> Batch<N> {
    fn deref_tensor(&self) -> &Tensor {
        self
    }
}

/// `Linear<128, 10>` rather than `blocks_core::nn::linear::Linear<128, 10>`.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for c in full.chars() {
        match c {
            ':' => segment.clear(),
            '<' | '>' | ',' | ' ' | '(' | ')' | '[' | ']' | ';' | '&' => {
                out.push_str(&segment);
                segment.clear();
                out.push(c);
            }
            _ => segment.push(c),
        }
    }
    out.push_str(&segment);
    out
}
