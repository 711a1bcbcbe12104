//! `Block`: any block as a trait object that runs on plain tensors, for
//! containers whose contents are chosen at run time (d2l's `MySequential`).

use super::{Call, Module};
use crate::Tensor;

/// A block that runs on a plain tensor (its widths checked at run time),
/// usable as `Box<dyn Block>`. Every [`Module`] that can be [`Call`]ed with a
/// `Tensor` is one.
///
/// ```
/// use blocks_core::nn::{Block, DynLinear, Linear, ReLU};
/// use blocks_core::Tensor;
/// let blocks: Vec<Box<dyn Block>> =
///     vec![Box::new(Linear::<20, 256>::new()), Box::new(ReLU), Box::new(DynLinear::new(256, 10))];
/// let mut x = Tensor::rand([2, 20]);
/// for block in &blocks {
///     x = block.forward_tensor(&x);
/// }
/// assert_eq!(x.shape(), vec![2, 10]);
/// ```
pub trait Block: Module {
    /// Runs the block on `input`.
    fn forward_tensor(&self, input: &Tensor) -> Tensor;
}

impl<M> Block for M
where
    M: Module + Call<Tensor>,
    M::Out: Into<Tensor>,
{
    fn forward_tensor(&self, input: &Tensor) -> Tensor {
        self.call(input).into()
    }
}
