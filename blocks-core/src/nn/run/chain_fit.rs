//! The chain check's own table of what feeds what, for a layer of this
//! crate (`Takes::Inputs = Typed<I>`): what the block before it gives
//! must feed the layer's own input `I` ([`FitsInChain`]), the sizes checked
//! in a chain's words ([`ChainWidth`], [`ChainChannels`]: "but the block
//! before it gives 256"). A call `block.forward(&x)` goes through
//! `FeedsInto`, whose checks speak of the argument.
//!
//! What the layer gives is worked out only once the check holds
//! ([`ThenForward`]), so a layer that does not fit is reported once, in
//! these words, and nothing after it.

use crate::nn::chain::FirstInput;
use crate::nn::flat::Flat;
use crate::nn::forward::Forward;
use crate::nn::images::Images;
use crate::nn::typed::{Batch, Scalar};
use crate::{Element, Indices, Tensor, TensorBase};

/// The width check between the blocks of a chain: implemented only when
/// `TAKES == GIVES`.
///
/// ```
/// fn fits<B: blocks_core::__private::ChainWidth<4, 4>>() {}
/// fits::<blocks_core::nn::Linear<4, 2>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes {TAKES} input features, but the block before it gives {GIVES}",
    label = "takes {TAKES} input features, but the block before it gives {GIVES}"
)]
pub trait ChainWidth<const TAKES: usize, const GIVES: usize> {
    /// `()`: the check as a type.
    type Checked;
}

impl<B: ?Sized, const N: usize> ChainWidth<N, N> for B {
    type Checked = ();
}

/// The channel check between the blocks of a chain: implemented only when
/// `TAKES == GIVES`.
///
/// ```
/// fn fits<B: blocks_core::__private::ChainChannels<3, 3>>() {}
/// fits::<blocks_core::nn::Conv2d<3, 6, 5>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes {TAKES} input channels, but the block before it gives {GIVES}",
    label = "takes {TAKES} input channels, but the block before it gives {GIVES}"
)]
pub trait ChainChannels<const TAKES: usize, const GIVES: usize> {
    /// `()`: the check as a type.
    type Checked;
}

impl<B: ?Sized, const C: usize> ChainChannels<C, C> for B {
    type Checked = ();
}

/// What a layer `B` taking `T` can be given in a chain: the table of
/// `FeedsInto`, in a chain's words.
///
/// ```
/// use blocks_core::__private::FitsInChain;
/// use blocks_core::nn::{Batch, Linear};
/// use blocks_core::Tensor;
/// fn fits<G: FitsInChain<T, B>, T, B>() {}
/// fits::<Batch<4>, Batch<4>, Linear<4, 2>>();
/// fits::<Tensor, Batch<4>, Linear<4, 2>>(); // checked at run time
/// ```
#[diagnostic::on_unimplemented(
    message = "`{B}` takes `{T}`, but the block before it gives `{Self}`",
    label = "cannot take `{Self}`"
)]
pub trait FitsInChain<T, B: ?Sized> {
    /// The size check as a type: `()` once it holds.
    type Checked;
}

impl<B, const GIVES: usize, const TAKES: usize, E: Element> FitsInChain<Batch<TAKES, E>, B>
    for Batch<GIVES, E>
where
    B: ChainWidth<TAKES, GIVES> + ?Sized,
{
    type Checked = <B as ChainWidth<TAKES, GIVES>>::Checked;
}

impl<B, const GIVES: usize, const TAKES: usize, E: Element> FitsInChain<Images<TAKES, E>, B>
    for Images<GIVES, E>
where
    B: ChainChannels<TAKES, GIVES> + ?Sized,
{
    type Checked = <B as ChainChannels<TAKES, GIVES>>::Checked;
}

macro_rules! fits_unchecked {
    ($([$($generics:tt)*] $given:ty => $taken:ty;)*) => {$(
        #[diagnostic::do_not_recommend]
        impl<B: ?Sized, $($generics)*> FitsInChain<$taken, B> for $given {
            type Checked = ();
        }
    )*};
}

fits_unchecked! {
    [E: Element, const TAKES: usize] FirstInput => Batch<TAKES, E>;
    [E: Element, const TAKES: usize] FirstInput => Images<TAKES, E>;
    [E: Element] FirstInput => TensorBase<E>;
    [] FirstInput => Indices;
    [E: Element, const TAKES: usize] TensorBase<E> => Batch<TAKES, E>;
    [E: Element, const TAKES: usize] TensorBase<E> => Images<TAKES, E>;
    [E: Element] TensorBase<E> => TensorBase<E>;
    [E: Element, const GIVES: usize] Batch<GIVES, E> => TensorBase<E>;
    [E: Element, const GIVES: usize] Images<GIVES, E> => TensorBase<E>;
    [E: Element, const TAKES: usize] Flat<E> => Batch<TAKES, E>;
    [E: Element] Flat<E> => TensorBase<E>;
    [] Indices => Indices;
}

/// A scalar (a loss) fed to a layer taking a plain tensor.
#[diagnostic::do_not_recommend]
impl<B: ?Sized> FitsInChain<Tensor, B> for Scalar {
    type Checked = ();
}

/// What block `B` gives for `G`, once `Self`, a check, holds (is `()`): a layer that does not fit gives an unknown type, which the
/// compiler does not report again.
///
/// ```
/// use blocks_core::__private::ThenForward;
/// use blocks_core::nn::{Batch, Linear};
/// fn gives<C: ThenForward<B, G, Out = O>, B, G, O>() {}
/// gives::<(), Linear<4, 2>, Batch<4>, Batch<2>>();
/// ```
pub trait ThenForward<B: ?Sized, G> {
    /// What `B` gives.
    type Out;
}

impl<B: Forward<G> + ?Sized, G> ThenForward<B, G> for () {
    type Out = B::Output;
}
