//! The compile-time chain check behind `sequential!`: starting from a plain
//! tensor, each block must be a [`Module`] and take what the block before it
//! gives. The macro calls these once per block, spanned at that block, so
//! the compiler's error points at the block that does not fit. [`Gives`] is
//! the output type of a `#[module(chain)]` block.

use std::marker::PhantomData;

use super::{AnyKind, ByInput, Call, Forward, Module, Sequential, Takes};
use crate::Tensor;

/// What block `Self` gives when fed a `G`, as a type, without checking that
/// it takes `G` (a width-keeping block gives `G` back, any other block its
/// `Forward` output). `#[derive(Module)]` writes a `#[module(chain)]`
/// block's `Forward::Output` with it, so that a field that does not fit is
/// reported once, where its forward step runs, not again in the impl's types.
///
/// ```
/// use blocks_core::__private::Gives;
/// use blocks_core::nn::{Batch, Linear, ReLU};
/// fn gives<B: Gives<G, Out = O>, G, O>() {}
/// gives::<Linear<4, 2>, Batch<4>, Batch<2>>();
/// gives::<ReLU, Batch<3>, Batch<3>>();
/// ```
pub trait Gives<G> {
    /// What the block gives.
    type Out;
}

impl<B: Takes + ?Sized, G> Gives<G> for B
where
    B::Rule: RuleGives<G, B>,
{
    type Out = <B::Rule as RuleGives<G, B>>::Out;
}

/// A `Sequential` gives what its chain gives (checked: its own blocks were
/// checked where it was built).
impl<T, G> Gives<G> for Sequential<T>
where
    Sequential<T>: Call<G>,
{
    type Out = <Sequential<T> as Call<G>>::Out;
}

/// What a `#[module(chain)]` block takes: what its first field takes. A
/// block's `Forward` input; a plain `Tensor` for a width-keeping block
/// (which takes every kind) and for a `Sequential` (whose blocks are checked
/// from a plain tensor on).
///
/// ```
/// use blocks_core::__private::Entry;
/// use blocks_core::nn::{Batch, Linear, ReLU};
/// use blocks_core::Tensor;
/// fn takes<B: Entry<Input = I>, I>() {}
/// takes::<Linear<4, 2>, Batch<4>>();
/// takes::<ReLU, Tensor>();
/// ```
pub trait Entry {
    /// What the block takes first.
    type Input;
}

impl<B: Takes + ?Sized> Entry for B
where
    B::Rule: RuleGives<Tensor, B>,
{
    type Input = <B::Rule as RuleGives<Tensor, B>>::Input;
}

impl<T> Entry for Sequential<T> {
    type Input = Tensor;
}

/// What a block with [`Takes`] rule `Self` takes ([`Entry`]) and gives for
/// `G` ([`Gives`]).
pub trait RuleGives<G, B: ?Sized> {
    /// What the block takes.
    type Input;
    /// What the block gives.
    type Out;
}

impl<G, B: Forward + ?Sized> RuleGives<G, B> for ByInput {
    type Input = B::Input;
    type Out = B::Output;
}

impl<G, B: ?Sized> RuleGives<G, B> for AnyKind {
    type Input = Tensor;
    type Out = G;
}

/// `Self` (what the blocks so far give) can be fed to block `B`.
///
/// Its self type is the given value, not the block, so that the compiler
/// reports the deeper reason in the block's terms: `SameWidth`'s "takes 128
/// input features, but the block before it gives 256", or `FeedsInto`'s
/// "takes `Batch<20>`, but the block before it gives `Scalar`".
///
/// ```
/// use blocks_core::__private::GivesTo;
/// use blocks_core::nn::{Batch, Linear};
/// fn out<G: GivesTo<B>, B>() {}
/// out::<Batch<4>, Linear<4, 2>>();
/// ```
pub trait GivesTo<B: ?Sized> {
    /// What `B` gives back.
    type Out;
}

impl<G, B: Call<G> + ?Sized> GivesTo<B> for G {
    type Out = B::Out;
}

/// What a `Sequential` is first given: a plain tensor, which every block takes.
///
/// ```
/// let _given = blocks_core::__private::start();
/// ```
pub fn start() -> PhantomData<Tensor> {
    PhantomData
}

/// Passes `block` through, requiring it to be a block. (`B` in two
/// arguments makes the compiler blame the whole call, which `sequential!`
/// spans exactly over the user's block.)
///
/// ```
/// let relu = blocks_core::__private::block(blocks_core::nn::ReLU, std::marker::PhantomData);
/// ```
pub fn block<B: Module>(block: B, _: PhantomData<B>) -> B {
    block
}

/// What `block` gives when fed `G`, as a type; a compile error when it
/// cannot take `G`.
///
/// ```
/// use blocks_core::__private::{feed, start};
/// use blocks_core::nn::{Batch, Linear};
/// let given: std::marker::PhantomData<Batch<2>> = feed(&Linear::<4, 2>::new(), start());
/// ```
pub fn feed<G: GivesTo<B>, B>(_block: &B, _given: PhantomData<G>) -> PhantomData<G::Out> {
    PhantomData
}
