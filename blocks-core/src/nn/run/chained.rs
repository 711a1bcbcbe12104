//! What a `#[module(chain)]` block's `Forward` is made of besides the chain
//! check: the path of each step ([`within_field`]). The block takes every
//! input its first field takes, and gives what its last field gives.

use crate::nn::{Forward, HookValue};

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
pub fn within_field<B, G>(key: &'static str, block: &B, input: &G) -> B::Output
where
    B: Forward<G> + ?Sized + 'static,
    G: HookValue,
    B::Output: HookValue,
{
    let _step = crate::nn::path::within_key(key);
    crate::nn::run(block, input)
}
