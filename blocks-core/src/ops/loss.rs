//! Loss functions with PyTorch's definitions and mean reduction: `mse_loss`,
//! `cross_entropy` (class indices or class probabilities) and `nll_loss`.
//!
//! The classification losses take the input as `[C]`, `[N, C]` or
//! `[N, C, d1, ..., dk]` (class dim 1, as in PyTorch) and average over the
//! `N·d1·…·dk` positions.

use ndarray::{Array3, ArrayD, Axis, CowArray, Ix3, IxDyn, Zip};

use super::loss_options::{CrossEntropyOptions, NllLossOptions};
use super::softmax::max_and_log_sum;
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

/// An input seen as `(outer, classes, inner)`: `[N, C, d1…dk]` is
/// `(N, C, d1·…·dk)` and `[C]` is `(1, C, 1)`.
#[derive(Clone, Copy)]
pub(super) struct ClassLayout {
    pub(super) outer: usize,
    pub(super) classes: usize,
    pub(super) inner: usize,
}

impl ClassLayout {
    pub(super) fn of(op: &str, shape: &[usize]) -> Result<Self, ShapeError> {
        match shape {
            [] => {
                Err(ShapeError::new(format!("{op}: input [] must have at least 1 dimension (the classes)")))
            }
            [classes] => Ok(ClassLayout { outer: 1, classes: *classes, inner: 1 }),
            [outer, classes, rest @ ..] => {
                Ok(ClassLayout { outer: *outer, classes: *classes, inner: rest.iter().product() })
            }
        }
    }

    /// The number of positions that get a loss (and the divisor of the mean).
    pub(super) fn positions(self) -> usize {
        self.outer * self.inner
    }

    pub(super) fn view<'a, E: Element>(self, array: &'a ArrayD<E>) -> CowArray<'a, E, Ix3> {
        array.to_shape((self.outer, self.classes, self.inner)).expect("layout has the element count")
    }
}

/// PyTorch's grad_fn name: 1-D and 2-D inputs go through `nll_loss`, others through `nll_loss2d`.
pub(super) fn nll_grad_fn(ndim: usize) -> &'static str {
    if ndim <= 2 { "NllLossBackward0" } else { "NllLoss2DBackward0" }
}

fn count<E: Element>(n: usize) -> E {
    E::from_usize(n).expect("count fits")
}

impl<E: Element> TensorBase<E> {
    /// The mean squared error `mean((self − target)²)`, like
    /// `F.mse_loss(input, target)` (MseLossBackward0).
    ///
    /// Both get a gradient. The shapes must be equal: PyTorch broadcasts
    /// different shapes with a warning, which is almost always a bug, so this
    /// panics naming both shapes instead.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let prediction = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]);
    /// let target = Tensor::from_vec(vec![1.0, 0.0, 0.0], [3]);
    /// assert_eq!(prediction.mse_loss(&target).item(), 13.0 / 3.0);
    /// ```
    #[track_caller]
    pub fn mse_loss(&self, target: &Self) -> Self {
        or_panic(self.try_mse_loss(target))
    }

    /// Like [`mse_loss`](Self::mse_loss), returning an error when the shapes differ.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::zeros([4, 1]).try_mse_loss(&Tensor::zeros([4])).unwrap_err();
    /// assert_eq!(error.to_string(), "mse_loss: input [4, 1] and target [4] must have the same shape");
    /// ```
    pub fn try_mse_loss(&self, target: &Self) -> Result<Self, ShapeError> {
        let value = {
            let (x, t) = (self.data(), target.data());
            if x.shape() != t.shape() {
                return Err(ShapeError::new(format!(
                    "mse_loss: input {:?} and target {:?} must have the same shape",
                    x.shape(),
                    t.shape()
                )));
            }
            let sum = Zip::from(&*x).and(&*t).fold(E::zero(), |s, &x, &t| s + (x - t) * (x - t));
            sum / count(x.len())
        };
        let data = ArrayD::from_elem(IxDyn(&[]), value);
        Ok(TensorBase::from_op(data, "MseLossBackward0", &[self, target], |grad, ctx| {
            let (x, t) = (ctx.input(0), ctx.input(1));
            let scale = (E::one() + E::one()) * grad[[]] / count(x.len());
            let d_input = Zip::from(&*x).and(&*t).map_collect(|&x, &t| scale * (x - t));
            let d_target = ctx.needs(1).then(|| d_input.mapv(|v| -v));
            vec![ctx.needs(0).then_some(d_input), d_target]
        }))
    }

