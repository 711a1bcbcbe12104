//! Activation functions: relu.

use ndarray::Zip;

use crate::{Element, TensorBase};

impl<E: Element> TensorBase<E> {
    /// `max(x, 0)` elementwise, like `torch.relu` (ReluBackward0).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![-1.0, 2.0], [2]);
    /// assert_eq!(x.relu().to_vec(), vec![0.0, 2.0]);
    /// ```
    pub fn relu(&self) -> Self {
        let data = self.data().mapv(|x| if x > E::zero() { x } else { E::zero() });
        TensorBase::from_op(data, "ReluBackward0", &[self], |mut grad, ctx| {
            // A select rather than a branch: the sign pattern is data, and a
            // mispredicted branch per element costs more than the whole pass.
            Zip::from(&mut grad).and(&*ctx.output()).for_each(|g, &y| {
                *g = if y <= E::zero() { E::zero() } else { *g };
            });
            vec![Some(grad)]
        })
    }
}
