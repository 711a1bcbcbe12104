//! The compile-time chain check behind `sequential!` (and a derived chain):
//! starting from a tensor of any kind and element type ([`FirstInput`]),
//! each block must take what the block before it gives. The macro emits one [`feed`] per block, spanned at that block,
//! so the compiler's error points at the block that does not fit.
//!
//! The check has its own table of what feeds what ([`FeedsInChain`],
//! through [`ChainStep`] and [`ChainRule`]), with the size checks in a
//! chain's words ([`SameWidth`]: "the block before it gives 256"); a call
//! `block.forward(&x)` goes through `Call` and `FeedsInto`, whose size
//! checks speak of the argument.
//!
//! A failed check must be reported once. So the type a block gives, as the
//! check sees it ([`GivesTo::Out`]), is worked out through the size check
//! itself (`SameWidth::Checked`, then [`Then`]): when a block does not fit,
//! that type cannot be worked out, the compiler reports the mismatch there,
//! and every later step (the next blocks, an outer chain holding this one
//! as a nested `sequential!`, which is built through [`nested`], and a
//! `forward` call on it) depends on an unknown type, which the compiler
//! does not report again after an error.

use std::marker::PhantomData;

use crate::nn::flat::Flat;
use crate::nn::forward::{AnyKind, ByInput, Forward, Takes};
use crate::nn::typed::{Batch, Scalar};
use crate::nn::{Images, KeptForward, Module, SameChannels, SameWidth, Sequential, TensorKind, ToPlain};
use crate::{Element, Indices, Tensor, TensorBase};

/// `Self` (what the blocks so far give) can be fed to block `B`, which then
/// gives `Out`.
///
/// Its self type is the given value, not the block, so that the compiler
/// reports the deeper reason in the block's terms: `SameWidth`'s "takes 128
/// input features, but the block before it gives 256", or `FeedsInChain`'s
/// "takes `Batch<20>`, but the block before it gives `Scalar`". (A call
/// `block.forward(&x)` goes through `Call` and `FeedsInto` instead, whose
/// size checks speak of the argument.)
///
/// ```
/// use blocks_core::__private::GivesTo;
/// use blocks_core::nn::{Batch, Linear};
/// fn out<G: GivesTo<B, Out = Batch<2>>, B>() {}
/// out::<Batch<4>, Linear<4, 2>>();
/// ```
pub trait GivesTo<B: ?Sized> {
    /// What `B` gives back.
    type Out;
}

impl<G, B: ChainStep<G> + ?Sized> GivesTo<B> for G {
    type Out = <B::Check as Then<B::Out>>::Out;
}

/// Block `Self` fed a `G` in a chain (`sequential!`): what it gives, and
/// the width or channel check on its input as a type (`()` once it holds).
/// Every block with a [`Takes`] rule has it, and `Sequential`.
///
/// ```
/// use blocks_core::nn::{Batch, ChainStep, Linear, ReLU};
/// fn gives<B: ChainStep<G, Out = O>, G, O>() {}
/// gives::<Linear<4, 2>, Batch<4>, Batch<2>>();
/// gives::<ReLU, Batch<3>, Batch<3>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take `{G}` from the block before it",
    label = "cannot take `{G}`",
    note = "a block derives `Module` and implements `Forward` (`type Input`, `type Output` and `fn forward`, PyTorch's `def forward(self, X)`)"
)]
pub trait ChainStep<G> {
    /// The check on the input: `()` once it holds.
    type Check;
    /// What the block gives.
    type Out;
}

impl<G, B: Takes + ?Sized> ChainStep<G> for B
where
    B::Rule: ChainRule<G, B>,
{
    type Check = <B::Rule as ChainRule<G, B>>::Check;
    type Out = <B::Rule as ChainRule<G, B>>::Out;
}

