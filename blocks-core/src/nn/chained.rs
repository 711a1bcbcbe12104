//! What a `#[module(chain)]` block's `Forward` is made of: its input
//! ([`Entry`]: what its first field takes), its output ([`Gives`]: what the
//! last field gives, named without checking the fields, so that a field that
//! does not fit is reported once, where its step runs) and the path of each
//! step ([`within_field`]).

use super::{AnyKind, ByInput, Call, Forward, Sequential, Takes};
use crate::Tensor;

/// Runs `f` with the field keyed `key` appended to the current path (what a
/// run-time width panic and a global hook's [`RunningBlock::path`](super::RunningBlock::path)
/// tell): each step of a `#[module(chain)]` block's forward.
///
/// ```
/// let y = blocks_core::__private::within_field("hidden", || 1 + 1);
/// assert_eq!(y, 2);
/// ```
pub fn within_field<T>(key: &'static str, f: impl FnOnce() -> T) -> T {
    super::path::within_key(key, f)
}

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
///
/// ```
/// use blocks_core::__private::RuleGives;
/// use blocks_core::nn::{AnyKind, Batch, ReLU};
/// use blocks_core::Tensor;
/// fn rule<R: RuleGives<Batch<3>, ReLU, Input = Tensor, Out = Batch<3>>>() {}
/// rule::<AnyKind>();
/// ```
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
