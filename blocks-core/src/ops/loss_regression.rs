//! The elementwise regression losses with PyTorch's `reduction`:
//! `mse_loss_with`, `l1_loss`, `smooth_l1_loss` (`beta`) and `huber_loss`
//! (`delta`). Input and target have one shape and both get a gradient.

use ndarray::{ArrayD, Zip};

use super::loss_options::{HuberOptions, Reduction, SmoothL1Options, element, reduce, spread};
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

/// A loss of `(input, target)` pairs: its value and its derivative by the input
/// (the target's is the negative), and PyTorch's grad_fn names for `none`, `mean`, `sum`.
struct Pointwise<F, D> {
    op: &'static str,
    names: [&'static str; 3],
    value: F,
    derivative: D,
}

/// `loss` applied to `input` and `target` elementwise and reduced.
fn pointwise<E, F, D>(
    input: &TensorBase<E>,
    target: &TensorBase<E>,
    reduction: Reduction,
    loss: Pointwise<F, D>,
) -> Result<TensorBase<E>, ShapeError>
where
    E: Element,
    F: Fn(E) -> E,
    D: Fn(E) -> E + Send + Sync + 'static,
{
    let Pointwise { op, names, value, derivative } = loss;
    let data = {
        let (x, t) = (input.data(), target.data());
        if x.shape() != t.shape() {
            return Err(ShapeError::new(format!(
                "{op}: input {:?} and target {:?} must have the same shape",
                x.shape(),
                t.shape()
            )));
        }
        reduce(Zip::from(&*x).and(&*t).map_collect(|&x, &t| value(x - t)), reduction)
    };
    let name = match reduction {
        Reduction::None => names[0],
        Reduction::Mean => names[1],
        Reduction::Sum => names[2],
    };
    Ok(TensorBase::from_op(data, name, &[input, target], move |grad, ctx| {
        let (x, t) = (ctx.input(0), ctx.input(1));
        let g: ArrayD<E> = spread(grad, reduction, x.shape());
        let d_input = Zip::from(&g).and(&*x).and(&*t).map_collect(|&g, &x, &t| g * derivative(x - t));
        let d_target = ctx.needs(1).then(|| d_input.mapv(|v| -v));
        vec![ctx.needs(0).then_some(d_input), d_target]
    }))
}

/// `sign(d)`, 0 at 0 as PyTorch's `sgn`.
fn sign<E: Element>(d: E) -> E {
    if d > E::zero() {
        E::one()
    } else if d < E::zero() {
        -E::one()
    } else {
        E::zero()
    }
}

impl<E: Element> TensorBase<E> {
    /// The squared error `(self − target)²` reduced by `reduction`, like
    /// `F.mse_loss(input, target, reduction=...)` (MseLossBackward0).
    ///
    /// # Panics
    /// When the shapes differ; see [`try_mse_loss_with`](Self::try_mse_loss_with).
    ///
    /// ```
    /// use blocks_core::{Reduction, Tensor};
    /// let x = Tensor::from_vec(vec![1.0, 2.0], [2]);
    /// assert_eq!(x.mse_loss_with(&Tensor::zeros([2]), Reduction::None).to_vec(), vec![1.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn mse_loss_with(&self, target: &Self, reduction: Reduction) -> Self {
        or_panic(self.try_mse_loss_with(target, reduction))
    }

    /// Like [`mse_loss_with`](Self::mse_loss_with), returning an error when the shapes differ.
    ///
    /// # Errors
    /// A [`ShapeError`] naming both shapes.
    ///
    /// ```
    /// use blocks_core::{Reduction, Tensor};
    /// assert!(Tensor::zeros([2]).try_mse_loss_with(&Tensor::zeros([3]), Reduction::Sum).is_err());
    /// ```
    pub fn try_mse_loss_with(&self, target: &Self, reduction: Reduction) -> Result<Self, ShapeError> {
        let two = E::one() + E::one();
        let loss = Pointwise {
            op: "mse_loss",
            names: ["MseLossBackward0"; 3],
            value: |d: E| d * d,
            derivative: move |d: E| two * d,
        };
        pointwise(self, target, reduction, loss)
    }

    /// The absolute error `|self − target|` reduced by `reduction`, like
    /// `F.l1_loss(input, target, reduction=...)` (AbsBackward0, MeanBackward0
    /// or SumBackward0, as PyTorch records it). The gradient at equal values is 0.
    ///
    /// # Panics
    /// When the shapes differ; see [`try_l1_loss`](Self::try_l1_loss).
    ///
    /// ```
    /// use blocks_core::{Reduction, Tensor};
    /// let x = Tensor::from_vec(vec![1.0, -3.0], [2]);
    /// assert_eq!(x.l1_loss(&Tensor::zeros([2]), Reduction::Mean).item(), 2.0);
    /// ```
    #[track_caller]
    pub fn l1_loss(&self, target: &Self, reduction: Reduction) -> Self {
        or_panic(self.try_l1_loss(target, reduction))
    }

