//! What a block's `forward` method takes from its caller: [`ArgumentFor`].
//!
//! A call `net.forward(&x)` is checked like a step of a chain, with the
//! compiler's error worded for the caller's argument ("`Net` takes 4 input
//! features, but the argument has 5"), not for a block before it. The
//! argument is converted to the block's input ([`ToArgument`]) and run
//! through [`run`], the door every run goes through.

use super::forward::{AnyKind, ByInput, Call, FeedsInto, Forward, Rule, Takes, run};
use super::images::Images;
use super::typed::{Batch, Scalar};
use crate::Tensor;

/// A value that block `B`'s `forward` method can be called with: the bound
/// of the `forward` that `#[derive(Module)]` (and every layer) has. `B`'s
/// `Forward` input, a typed tensor of the same size, or a plain `Tensor`
/// checked at run time; for a width-keeping block, any tensor kind.
///
/// ```
/// use blocks_core::nn::{ArgumentFor, Batch, Linear};
/// use blocks_core::Tensor;
/// let layer = Linear::<4, 2>::new();
/// let y: Batch<2> = ArgumentFor::run_with(&Tensor::ones([3, 4]), &layer);
/// assert_eq!(y.shape(), vec![3, 2]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{B}` cannot take `{Self}` as its argument",
    label = "cannot take `{Self}`",
    note = "a block is a type that implements `Forward` and derives `Module`"
)]
pub trait ArgumentFor<B: ?Sized> {
    /// What `B` gives for it.
    type Out;

    /// Runs `block` on this argument, through [`run`].
    fn run_with(&self, block: &B) -> Self::Out;
}

impl<G, B: Takes + ?Sized> ArgumentFor<B> for G
where
    B::Rule: ArgumentRule<G, B>,
{
    type Out = <B::Rule as ArgumentRule<G, B>>::Out;

    #[track_caller]
    fn run_with(&self, block: &B) -> Self::Out {
        <B::Rule as ArgumentRule<G, B>>::run_with(block, self)
    }
}

/// How a block with [`Takes`] rule `Self` is run on its caller's argument
/// `G` (see [`ArgumentFor`]).
///
/// ```
/// use blocks_core::nn::{ArgumentRule, Batch, ByInput, Linear};
/// let y: Batch<2> = ByInput::run_with(&Linear::<4, 2>::new(), &Batch::<4>::rand(3));
/// assert_eq!(y.shape(), vec![3, 2]);
/// ```
pub trait ArgumentRule<G, B: ?Sized> {
    /// What `B` gives.
    type Out;

    /// Converts `input` to `B`'s input and runs `B` through [`run`].
    fn run_with(block: &B, input: &G) -> Self::Out;
}

impl<G, B> ArgumentRule<G, B> for ByInput
where
    B: Forward + Call<<B as Forward>::Input> + ?Sized,
    G: ToArgument<B::Input, B>,
{
    type Out = <B as Call<B::Input>>::Out;

    #[track_caller]
    fn run_with(block: &B, input: &G) -> Self::Out {
        run(block, &input.to_argument())
    }
}

impl<G, B: ?Sized> ArgumentRule<G, B> for AnyKind
where
    AnyKind: Rule<G, B>,
{
    type Out = <AnyKind as Rule<G, B>>::Out;

    #[track_caller]
    fn run_with(block: &B, input: &G) -> Self::Out {
        <AnyKind as Rule<G, B>>::run(block, input)
    }
}

/// A caller's argument that block `B`, taking `T`, can be given: the
/// compile-time width and channel checks at a call site, worded for the
/// argument ([`ArgumentWidth`], [`ArgumentChannels`]), and the run-time check
/// of a plain tensor.
#[diagnostic::on_unimplemented(
    message = "`{B}` takes `{T}`, but the argument is `{Self}`",
    label = "not `{T}`"
)]
pub trait ToArgument<T, B: ?Sized> {
    /// The argument as `B`'s input (a handle, not a copy).
    fn to_argument(&self) -> T;
}

/// The width check at a call site: implemented only when `TAKES == GIVES`.
///
/// ```compile_fail,E0277
/// fn fits<B: blocks_core::nn::ArgumentWidth<4, 5>>() {}
/// // error: `Linear<4, 2>` takes 4 input features, but the argument has 5
/// fits::<blocks_core::nn::Linear<4, 2>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes {TAKES} input features, but the argument has {GIVES}",
    label = "takes {TAKES} input features, but the argument has {GIVES}"
)]
pub trait ArgumentWidth<const TAKES: usize, const GIVES: usize> {}

impl<B: ?Sized, const N: usize> ArgumentWidth<N, N> for B {}

/// The channel check at a call site: implemented only when `TAKES == GIVES`.
///
/// ```
/// fn fits<B: blocks_core::nn::ArgumentChannels<3, 3>>() {}
/// fits::<blocks_core::nn::Conv2d<3, 6, 5>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes {TAKES} input channels, but the argument has {GIVES}",
    label = "takes {TAKES} input channels, but the argument has {GIVES}"
)]
pub trait ArgumentChannels<const TAKES: usize, const GIVES: usize> {}

impl<B: ?Sized, const C: usize> ArgumentChannels<C, C> for B {}

impl<B: ?Sized, const GIVES: usize, const TAKES: usize> ToArgument<Batch<TAKES>, B> for Batch<GIVES>
where
    B: ArgumentWidth<TAKES, GIVES>,
{
    fn to_argument(&self) -> Batch<TAKES> {
        Batch::trusted(Tensor::clone(self))
    }
}

impl<B: ?Sized, const GIVES: usize, const TAKES: usize> ToArgument<Images<TAKES>, B> for Images<GIVES>
where
    B: ArgumentChannels<TAKES, GIVES>,
{
    fn to_argument(&self) -> Images<TAKES> {
        Images::trusted(Tensor::clone(self))
    }
}

/// A plain tensor, checked at run time as in a chain.
#[diagnostic::do_not_recommend]
impl<T, B: ?Sized> ToArgument<T, B> for Tensor
where
    Tensor: FeedsInto<T, B>,
{
    #[track_caller]
    fn to_argument(&self) -> T {
        self.feed_into()
    }
}

/// Any kind into a block taking a plain tensor, as in a chain.
#[diagnostic::do_not_recommend]
impl<B: ?Sized, const GIVES: usize> ToArgument<Tensor, B> for Batch<GIVES> {
    fn to_argument(&self) -> Tensor {
        Tensor::clone(self)
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized, const GIVES: usize> ToArgument<Tensor, B> for Images<GIVES> {
    fn to_argument(&self) -> Tensor {
        Tensor::clone(self)
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized> ToArgument<Tensor, B> for Scalar {
    fn to_argument(&self) -> Tensor {
        (**self).clone()
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized> ToArgument<Scalar, B> for Scalar {
    fn to_argument(&self) -> Scalar {
        self.clone()
    }
}