/// A `Sequential` inside a chain: its first block must take `G`; it gives
/// what its own chain gives, worked out without checking that chain again
/// (it was checked where it was made, and running it is checked by `Call`),
/// so a mistake inside it is not reported a second time here.
#[diagnostic::do_not_recommend]
impl<G, T> ChainStep<G> for Sequential<T>
where
    T: ChainHead<G>,
{
    type Check = T::Check;
    type Out = T::Out;
}

/// The entries of a `Sequential` inside a chain: the check on their first
/// block's input, and what the last gives ([`StepOut`] block by block).
/// Implemented with [`Entries`](crate::nn::Entries); never by hand.
///
/// ```
/// use blocks_core::nn::{Batch, ChainHead, Linear, ReLU};
/// fn gives<T: ChainHead<G, Out = O>, G, O>() {}
/// gives::<(Linear<4, 8>, ReLU), Batch<4>, Batch<8>>();
/// ```
pub trait ChainHead<G> {
    /// The first block's check on `G`.
    type Check;
    /// What the last block gives.
    type Out;
}

/// What block `Self` gives for `G`, by its kinds alone (no size check): the
/// output a chain goes on with (see [`ChainHead`]).
///
/// ```
/// use blocks_core::nn::{Batch, Linear, StepOut};
/// fn gives<B: StepOut<G, Out = O>, G, O>() {}
/// gives::<Linear<4, 2>, Batch<5>, Batch<2>>(); // sizes are not looked at
/// ```
pub trait StepOut<G> {
    /// What the block gives.
    type Out;
}

impl<G, B: Takes + ?Sized> StepOut<G> for B
where
    B::Rule: RuleOut<G, B>,
{
    type Out = <B::Rule as RuleOut<G, B>>::Out;
}

impl<G, T: ChainHead<G>> StepOut<G> for Sequential<T> {
    type Out = T::Out;
}

/// What a block with this rule gives for `G`, by kinds alone (see [`StepOut`]).
///
/// ```
/// use blocks_core::nn::{AnyKind, Batch, Linear, ReLU, RuleOut};
/// fn gives<R: RuleOut<G, B, Out = O>, G, B, O>() {}
/// gives::<AnyKind, Batch<3>, ReLU, Batch<3>>();
/// ```
pub trait RuleOut<G, B: ?Sized> {
    /// What the block gives.
    type Out;
}

impl<G, B: Forward + ?Sized> RuleOut<G, B> for ByInput {
    type Out = B::Output;
}

impl<G, B: ?Sized> RuleOut<G, B> for AnyKind {
    type Out = G;
}

impl<G: TensorKind, B: ?Sized> RuleOut<G, B> for ToPlain {
    type Out = Flat<G::Elem>;
}

/// A block flattening what the chain was first given gives a plain tensor
/// of the same, unknown, element type.
impl<B: ?Sized> RuleOut<FirstInput, B> for ToPlain {
    type Out = FirstInput;
}

/// What a block with this rule ([`ByInput`], [`AnyKind`]) gives for `G` in
/// a chain (see [`ChainStep`]).
///
/// ```
/// use blocks_core::nn::{Batch, ByInput, ChainRule, Linear};
/// fn gives<R: ChainRule<G, B, Out = O>, G, B, O>() {}
/// gives::<ByInput, Batch<4>, Linear<4, 2>, Batch<2>>();
/// ```
pub trait ChainRule<G, B: ?Sized> {
    /// The check on the input.
    type Check;
    /// What the block gives.
    type Out;
}

impl<G, B> ChainRule<G, B> for ByInput
where
    B: Forward + ?Sized,
    G: FeedsInChain<B::Input, B>,
{
    type Check = <G as FeedsInChain<B::Input, B>>::Check;
    type Out = B::Output;
}

impl<G: TensorKind, B: KeptForward + ?Sized> ChainRule<G, B> for AnyKind {
    type Check = ();
    type Out = G;
}

impl<G: TensorKind, B: KeptForward + ?Sized> ChainRule<G, B> for ToPlain {
    type Check = ();
    type Out = Flat<G::Elem>;
}

