//! Sine and cosine elementwise, with PyTorch's gradients (SinBackward0,
//! CosBackward0): what positional encodings and rotary embeddings are built from.

use ndarray::Zip;

use crate::{Element, TensorBase};

impl<E: Element> TensorBase<E> {
    /// `sin(x)` elementwise, like `torch.sin` (SinBackward0); the gradient is `cos(x)`.
    ///
    /// ```
    /// use blocks_core::Tensor64;
    /// let x = Tensor64::from_vec(vec![0.0, std::f64::consts::FRAC_PI_2], [2]).requires_grad_(true);
    /// let y = x.sin();
    /// assert_eq!(y.to_vec(), vec![0.0, 1.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec()[0], 1.0);
    /// ```
    pub fn sin(&self) -> Self {
        let data = self.data().mapv(E::sin);
        TensorBase::from_op(data, "SinBackward0", &[self], |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| *g *= x.cos());
            vec![Some(grad)]
        })
    }

    /// `cos(x)` elementwise, like `torch.cos` (CosBackward0); the gradient is `−sin(x)`.
    ///
    /// ```
    /// use blocks_core::Tensor64;
    /// let x = Tensor64::from_vec(vec![0.0, std::f64::consts::FRAC_PI_2], [2]).requires_grad_(true);
    /// let y = x.cos();
    /// assert_eq!(y.to_vec()[0], 1.0);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, -1.0]);
    /// ```
    pub fn cos(&self) -> Self {
        let data = self.data().mapv(E::cos);
        TensorBase::from_op(data, "CosBackward0", &[self], |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| *g *= -x.sin());
            vec![Some(grad)]
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    fn x() -> Tensor64 {
        Tensor64::from_vec(vec![-2.5, -0.3, 0.0, 0.7, 1.9, 3.3], [2, 3]).requires_grad_(true)
    }

    #[test]
    fn sin_and_cos_pass_gradcheck() {
        gradcheck(|t| t[0].sin(), &[x()]).unwrap();
        gradcheck(|t| t[0].cos(), &[x()]).unwrap();
        gradcheck(|t| (&t[0].sin() * &t[0].cos()).sum(), &[x()]).unwrap();
    }

    #[test]
    fn names_and_values_are_pytorchs() {
        let x = x();
        assert_eq!(x.sin().grad_fn(), Some("SinBackward0"));
        assert_eq!(x.cos().grad_fn(), Some("CosBackward0"));
        assert_eq!(x.sin().to_vec()[3], 0.7f64.sin());
        assert_eq!(x.cos().to_vec()[5], 3.3f64.cos());
    }
}
