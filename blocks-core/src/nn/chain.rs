//! The compile-time chain check behind `sequential!` (and a derived chain):
//! starting from a plain tensor, each block must take what the block before
//! it gives. The macro emits one [`feed`] per block, spanned at that block,
//! so the compiler's error points at the block that does not fit.
//!
//! A failed check must be reported once. So the type a block gives, as the
//! check sees it ([`GivesTo::Out`]), is computed through the width check
//! itself (`SameWidth::Checked`): when a block does not fit, that type
//! cannot be worked out, the compiler reports the mismatch there, and every
//! later step (the next blocks, an outer chain holding this one as a
//! nested `sequential!`, its `forward` call) depends on an unknown type,
//! which the compiler does not report again after an error.

use std::marker::PhantomData;

use super::Module;
use super::forward::Call;
use crate::Tensor;

/// `Self` (what the blocks so far give) can be fed to block `B`, which then
/// gives `Out`.
///
/// Its self type is the given value, not the block, so that the compiler
/// reports the deeper reason in the block's terms: `SameWidth`'s "takes 128
/// input features, but the block before it gives 256", or `FeedsInto`'s
/// "takes `Batch<20>`, but the block before it gives `Scalar`".
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

impl<G, B: Call<G> + ?Sized> GivesTo<B> for G {
    type Out = B::Checked;
}

/// A check that held (`Self`, once known), then `T`.
pub trait Then<T> {
    /// `T`.
    type Out;
}

impl<C, T> Then<T> for C {
    type Out = T;
}

/// What a `Sequential` is first given: a plain tensor, which every block takes.
///
/// ```
/// let _given = blocks_core::__private::start();
/// ```
pub fn start() -> PhantomData<Tensor> {
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