/// A width-keeping block first in a chain gives back what it was given.
impl<B: KeptForward + ?Sized> ChainRule<FirstInput, B> for AnyKind {
    type Check = ();
    type Out = FirstInput;
}

/// A flattening block first in a chain gives a plain tensor of the element
/// type it was given, not known yet.
impl<B: KeptForward + ?Sized> ChainRule<FirstInput, B> for ToPlain {
    type Check = ();
    type Out = FirstInput;
}

/// A value that block `B`, taking `T`, can be fed in a chain: [`FeedsInto`](crate::nn::FeedsInto)'s
/// table (which a call `block.forward(&x)` goes through) with the size checks
/// in a chain's words, [`SameWidth`] and [`SameChannels`].
///
/// ```
/// use blocks_core::nn::{Batch, FeedsInChain, Linear};
/// use blocks_core::Tensor;
/// fn feeds<G: FeedsInChain<T, B>, T, B>() {}
/// feeds::<Batch<4>, Batch<4>, Linear<4, 2>>();
/// feeds::<Tensor, Batch<4>, Linear<4, 2>>(); // checked at run time
/// ```
#[diagnostic::on_unimplemented(
    message = "`{B}` takes `{T}`, but the block before it gives `{Self}`",
    label = "cannot take `{Self}`"
)]
pub trait FeedsInChain<T, B: ?Sized> {
    /// The size check as a type: `()` once it holds.
    type Check;
}

impl<B, const GIVES: usize, const TAKES: usize, E: Element> FeedsInChain<Batch<TAKES, E>, B>
    for Batch<GIVES, E>
where
    B: SameWidth<TAKES, GIVES> + ?Sized,
{
    type Check = <B as SameWidth<TAKES, GIVES>>::Checked;
}

impl<B, const GIVES: usize, const TAKES: usize, E: Element> FeedsInChain<Images<TAKES, E>, B>
    for Images<GIVES, E>
where
    B: SameChannels<TAKES, GIVES> + ?Sized,
{
    type Check = <B as SameChannels<TAKES, GIVES>>::Checked;
}

macro_rules! feeds_unchecked {
    ($([$($generics:tt)*] $given:ty => $taken:ty;)*) => {$(
        #[diagnostic::do_not_recommend]
        impl<B: ?Sized, $($generics)*> FeedsInChain<$taken, B> for $given {
            type Check = ();
        }
    )*};
}

feeds_unchecked! {
    [E: Element, const TAKES: usize] FirstInput => Batch<TAKES, E>;
    [E: Element, const TAKES: usize] FirstInput => Images<TAKES, E>;
    [E: Element] FirstInput => TensorBase<E>;
    [E: Element, const TAKES: usize] TensorBase<E> => Batch<TAKES, E>;
    [E: Element, const TAKES: usize] TensorBase<E> => Images<TAKES, E>;
    [E: Element] TensorBase<E> => TensorBase<E>;
    [E: Element, const GIVES: usize] Batch<GIVES, E> => TensorBase<E>;
    [E: Element, const GIVES: usize] Images<GIVES, E> => TensorBase<E>;
    [E: Element, const TAKES: usize] Flat<E> => Batch<TAKES, E>;
    [E: Element] Flat<E> => TensorBase<E>;
    [] Scalar => Scalar;
    [] Scalar => Tensor;
    [] Indices => Indices;
}

/// A check that held (`Self`, once known), then `T`.
///
/// ```
/// fn then<C: blocks_core::__private::Then<T, Out = T>, T>() {}
/// then::<(), f32>();
/// ```
pub trait Then<T> {
    /// `T`.
    type Out;
}

impl<C, T> Then<T> for C {
    type Out = T;
}

