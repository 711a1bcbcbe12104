//! Elementwise math: abs, exp, log, sqrt and powers with a scalar exponent,
//! each with PyTorch's gradient (including its conventions at special points).

use ndarray::Zip;

use crate::{Element, TensorBase};

impl<E: Element> TensorBase<E> {
    /// `|x|` elementwise, like `torch.abs` (AbsBackward0).
    ///
    /// The gradient is `sign(x)`, which is 0 at `x = 0`, as in PyTorch.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![-2.0, 0.0, 3.0], [3]).requires_grad_(true);
    /// let y = x.abs();
    /// assert_eq!(y.to_vec(), vec![2.0, 0.0, 3.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![-1.0, 0.0, 1.0]);
    /// ```
    pub fn abs(&self) -> Self {
        let data = self.data().mapv(E::abs);
        TensorBase::from_op(data, "AbsBackward0", &[self], |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| {
                *g = if x > E::zero() {
                    *g
                } else if x < E::zero() {
                    -*g
                } else {
                    E::zero()
                };
            });
            vec![Some(grad)]
        })
    }

    /// `e^x` elementwise, like `torch.exp` (ExpBackward0).
    ///
    /// ```
    /// let x = blocks_core::Tensor64::from_vec(vec![0.0, 1.0], [2]);
    /// assert_eq!(x.exp().to_vec(), vec![1.0, std::f64::consts::E]);
    /// ```
    pub fn exp(&self) -> Self {
        let data = self.data().mapv(E::exp);
        TensorBase::from_op(data, "ExpBackward0", &[self], |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.output()).for_each(|g, &y| *g *= y);
            vec![Some(grad)]
        })
    }

    /// The natural logarithm elementwise, like `torch.log` (LogBackward0).
    ///
    /// Negative values give NaN and 0 gives `-inf`, as in PyTorch.
    ///
    /// ```
    /// let x = blocks_core::Tensor64::from_vec(vec![1.0, std::f64::consts::E], [2]);
    /// assert_eq!(x.log().to_vec(), vec![0.0, 1.0]);
    /// ```
    pub fn log(&self) -> Self {
        let data = self.data().mapv(E::ln);
        TensorBase::from_op(data, "LogBackward0", &[self], |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| *g /= x);
            vec![Some(grad)]
        })
    }

    /// The square root elementwise, like `torch.sqrt` (SqrtBackward0).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![4.0, 9.0], [2]).requires_grad_(true);
    /// let y = x.sqrt();
    /// assert_eq!(y.to_vec(), vec![2.0, 3.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![0.25, 1.0 / 6.0]);
    /// ```
    pub fn sqrt(&self) -> Self {
        let data = self.data().mapv(E::sqrt);
        TensorBase::from_op(data, "SqrtBackward0", &[self], |mut grad, ctx| {
            let two = E::one() + E::one();
            Zip::from(&mut grad).and(&*ctx.output()).for_each(|g, &y| *g /= two * y);
            vec![Some(grad)]
        })
    }

    /// `x^exponent` elementwise for a float exponent, like `x.pow(2.5)` (PowBackward0).
    ///
    /// As in PyTorch, the gradient is `exponent · x^(exponent − 1)`, and exactly
    /// zero when `exponent` is 0.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![4.0, 9.0], [2]).requires_grad_(true);
    /// let y = x.powf(1.5);
    /// assert_eq!(y.to_vec(), vec![8.0, 27.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![3.0, 4.5]);
    /// ```
    pub fn powf(&self, exponent: E) -> Self {
        let data = self.data().mapv(|x| x.powf(exponent));
        TensorBase::from_op(data, "PowBackward0", &[self], move |mut grad, ctx| {
            if exponent == E::zero() {
                grad.fill(E::zero());
            } else {
                let lowered = exponent - E::one();
                Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| *g *= exponent * x.powf(lowered));
            }
            vec![Some(grad)]
        })
    }

    /// `x^exponent` elementwise for an integer exponent, like `x.pow(2)` (PowBackward0).
    ///
    /// As in PyTorch, the gradient is `exponent · x^(exponent − 1)`, and exactly
    /// zero when `exponent` is 0.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![-3.0, 2.0], [2]).requires_grad_(true);
    /// let y = x.powi(2);
    /// assert_eq!(y.to_vec(), vec![9.0, 4.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![-6.0, 4.0]);
    /// ```
    pub fn powi(&self, exponent: i32) -> Self {
        let data = self.data().mapv(|x| x.powi(exponent));
        TensorBase::from_op(data, "PowBackward0", &[self], move |mut grad, ctx| {
            if exponent == 0 {
                grad.fill(E::zero());
            } else {
                let factor = E::from_i32(exponent).expect("an i32 fits in a float");
                let power = |x: E| match exponent.checked_sub(1) {
                    Some(lowered) => x.powi(lowered),
                    None => x.powf(factor - E::one()),
                };
                Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| *g *= factor * power(x));
            }
            vec![Some(grad)]
        })
    }
}
