//! Activation functions: relu, sigmoid, tanh.

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

impl<E: Element> TensorBase<E> {
    /// `1 / (1 + e^(−x))` elementwise, like `torch.sigmoid` (SigmoidBackward0).
    ///
    /// Computed without overflow for large `|x|`; the backward uses the output.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![0.0, -1000.0, 1000.0], [3]);
    /// assert_eq!(x.sigmoid().to_vec(), vec![0.5, 0.0, 1.0]);
    /// ```
    pub fn sigmoid(&self) -> Self {
        let data = self.data().mapv(|x| {
            if x >= E::zero() {
                E::one() / (E::one() + (-x).exp())
            } else {
                let e = x.exp();
                e / (E::one() + e)
            }
        });
        TensorBase::from_op(data, "SigmoidBackward0", &[self], |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.output()).for_each(|g, &y| *g *= y * (E::one() - y));
            vec![Some(grad)]
        })
    }

    /// The hyperbolic tangent elementwise, like `torch.tanh` (TanhBackward0).
    ///
    /// The backward uses the output: `1 − tanh²(x)`.
    ///
    /// ```
    /// let x = blocks_core::Tensor64::from_vec(vec![0.0, 1.0], [2]);
    /// assert_eq!(x.tanh().to_vec(), vec![0.0, 1.0f64.tanh()]);
    /// ```
    pub fn tanh(&self) -> Self {
        let data = self.data().mapv(E::tanh);
        TensorBase::from_op(data, "TanhBackward0", &[self], |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.output()).for_each(|g, &y| *g *= E::one() - y * y);
            vec![Some(grad)]
        })
    }
}
