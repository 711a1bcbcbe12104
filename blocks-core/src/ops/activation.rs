//! Activation functions: relu, sigmoid, tanh.

use ndarray::Zip;

use crate::autograd::pool;
use crate::threading::in_parts;
use crate::{Element, TensorBase};

impl<E: Element> TensorBase<E> {
    /// `max(x, 0)` elementwise, like `torch.relu` (ReluBackward0). NaN stays
    /// NaN, as in PyTorch, so a diverged model does not look healthy.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![-1.0, 2.0, f32::NAN], [3]);
    /// let y = x.relu().to_vec();
    /// assert_eq!(y[..2], [0.0, 2.0]);
    /// assert!(y[2].is_nan());
    /// ```
    pub fn relu(&self) -> Self {
        let data = pool::map(&self.data(), |x| if x > E::zero() || x.is_nan() { x } else { E::zero() });
        TensorBase::from_op(data, "ReluBackward0", &[self], |mut grad, ctx| {
            // A select rather than a branch: the sign pattern is data, and a
            // mispredicted branch per element costs more than the whole pass.
            let (output, len) = (ctx.output(), grad.len());
            in_parts(
                Zip::from(&mut grad).and(&*output),
                len,
                |zip| zip.split(),
                |zip| {
                    zip.for_each(|g, &y| *g = if y <= E::zero() { E::zero() } else { *g });
                },
            );
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
