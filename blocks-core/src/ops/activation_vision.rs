//! The activations of mobile vision nets and their kin: hardswish,
//! hardsigmoid, mish and prelu (a learned slope per channel), each with
//! PyTorch's formula at the kinks and its grad_fn name.

use ndarray::{ArrayD, IxDyn, Zip};

use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// `x · relu6(x + 3) / 6`, like `torch.nn.functional.hardswish` (HardswishBackward0).
    ///
    /// The gradient is 0 for `x ≤ −3`, `x / 3 + ½` between, and 1 for `x ≥ 3`, as PyTorch has it.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![-4.0, 0.0, 1.5, 4.0], [4]);
    /// assert_eq!(x.hardswish().to_vec(), vec![0.0, 0.0, 1.125, 4.0]);
    /// ```
    pub fn hardswish(&self) -> Self {
        let (three, six) = (E::of(3.0), E::of(6.0));
        let data = self.data().mapv(|x| x * (x + three).max(E::zero()).min(six) / six);
        TensorBase::from_op(data, "HardswishBackward0", &[self], move |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| {
                *g = if x <= -three {
                    E::zero()
                } else if x < three {
                    *g * (x / three + E::of(0.5))
                } else {
                    *g
                };
            });
            vec![Some(grad)]
        })
    }

    /// `relu6(x + 3) / 6`, like `torch.nn.functional.hardsigmoid` (HardsigmoidBackward0).
    ///
    /// The gradient is `1/6` strictly between −3 and 3, else 0.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![-4.0, 0.0, 1.5, 4.0], [4]);
    /// assert_eq!(x.hardsigmoid().to_vec(), vec![0.0, 0.5, 0.75, 1.0]);
    /// ```
    pub fn hardsigmoid(&self) -> Self {
        let (three, six) = (E::of(3.0), E::of(6.0));
        let data = self.data().mapv(|x| (x + three).max(E::zero()).min(six) / six);
        TensorBase::from_op(data, "HardsigmoidBackward0", &[self], move |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| {
                *g = if x > -three && x < three { *g / six } else { E::zero() };
            });
            vec![Some(grad)]
        })
    }

    /// `x · tanh(softplus(x))` with `softplus(x) = ln(1 + eˣ)`, like
    /// `torch.nn.functional.mish` (MishBackward0).
    ///
    /// ```
    /// let x = blocks_core::Tensor64::from_vec(vec![0.0, 1.0], [2]);
    /// assert_eq!(x.mish().to_vec(), vec![0.0, (1.0f64.exp().ln_1p()).tanh()]);
    /// ```
    pub fn mish(&self) -> Self {
        let data = self.data().mapv(|x| x * x.exp().ln_1p().tanh());
        TensorBase::from_op(data, "MishBackward0", &[self], |mut grad, ctx| {
            Zip::from(&mut grad).and(&*ctx.input(0)).for_each(|g, &x| {
                let t = x.exp().ln_1p().tanh();
                let s = E::one() / (E::one() + (-x).exp());
                *g *= t + x * s * (E::one() - t * t);
            });
            vec![Some(grad)]
        })
    }

    /// `x` where `x > 0`, else `weight · x`, with one slope for every
    /// element (`weight` of one element) or one per channel (dim 1; `weight`
    /// `[C]`), like `torch.nn.functional.prelu` (PreluKernelBackward0).
    ///
    /// # Panics
    /// When `weight` has neither one element nor one per channel (see [`try_prelu`](Self::try_prelu)).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![-1.0, 2.0, -3.0, 4.0], [2, 2]);
    /// let w = Tensor::from_vec(vec![0.5, 0.25], [2]);
    /// assert_eq!(x.prelu(&w).to_vec(), vec![-0.5, 2.0, -1.5, 4.0]);
    /// ```
    #[track_caller]
    pub fn prelu(&self, weight: &Self) -> Self {
        or_panic(self.try_prelu(weight))
    }

    /// Like [`prelu`](Self::prelu), returning an error when the weight does not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] with PyTorch's message when `weight` has neither one
    /// element nor as many as the input's channels (dim 1; 1 for inputs of fewer than 2 dims).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let err = Tensor::zeros([2, 4]).try_prelu(&Tensor::zeros([3])).unwrap_err();
    /// assert!(err.to_string().contains("Found parameter numbers = 3 and channel size = 4"));
    /// ```
    pub fn try_prelu(&self, weight: &Self) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let channels = if shape.len() >= 2 { shape[1] } else { 1 };
        let count = weight.numel();
        if weight.shape().len() > 1 || (count != 1 && count != channels) {
            return Err(ShapeError::new(format!(
                "prelu: input {shape:?}, weight {:?}: Mismatch of parameter numbers and input channel size. \
                 Found parameter numbers = {count} and channel size = {channels}.",
                weight.shape()
            )));
        }
        // The slope of each element: its channel's, or the one.
        let inner: usize = shape.iter().skip(2).product();
        let slope =
            move |index: usize, w: &[E]| if count == 1 { w[0] } else { w[index / inner.max(1) % channels] };
        let w = weight.to_vec();
        let x = self.data();
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let data: Vec<E> =
            xs.iter().enumerate().map(|(i, &v)| if v > E::zero() { v } else { slope(i, &w) * v }).collect();
        let data = ArrayD::from_shape_vec(IxDyn(&shape), data).expect("input size");
        let w_shape = weight.shape();
        Ok(TensorBase::from_op(data, "PreluKernelBackward0", &[self, weight], move |grad, ctx| {
            let grad = grad.as_standard_layout();
            let gs = grad.as_slice().expect("standard layout");
            let x = ctx.input(0);
            let x = x.as_standard_layout();
            let xs = x.as_slice().expect("standard layout");
            let w = ctx.input(1).iter().copied().collect::<Vec<E>>();
            let dx = ctx.needs(0).then(|| {
                let dx: Vec<E> = gs
                    .iter()
                    .zip(xs)
                    .enumerate()
                    .map(|(i, (&g, &v))| if v > E::zero() { g } else { slope(i, &w) * g })
                    .collect();
                ArrayD::from_shape_vec(IxDyn(x.shape()), dx).expect("input size")
            });
            let dw = ctx.needs(1).then(|| {
                let mut dw = vec![E::zero(); count];
                for (i, (&g, &v)) in gs.iter().zip(xs).enumerate() {
                    if v <= E::zero() {
                        let at = if count == 1 { 0 } else { i / inner.max(1) % channels };
                        dw[at] += g * v;
                    }
                }
                ArrayD::from_shape_vec(IxDyn(&w_shape), dw).expect("weight size")
            });
            vec![dx, dw]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    /// Values away from the kinks (−3, 0, 3), where the finite differences hold.
    fn away_from_kinks(shape: &[usize], seed: usize) -> Tensor64 {
        let len = shape.iter().product();
        let values = (0..len)
            .map(|i| {
                let v = ((i * 7919 + seed * 104_729) % 2001) as f64 / 250.0 - 4.0;
                if (v.abs() - 3.0).abs() < 0.05 || v.abs() < 0.05 { v + 0.1 } else { v }
            })
            .collect();
        Tensor64::from_vec(values, shape).requires_grad_(true)
    }

    #[test]
    fn activations_gradcheck_in_float64() {
        let x = away_from_kinks(&[3, 4, 5], 1);
        for (name, f) in [
            ("hardswish", Tensor64::hardswish as fn(&Tensor64) -> Tensor64),
            ("hardsigmoid", Tensor64::hardsigmoid),
            ("mish", Tensor64::mish),
        ] {
            gradcheck(|t| (&f(&t[0]) * &t[0]).sum(), std::slice::from_ref(&x))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let y = x.hardswish();
        assert_eq!(y.grad_fn(), Some("HardswishBackward0"));
        assert_eq!(x.hardsigmoid().grad_fn(), Some("HardsigmoidBackward0"));
        assert_eq!(x.mish().grad_fn(), Some("MishBackward0"));
    }

    #[test]
    fn prelu_gradcheck_with_one_and_per_channel_slopes() {
        let x = away_from_kinks(&[2, 3, 4], 2);
        for w in [Tensor64::from_vec(vec![0.25], [1]), Tensor64::from_vec(vec![0.1, -0.5, 2.0], [3])] {
            let w = w.requires_grad_(true);
            let inputs = [x.clone(), w];
            gradcheck(|t| (&t[0].prelu(&t[1]) * &t[0]).sum(), &inputs).unwrap();
            assert_eq!(inputs[0].prelu(&inputs[1]).grad_fn(), Some("PreluKernelBackward0"));
        }
        let flat = away_from_kinks(&[5], 3);
        let w = Tensor64::from_vec(vec![0.3], [1]).requires_grad_(true);
        gradcheck(|t| (&t[0].prelu(&t[1]) * &t[0]).sum(), &[flat, w]).unwrap();
    }
}
