//! The compile-time chain check behind `sequential!`: starting from a plain
//! tensor, each block must be a [`Module`] and take what the block before it
//! gives. The macro calls these once per block, spanned at that block, so
//! the compiler's error points at the block that does not fit.

use std::marker::PhantomData;

use super::{Call, Module};
use crate::Tensor;

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
