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
            Zip::from(&mut grad).and(&*ctx.output()).for_each(|g, &y| {
                if y <= E::zero() {
                    *g = E::zero();
                }
            });
            vec![Some(grad)]
        })
    }
}
