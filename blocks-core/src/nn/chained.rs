//! What a `#[module(chain)]` block's `Forward` is made of besides the chain
//! check: its input ([`Entry`]: what its first field takes) and the path of
//! each step ([`within_field`]). Its output is named with
//! [`StepOut`](super::StepOut), by kinds alone, so that a field that does
//! not fit is reported once, by the check.

use super::{AnyKind, ByInput, Forward, Sequential, Takes};
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
    B::Rule: EntryRule<B>,
{
    type Input = <B::Rule as EntryRule<B>>::Input;
}

impl<T> Entry for Sequential<T> {
    type Input = Tensor;
}

/// What a block with [`Takes`] rule `Self` takes first (see [`Entry`]).
///
/// ```
/// use blocks_core::__private::EntryRule;
/// use blocks_core::nn::{AnyKind, ReLU};
/// use blocks_core::Tensor;
/// fn rule<R: EntryRule<ReLU, Input = Tensor>>() {}
/// rule::<AnyKind>();
/// ```
pub trait EntryRule<B: ?Sized> {
    /// What the block takes.
    type Input;
}

impl<B: Forward + ?Sized> EntryRule<B> for ByInput {
    type Input = B::Input;
}

impl<B: ?Sized> EntryRule<B> for AnyKind {
    type Input = Tensor;
}
