//! What a `#[module(chain)]` block's `Forward` is made of besides the chain
//! check: its input ([`Entry`]: what its first field takes) and the path of
//! each step ([`within_field`]). Its output is named with
//! [`StepOut`](crate::nn::StepOut), by kinds alone, so that a field that does
//! not fit is reported once, by the check.

use crate::nn::{AnyKind, ByInput, Forward, Sequential, Takes};
use crate::{Element, TensorBase};

/// Runs `block` on `input` with the field keyed `key` appended to the current path (what a
/// run-time width panic and a global hook's [`RunningBlock::path`](crate::nn::RunningBlock::path)
/// tell): each step of a `#[module(chain)]` block's forward.
///
/// ```
/// use blocks_core::nn::ReLU;
/// use blocks_core::Tensor;
/// let y = blocks_core::__private::within_field("act", &ReLU::default(), &Tensor::from_vec(vec![-1.0], [1]));
/// assert_eq!(y.to_vec(), vec![0.0]);
/// ```
#[track_caller]
pub fn within_field<B: crate::nn::Call<G> + ?Sized, G>(key: &'static str, block: &B, input: &G) -> B::Out {
    let _step = crate::nn::path::within_key(key);
    crate::nn::run(block, input)
}

/// What a `#[module(chain)]` block takes: what its first field takes. A
/// block's `Forward` input; for a width-keeping block (which takes every
/// kind) and a `Sequential` (whose blocks are checked from any tensor on),
/// a plain tensor of element type `E`: the chained block's own element
/// type parameter, `f32` when it has none.
///
/// ```
/// use blocks_core::__private::Entry;
/// use blocks_core::nn::{Batch, Linear, ReLU};
/// use blocks_core::{Tensor, Tensor64};
/// fn takes<B: Entry<E, Input = I>, E: blocks_core::Element, I>() {}
/// takes::<Linear<4, 2>, f32, Batch<4>>();
/// takes::<Linear<4, 2, f64>, f64, Batch<4, f64>>();
/// takes::<ReLU, f32, Tensor>();
/// takes::<ReLU, f64, Tensor64>();
/// ```
pub trait Entry<E: Element = f32> {
    /// What the block takes first.
    type Input;
}

impl<E: Element, B: Takes + ?Sized> Entry<E> for B
where
    B::Rule: EntryRule<B, E>,
{
    type Input = <B::Rule as EntryRule<B, E>>::Input;
}

impl<E: Element, T> Entry<E> for Sequential<T> {
    type Input = TensorBase<E>;
}

/// What a block with [`Takes`] rule `Self` takes first, in a chained block
/// of element type `E` (see [`Entry`]).
///
/// ```
/// use blocks_core::__private::EntryRule;
/// use blocks_core::nn::{AnyKind, ReLU};
/// use blocks_core::Tensor;
/// fn rule<R: EntryRule<ReLU, f32, Input = Tensor>>() {}
/// rule::<AnyKind>();
/// ```
pub trait EntryRule<B: ?Sized, E: Element = f32> {
    /// What the block takes.
    type Input;
}

impl<E: Element, B: Forward + ?Sized> EntryRule<B, E> for ByInput {
    type Input = B::Input;
}

impl<E: Element, B: ?Sized> EntryRule<B, E> for AnyKind {
    type Input = TensorBase<E>;
}
