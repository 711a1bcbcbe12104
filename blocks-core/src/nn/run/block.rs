//! `Block`: any block as a trait object that runs on plain tensors, for
//! containers whose contents are chosen at run time (d2l's `MySequential`).

use crate::Tensor;
use crate::nn::{FeedsInto, Forward, HookValue, Module, Takes, run};

/// A block that runs on a plain tensor (its sizes checked at run time),
/// usable as `Box<dyn Block>`. Every [`Module`] with a `Forward<Tensor>` is
/// one, and a `Box<dyn Block>` is itself a block taking and
/// giving tensors (so it fits in a `sequential!`).
///
/// ```
/// use blocks_core::nn::{Block, DynLinear, Linear, ReLU};
/// use blocks_core::Tensor;
/// let blocks: Vec<Box<dyn Block>> =
///     vec![Box::new(Linear::<20, 256>::new()), Box::new(ReLU::default()), Box::new(DynLinear::new(256, 10))];
/// let mut x = Tensor::rand([2, 20]);
/// for block in &blocks {
///     x = block.forward_tensor(&x);
/// }
/// assert_eq!(x.shape(), vec![2, 10]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `dyn Block`: it does not run on a plain `Tensor`",
    label = "does not run on a plain `Tensor`",
    note = "a `dyn Block` (in a `Box<dyn Block>`, a `DynSequential`, or from `net.iter()`) runs on a plain tensor: give the block an `impl Forward<Tensor>`, or make its `Forward` generic over what it is fed (`impl<K: FeedsInto<Batch<20>, Self>> Forward<K>`, with `#[module(any_input)]`)"
)]
pub trait Block: Module {
    /// Runs the block on `input` (through [`run`], as every block runs).
    ///
    /// ```
    /// use blocks_core::nn::{Block, ReLU};
    /// use blocks_core::Tensor;
    /// let block: Box<dyn Block> = Box::new(ReLU::default());
    /// assert_eq!(block.forward_tensor(&Tensor::from_vec(vec![-1.0], [1])).to_vec(), vec![0.0]);
    /// ```
    #[track_caller]
    fn forward_tensor(&self, input: &Tensor) -> Tensor;
}

impl<M> Block for M
where
    M: Module + Forward<Tensor> + 'static,
    M::Output: Into<Tensor> + HookValue,
{
    #[track_caller]
    fn forward_tensor(&self, input: &Tensor) -> Tensor {
        run(self, input).into()
    }
}

/// A boxed block runs the block inside on a plain tensor (a typed tensor
/// as a plain one).
///
/// ```
/// use blocks_core::nn::{Block, Forward, ReLU};
/// use blocks_core::Tensor;
/// let block: Box<dyn Block> = Box::new(ReLU::default());
/// assert_eq!(Forward::forward(&block, &Tensor::from_vec(vec![-1.0, 2.0], [2])).to_vec(), vec![0.0, 2.0]);
/// ```
#[diagnostic::do_not_recommend]
impl<K: FeedsInto<Tensor, Self>> Forward<K> for Box<dyn Block> {
    type Output = Tensor;

    #[track_caller]
    fn forward(&self, input: &K) -> Tensor {
        (**self).forward_tensor(&input.feed_into())
    }
}

/// A boxed block takes a plain tensor, or a typed one as a plain one.
#[diagnostic::do_not_recommend]
impl Takes for Box<dyn Block> {
    type Inputs = crate::nn::Typed<Tensor>;
}