    /// Like [`l1_loss`](Self::l1_loss), returning an error when the shapes differ.
    ///
    /// # Errors
    /// A [`ShapeError`] naming both shapes.
    ///
    /// ```
    /// use blocks_core::{Reduction, Tensor};
    /// let error = Tensor::zeros([2]).try_l1_loss(&Tensor::zeros([3]), Reduction::Mean).unwrap_err();
    /// assert_eq!(error.to_string(), "l1_loss: input [2] and target [3] must have the same shape");
    /// ```
    pub fn try_l1_loss(&self, target: &Self, reduction: Reduction) -> Result<Self, ShapeError> {
        let loss = Pointwise {
            op: "l1_loss",
            names: ["AbsBackward0", "MeanBackward0", "SumBackward0"],
            value: |d: E| d.abs(),
            derivative: sign,
        };
        pointwise(self, target, reduction, loss)
    }

    /// The smooth L1 loss, quadratic (`0.5·d²/β`) where `|d| < β` and linear
    /// (`|d| − 0.5·β`) beyond, like `F.smooth_l1_loss(input, target,
    /// reduction=..., beta=...)` (SmoothL1LossBackward0). `β = 0` is
    /// [`l1_loss`](Self::l1_loss), named as it is.
    ///
    /// # Panics
    /// When the shapes differ or `beta` is negative; see [`try_smooth_l1_loss`](Self::try_smooth_l1_loss).
    ///
    /// ```
    /// use blocks_core::{SmoothL1Options, Tensor};
    /// let x = Tensor::from_vec(vec![0.5, 3.0], [2]);
    /// let losses = x.smooth_l1_loss(&Tensor::zeros([2]), SmoothL1Options { reduction: blocks_core::Reduction::None, beta: 1.0 });
    /// assert_eq!(losses.to_vec(), vec![0.125, 2.5]);
    /// ```
    #[track_caller]
    pub fn smooth_l1_loss(&self, target: &Self, options: SmoothL1Options) -> Self {
        or_panic(self.try_smooth_l1_loss(target, options))
    }

    /// Like [`smooth_l1_loss`](Self::smooth_l1_loss), returning an error instead of panicking.
    ///
    /// # Errors
    /// A [`ShapeError`] naming both shapes, or PyTorch's message for a negative `beta`.
    ///
    /// ```
    /// use blocks_core::{SmoothL1Options, Tensor};
    /// let options = SmoothL1Options { beta: -1.0, ..Default::default() };
    /// let error = Tensor::zeros([2]).try_smooth_l1_loss(&Tensor::zeros([2]), options).unwrap_err();
    /// assert_eq!(error.to_string(), "smooth_l1_loss: smooth_l1_loss does not support negative values for beta.");
    /// ```
    pub fn try_smooth_l1_loss(&self, target: &Self, options: SmoothL1Options) -> Result<Self, ShapeError> {
        if options.beta.is_nan() || options.beta < 0.0 {
            return Err(ShapeError::new(
                "smooth_l1_loss: smooth_l1_loss does not support negative values for beta.",
            ));
        }
        if options.beta == 0.0 {
            // PyTorch hands beta = 0 to l1_loss, and records its grad_fn names.
            return self.try_l1_loss(target, options.reduction);
        }
        let beta: E = element(options.beta);
        let half: E = element(0.5);
        let loss = Pointwise {
            op: "smooth_l1_loss",
            names: ["SmoothL1LossBackward0"; 3],
            value: move |d: E| if d.abs() < beta { half * d * d / beta } else { d.abs() - half * beta },
            derivative: move |d: E| if d.abs() < beta { d / beta } else { sign(d) },
        };
        pointwise(self, target, options.reduction, loss)
    }

