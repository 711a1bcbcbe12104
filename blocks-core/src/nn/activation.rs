//! `nn.ReLU`: a width-keeping layer that takes any tensor kind.

use super::{Forward, Module, Visitor};
use crate::Tensor;

/// `max(x, 0)` as a block, like `nn.ReLU()`: it keeps whatever width it is
/// given (a `Batch<N>` stays a `Batch<N>`, `Images<C>` stay `Images<C>`).
///
/// ```
/// use blocks_core::{nn::ReLU, Tensor};
/// let y = ReLU.forward(&Tensor::from_vec(vec![-1.0, 2.0], [2]));
/// assert_eq!(y.to_vec(), vec![0.0, 2.0]);
/// assert_eq!(ReLU.to_string(), "ReLU()");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ReLU;

#[diagnostic::do_not_recommend]
impl Forward for ReLU {
    type Input = Tensor;
    type Output = Tensor;

    fn forward(&self, input: &Tensor) -> Tensor {
        input.relu()
    }
}

#[diagnostic::do_not_recommend]
impl Module for ReLU {
    fn type_name(&self) -> String {
        "ReLU".into()
    }

    fn visit<'m>(&'m self, _: &mut dyn Visitor<'m>) {}
}

impl_block! {
    /// Runs the layer on a `Tensor`, `Batch<N>`, `Images<C>` or `Scalar`,
    /// giving the same kind.
    ///
    /// ```
    /// use blocks_core::nn::{Batch, ReLU};
    /// let y: Batch<3> = ReLU.forward(&Batch::<3>::rand(2));
    /// assert_eq!(y.shape(), vec![2, 3]);
    /// ```
    [] ReLU, keeps_width
}
