//! `nn.ReLU`: a width-preserving layer that takes any tensor kind.

use std::any::Any;
use std::fmt;

use super::forward::Call;
use super::typed::{Batch, Scalar};
use super::{Module, Visitor};
use crate::Tensor;

/// `max(x, 0)` as a block, like `nn.ReLU()`: it keeps whatever width it is given.
///
/// ```
/// use blocks_core::{nn::ReLU, Tensor};
/// let y = ReLU.forward(&Tensor::from_vec(vec![-1.0, 2.0], [2]));
/// assert_eq!(y.to_vec(), vec![0.0, 2.0]);
/// assert_eq!(ReLU.to_string(), "ReLU()");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ReLU;

impl ReLU {
    /// Runs the layer on a `Tensor`, `Batch<N>` or `Scalar`, giving the same kind.
    ///
    /// ```
    /// use blocks_core::nn::{Batch, ReLU};
    /// let y: Batch<3> = ReLU.forward(&Batch::<3>::rand(2));
    /// assert_eq!(y.shape(), vec![2, 3]);
    /// ```
    pub fn forward<G>(&self, input: &G) -> G
    where
        Self: Call<G, Out = G>,
    {
        self.call(input)
    }
}

#[diagnostic::do_not_recommend]
impl Call<Tensor> for ReLU {
    type Out = Tensor;
    fn call(&self, input: &Tensor) -> Tensor {
        input.relu()
    }
}

#[diagnostic::do_not_recommend]
impl<const N: usize> Call<Batch<N>> for ReLU {
    type Out = Batch<N>;
    fn call(&self, input: &Batch<N>) -> Batch<N> {
        input.relu()
    }
}

#[diagnostic::do_not_recommend]
impl Call<Scalar> for ReLU {
    type Out = Scalar;
    fn call(&self, input: &Scalar) -> Scalar {
        Scalar::new(input.relu())
    }
}

#[diagnostic::do_not_recommend]
impl Module for ReLU {
    fn type_name(&self) -> String {
        "ReLU".into()
    }

    fn visit<'m>(&'m self, _: &mut dyn Visitor<'m>) {}

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

impl fmt::Display for ReLU {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::repr::fmt_module(self, f)
    }
}
