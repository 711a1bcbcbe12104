//! Powers: `rsqrt` and `pow` with a tensor exponent that broadcasts with the
//! base (PowBackward1), each with PyTorch's gradient conventions.

use ndarray::{IxDyn, Zip};

use super::broadcast::{broadcast_shape, sum_to_shape};
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// `1 / sqrt(x)` elementwise, like `torch.rsqrt` (RsqrtBackward0).
    ///
    /// The gradient is `−½ · y³` with `y` the output; 0 gives `inf`, negative
    /// values NaN, as in PyTorch.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![4.0, 0.25], [2]).requires_grad_(true);
    /// let y = x.rsqrt();
    /// assert_eq!(y.to_vec(), vec![0.5, 2.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![-0.0625, -4.0]);
    /// ```
    pub fn rsqrt(&self) -> Self {
        let data = self.data().mapv(|x| x.sqrt().recip());
        TensorBase::from_op(data, "RsqrtBackward0", &[self], |mut grad, ctx| {
            let half = E::from_f64(0.5).expect("0.5 fits");
            Zip::from(&mut grad).and(&*ctx.output()).for_each(|g, &y| *g *= -half * y * y * y);
            vec![Some(grad)]
        })
    }

    /// `self ^ exponent` elementwise with a tensor exponent, the two broadcast
    /// together, like `torch.pow(x, e)` (PowBackward1). Both get a gradient:
    /// `e · x^(e−1)` for the base (exactly 0 where `e` is 0) and `x^e · ln x`
    /// for the exponent (exactly 0 where `x` is 0 and `e >= 0`), as in PyTorch.
    /// For a scalar exponent see [`powf`](Self::powf) and [`powi`](Self::powi).
    ///
    /// # Panics
    /// When the shapes do not broadcast, naming both; see [`try_pow`](Self::try_pow).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![2.0, 3.0, 4.0, 5.0], [2, 2]);
    /// let e = Tensor::from_vec(vec![2.0, 0.5], [2]);
    /// assert_eq!(x.pow(&e).to_vec(), vec![4.0, 3f32.sqrt(), 16.0, 5f32.sqrt()]);
    /// ```
    #[track_caller]
    pub fn pow(&self, exponent: &Self) -> Self {
        or_panic(self.try_pow(exponent))
    }

    /// Like [`pow`](Self::pow), returning an error when the shapes do not broadcast.
    ///
    /// # Errors
    /// A [`ShapeError`] naming both shapes.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::ones([2, 3]).try_pow(&Tensor::ones([2])).unwrap_err();
    /// assert!(error.to_string().starts_with("pow: shapes [2, 3] and [2] cannot be broadcast together"));
    /// ```
    pub fn try_pow(&self, exponent: &Self) -> Result<Self, ShapeError> {
        let data = {
            let (x, e) = (self.data(), exponent.data());
            let shape = IxDyn(&broadcast_shape("pow", x.shape(), e.shape())?);
            let x = x.broadcast(shape.clone()).expect("shapes broadcast");
            let e = e.broadcast(shape).expect("shapes broadcast");
            Zip::from(&x).and(&e).map_collect(|&x, &e| x.powf(e))
        };
        Ok(TensorBase::from_op(data, "PowBackward1", &[self, exponent], |grad, ctx| {
            let (x, e) = (ctx.input(0), ctx.input(1));
            let (x_shape, e_shape) = (x.shape().to_vec(), e.shape().to_vec());
            let xb = x.broadcast(grad.raw_dim()).expect("the base broadcasts to the output");
            let eb = e.broadcast(grad.raw_dim()).expect("the exponent broadcasts to the output");
            let for_base = ctx.needs(0).then(|| {
                let g = Zip::from(&grad).and(&xb).and(&eb).map_collect(|&g, &x, &e| {
                    if e == E::zero() { E::zero() } else { g * e * x.powf(e - E::one()) }
                });
                sum_to_shape(g, &x_shape)
            });
            let for_exponent = ctx.needs(1).then(|| {
                let y = ctx.output();
                let g = Zip::from(&grad).and(&xb).and(&eb).and(&*y).map_collect(|&g, &x, &e, &y| {
                    if x == E::zero() && e >= E::zero() { E::zero() } else { g * y * x.ln() }
                });
                sum_to_shape(g, &e_shape)
            });
            vec![for_base, for_exponent]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    #[test]
    fn rsqrt_passes_gradcheck() {
        let x = Tensor64::from_vec(vec![0.3, 1.0, 2.5, 7.0], [2, 2]).requires_grad_(true);
        gradcheck(|t| t[0].rsqrt(), std::slice::from_ref(&x)).unwrap();
        assert_eq!(x.rsqrt().grad_fn(), Some("RsqrtBackward0"));
    }

    #[test]
    fn pow_passes_gradcheck_with_broadcast_on_either_side() {
        let x = Tensor64::from_vec(vec![0.5, 1.5, 2.0, 0.8, 1.1, 3.0], [2, 3]).requires_grad_(true);
        let e = Tensor64::from_vec(vec![2.0, -0.5, 1.3], [3]).requires_grad_(true);
        gradcheck(|t| t[0].pow(&t[1]), &[x.clone(), e.clone()]).unwrap();
        let positive = Tensor64::from_vec(vec![2.0, 0.4, 1.3], [3]).requires_grad_(true);
        gradcheck(|t| t[1].pow(&t[0]), &[x.clone(), positive.clone()]).unwrap();
        let column = Tensor64::from_vec(vec![0.7, 2.0], [2, 1]).requires_grad_(true);
        gradcheck(|t| t[0].pow(&t[1]), &[positive, column]).unwrap();
        assert_eq!(x.pow(&x).grad_fn(), Some("PowBackward1"));
    }

    #[test]
    fn pow_gradients_at_zero_follow_pytorch() {
        let x = Tensor64::from_vec(vec![0.0, 0.0, 2.0], [3]).requires_grad_(true);
        let e = Tensor64::from_vec(vec![2.0, 0.0, 0.0], [3]).requires_grad_(true);
        let y = x.pow(&e);
        assert_eq!(y.to_vec(), vec![0.0, 1.0, 1.0]);
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.0, 0.0]);
        assert_eq!(e.grad().unwrap().to_vec(), vec![0.0, 0.0, 2f64.ln()]);
    }

    #[test]
    fn pow_names_the_op_and_both_shapes() {
        let error = Tensor64::ones([2, 3]).try_pow(&Tensor64::ones([4])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "pow: shapes [2, 3] and [4] cannot be broadcast together (dimension 1: 3 vs 4)"
        );
    }
}