    /// The cross-entropy of logits `self` against class indices, averaged over
    /// the batch, like `F.cross_entropy(input, target)` (NllLossBackward0).
    ///
    /// `self` is `[N, C]` with one target per row (also `[C]` with one target,
    /// or `[N, C, d1, ..., dk]` with the targets of shape `[N, d1, ..., dk]`
    /// flattened in row-major order, whose grad_fn is NllLoss2DBackward0 as in
    /// PyTorch). Log-softmax and the negative log-likelihood are fused: the
    /// forward is stable for any logits and the gradient is
    /// `(softmax(x) − onehot(target)) / N`. Panics on a wrong number of
    /// targets or a class index `>= C`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let logits = Tensor::zeros([4, 10]);
    /// let loss = logits.cross_entropy(&[0, 3, 9, 3]);
    /// assert!((loss.item() - 10f32.ln()).abs() < 1e-6);
    /// ```
    #[track_caller]
    pub fn cross_entropy(&self, targets: &[usize]) -> Self {
        or_panic(self.try_cross_entropy(targets))
    }

    /// Like [`cross_entropy`](Self::cross_entropy), returning an error on a
    /// wrong number of targets or a target out of range.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::zeros([2, 10]).try_cross_entropy(&[1, 10]).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "cross_entropy: target 10 at position 1 is out of bounds for 10 classes (input [2, 10])"
    /// );
    /// ```
    pub fn try_cross_entropy(&self, targets: &[usize]) -> Result<Self, ShapeError> {
        self.try_cross_entropy_with(&as_int64("cross_entropy", targets)?, &CrossEntropyOptions::default())
    }

    /// The negative log-likelihood of log-probabilities `self` at class
    /// indices, averaged over the batch, like `F.nll_loss(input, target)`
    /// (NllLossBackward0).
    ///
    /// Shapes and targets as in [`cross_entropy`](Self::cross_entropy), which
    /// equals `nll_loss` of [`log_softmax`](Self::log_softmax) over the class dim.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let log_probs = Tensor::from_vec(vec![-0.5, -1.0, -2.0, -0.25], [2, 2]);
    /// assert_eq!(log_probs.nll_loss(&[1, 1]).item(), (1.0 + 0.25) / 2.0);
    /// ```
    #[track_caller]
    pub fn nll_loss(&self, targets: &[usize]) -> Self {
        or_panic(self.try_nll_loss(targets))
    }

    /// Like [`nll_loss`](Self::nll_loss), returning an error on a wrong number
    /// of targets or a target out of range.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::zeros([4, 10]).try_nll_loss(&[1, 2, 3]).unwrap_err();
    /// assert!(error.to_string().starts_with("nll_loss: input [4, 10] and target [3] do not match"));
    /// ```
    pub fn try_nll_loss(&self, targets: &[usize]) -> Result<Self, ShapeError> {
        self.try_nll_loss_with(&as_int64("nll_loss", targets)?, &NllLossOptions::default())
    }

    /// The cross-entropy of logits `self` against class probabilities of the
    /// same shape, averaged over the batch, like `F.cross_entropy(input,
    /// target_probs)` (DivBackward1, PyTorch's last step `sum / N`).
    ///
    /// The loss is `−Σ target · log_softmax(self, 1) / N`, where `N` is the
    /// number of elements over `C` (class dim 1, or 0 for a 1-D input). Both
    /// inputs get a gradient. Panics when the shapes differ.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let logits = Tensor::zeros([2, 4]);
    /// let soft = Tensor::full([2, 4], 0.25);
    /// assert!((logits.cross_entropy_probs(&soft).item() - 4f32.ln()).abs() < 1e-6);
    /// ```
    #[track_caller]
    pub fn cross_entropy_probs(&self, target: &Self) -> Self {
        or_panic(self.try_cross_entropy_probs(target))
    }