    /// The Huber loss, quadratic (`0.5·d²`) where `|d| < δ` and linear
    /// (`δ·(|d| − 0.5·δ)`) beyond, like `F.huber_loss(input, target,
    /// reduction=..., delta=...)` (HuberLossBackward0).
    ///
    /// # Panics
    /// When the shapes differ or `delta` is not positive; see [`try_huber_loss`](Self::try_huber_loss).
    ///
    /// ```
    /// use blocks_core::{HuberOptions, Reduction, Tensor};
    /// let x = Tensor::from_vec(vec![0.5, 3.0], [2]);
    /// let losses = x.huber_loss(&Tensor::zeros([2]), HuberOptions { reduction: Reduction::None, delta: 2.0 });
    /// assert_eq!(losses.to_vec(), vec![0.125, 4.0]);
    /// ```
    #[track_caller]
    pub fn huber_loss(&self, target: &Self, options: HuberOptions) -> Self {
        or_panic(self.try_huber_loss(target, options))
    }

    /// Like [`huber_loss`](Self::huber_loss), returning an error instead of panicking.
    ///
    /// # Errors
    /// A [`ShapeError`] naming both shapes, or PyTorch's message for a `delta` that is not positive.
    ///
    /// ```
    /// use blocks_core::{HuberOptions, Tensor};
    /// let options = HuberOptions { delta: 0.0, ..Default::default() };
    /// let error = Tensor::zeros([2]).try_huber_loss(&Tensor::zeros([2]), options).unwrap_err();
    /// assert_eq!(error.to_string(), "huber_loss: huber_loss does not support non-positive values for delta.");
    /// ```
    pub fn try_huber_loss(&self, target: &Self, options: HuberOptions) -> Result<Self, ShapeError> {
        if options.delta.is_nan() || options.delta <= 0.0 {
            return Err(ShapeError::new(
                "huber_loss: huber_loss does not support non-positive values for delta.",
            ));
        }
        let delta: E = element(options.delta);
        let half: E = element(0.5);
        let loss = Pointwise {
            op: "huber_loss",
            names: ["HuberLossBackward0"; 3],
            value: move |d: E| if d.abs() < delta { half * d * d } else { delta * (d.abs() - half * delta) },
            derivative: move |d: E| if d.abs() < delta { d } else { delta * sign(d) },
        };
        pointwise(self, target, options.reduction, loss)
    }
}

#[cfg(test)]
mod tests {
    use crate::{HuberOptions, Reduction, SmoothL1Options, Tensor64, gradcheck};

    fn pair() -> [Tensor64; 2] {
        let x = Tensor64::from_vec(vec![0.3, -1.7, 2.2, 0.05, -0.4, 1.0], [2, 3]).requires_grad_(true);
        let t = Tensor64::from_vec(vec![0.1, 0.4, -0.6, 0.0, -0.45, 3.1], [2, 3]).requires_grad_(true);
        [x, t]
    }

    #[test]
    fn regression_losses_pass_gradcheck_for_every_reduction() {
        for reduction in [Reduction::None, Reduction::Mean, Reduction::Sum] {
            gradcheck(|t| t[0].mse_loss_with(&t[1], reduction), &pair()).unwrap();
            gradcheck(|t| t[0].l1_loss(&t[1], reduction), &pair()).unwrap();
            for beta in [0.0, 0.5, 1.0] {
                let options = SmoothL1Options { reduction, beta };
                gradcheck(|t| t[0].smooth_l1_loss(&t[1], options), &pair()).unwrap();
            }
            for delta in [0.3, 1.0, 2.5] {
                let options = HuberOptions { reduction, delta };
                gradcheck(|t| t[0].huber_loss(&t[1], options), &pair()).unwrap();
            }
        }
    }

    #[test]
    fn names_follow_pytorch() {
        let [x, t] = pair();
        assert_eq!(x.l1_loss(&t, Reduction::None).grad_fn(), Some("AbsBackward0"));
        assert_eq!(x.l1_loss(&t, Reduction::Mean).grad_fn(), Some("MeanBackward0"));
        assert_eq!(x.l1_loss(&t, Reduction::Sum).grad_fn(), Some("SumBackward0"));
        assert_eq!(x.mse_loss_with(&t, Reduction::None).grad_fn(), Some("MseLossBackward0"));
        assert_eq!(x.smooth_l1_loss(&t, SmoothL1Options::default()).grad_fn(), Some("SmoothL1LossBackward0"));
        assert_eq!(x.huber_loss(&t, HuberOptions::default()).grad_fn(), Some("HuberLossBackward0"));
        assert_eq!(x.mse_loss_with(&t, Reduction::Mean).item(), x.mse_loss(&t).item());
    }

    #[test]
    fn the_mean_of_nothing_is_nan() {
        let empty = Tensor64::zeros([0]);
        assert!(empty.l1_loss(&empty, Reduction::Mean).item().is_nan());
        assert_eq!(empty.l1_loss(&empty, Reduction::Sum).item(), 0.0);
    }
}