/// What a chain is first given: a tensor of any element type, whose kind
/// is not known (a plain tensor, a `Batch` or `Images` of any width, sizes
/// checked when the chain runs). Every block taking a tensor of one element
/// type takes it, so a chain of float64 blocks is checked as one of float32
/// blocks; a width-keeping block gives it back as it came.
///
/// ```
/// use blocks_core::__private::{FirstInput, feed, start};
/// use blocks_core::nn::{Batch, Linear, ReLU, ToElement};
/// let given: std::marker::PhantomData<FirstInput> = feed(&ReLU, start());
/// let _: std::marker::PhantomData<Batch<2, f64>> = feed(&Linear::<4, 2>::new().to_f64(), given);
/// ```
pub struct FirstInput(());

/// What a `Sequential` is first given: [`FirstInput`], which every block
/// taking a tensor takes, whatever its element type.
///
/// ```
/// let _given = blocks_core::__private::start();
/// ```
pub fn start() -> PhantomData<FirstInput> {
    PhantomData
}

/// Requires `block` to be a block. (`B` in two arguments makes the
/// compiler blame the whole call, which the chain check spans exactly over
/// the user's block.)
///
/// ```
/// use blocks_core::__private::{block, of};
/// block(&blocks_core::nn::ReLU, of(&blocks_core::nn::ReLU));
/// ```
pub fn block<B: Module + ?Sized>(_block: &B, _: PhantomData<B>) {}

/// The type of `block`, as a value.
///
/// ```
/// let _ = blocks_core::__private::of(&blocks_core::nn::ReLU);
/// ```
pub fn of<B: ?Sized>(_block: &B) -> PhantomData<B> {
    PhantomData
}

/// What `block` gives when fed `G`, as a type; a compile error when it
/// cannot take `G`.
///
/// ```
/// use blocks_core::__private::{feed, start};
/// use blocks_core::nn::{Batch, Linear};
/// let given: std::marker::PhantomData<Batch<2>> = feed(&Linear::<4, 2>::new(), start());
/// ```
pub fn feed<G: GivesTo<B>, B: ?Sized>(_block: &B, _given: PhantomData<G>) -> PhantomData<G::Out> {
    PhantomData
}

/// `net`, once `check` (the chain check, never run) type-checks: the
/// expansion of a `sequential!`. `net` is a plain argument, so a type the
/// context expects (a struct field's) reaches the blocks before the check
/// looks at them, and a block that does not fit it is blamed there.
///
/// ```
/// use blocks_core::__private::{checked, feed, start};
/// use blocks_core::nn::{Linear, Sequential};
/// let net = checked(Sequential::new((Linear::<4, 2>::new(),)), |net| feed(&net.0.0, start()));
/// ```
pub fn checked<S, O>(net: S, check: impl FnOnce(&S) -> PhantomData<O>) -> S {
    let _ = check;
    net
}

/// [`checked`] for a `sequential!` nested in another: its type is known only
/// once its check holds, so a mismatch inside it is not reported again by
/// the outer chain or a `forward` call on it.
///
/// ```
/// use blocks_core::__private::{feed, nested, start};
/// use blocks_core::nn::{Linear, Sequential};
/// let net: Sequential<(Linear<4, 2>,)> = nested(Sequential::new((Linear::new(),)), |net| feed(&net.0.0, start()));
/// ```
pub fn nested<S, O>(net: S, check: impl FnOnce(&S) -> PhantomData<O>) -> <O as Known<S>>::Net {
    let _ = check;
    <O as Known<S>>::pass(net)
}

/// `S` once `Self`, the chain's output, is known (see [`nested`]).
///
/// ```
/// fn known<O: blocks_core::__private::Known<S, Net = S>, S>() {}
/// known::<(), f32>();
/// ```
pub trait Known<S> {
    /// `S`.
    type Net;

    /// `net` as itself.
    fn pass(net: S) -> Self::Net;
}

impl<S, O> Known<S> for O {
    type Net = S;

    fn pass(net: S) -> S {
        net
    }
}