    /// Like [`cross_entropy_probs`](Self::cross_entropy_probs), returning an
    /// error when the shapes differ.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::zeros([2, 4]).try_cross_entropy_probs(&Tensor::zeros([2, 3])).unwrap_err();
    /// assert!(error.to_string().starts_with("cross_entropy_probs: input [2, 4] and target [2, 3]"));
    /// ```
    pub fn try_cross_entropy_probs(&self, target: &Self) -> Result<Self, ShapeError> {
        let op = "cross_entropy_probs";
        let (data, layout, norms) = {
            let (x, t) = (self.data(), target.data());
            if x.shape() != t.shape() {
                return Err(ShapeError::new(format!(
                    "{op}: input {:?} and target {:?} must have the same shape (class probabilities)",
                    x.shape(),
                    t.shape()
                )));
            }
            let layout = ClassLayout::of(op, x.shape())?;
            let (x3, t3) = (layout.view(&x), layout.view(&t));
            let norms = Zip::from(x3.lanes(Axis(1))).map_collect(max_and_log_sum);
            let total = Zip::from(x3.lanes(Axis(1))).and(t3.lanes(Axis(1))).and(&norms).fold(
                E::zero(),
                |s, x, t, &(m, log_sum)| {
                    s + Zip::from(&x).and(&t).fold(E::zero(), |s, &x, &t| s + t * (log_sum - (x - m)))
                },
            );
            // PyTorch fills the loss of an empty input with NaN.
            let loss = if x.is_empty() { E::nan() } else { total / count(layout.positions()) };
            (ArrayD::from_elem(IxDyn(&[]), loss), layout, norms)
        };
        Ok(TensorBase::from_op(data, "DivBackward1", &[self, target], move |grad, ctx| {
            let (x, t) = (ctx.input(0), ctx.input(1));
            let (x3, t3) = (layout.view(&x), layout.view(&t));
            let scale = grad[[]] / count(layout.positions());
            let d_input = ctx.needs(0).then(|| {
                // d/dx = (softmax(x) · Σ t − t) / N
                let mut d = Array3::zeros((layout.outer, layout.classes, layout.inner));
                Zip::from(d.lanes_mut(Axis(1)))
                    .and(x3.lanes(Axis(1)))
                    .and(t3.lanes(Axis(1)))
                    .and(&norms)
                    .for_each(|mut d, x, t, &(m, log_sum)| {
                        let mass = t.sum();
                        Zip::from(&mut d)
                            .and(&x)
                            .and(&t)
                            .for_each(|d, &x, &t| *d = scale * ((x - m - log_sum).exp() * mass - t));
                    });
                into_input_shape(d, x.shape())
            });
            let d_target = ctx.needs(1).then(|| {
                // d/dt = −log_softmax(x) / N
                let mut d = Array3::zeros((layout.outer, layout.classes, layout.inner));
                Zip::from(d.lanes_mut(Axis(1))).and(x3.lanes(Axis(1))).and(&norms).for_each(
                    |mut d, x, &(m, log_sum)| {
                        Zip::from(&mut d).and(&x).for_each(|d, &x| *d = scale * (log_sum - (x - m)));
                    },
                );
                into_input_shape(d, t.shape())
            });
            vec![d_input, d_target]
        }))
    }
}

/// Class indices as the int64 targets of the losses with options.
fn as_int64(op: &str, targets: &[usize]) -> Result<Vec<i64>, ShapeError> {
    targets
        .iter()
        .map(|&t| {
            i64::try_from(t)
                .map_err(|_| ShapeError::new(format!("{op}: target {t} does not fit in an int64")))
        })
        .collect()
}

/// A gradient laid out as `(outer, classes, inner)`, back in the input's shape.
pub(super) fn into_input_shape<E: Element>(grad: Array3<E>, shape: &[usize]) -> ArrayD<E> {
    grad.into_shape_with_order(IxDyn(shape)).expect("same element count")
}
