//! The losses between distributions, with PyTorch's options:
//! `binary_cross_entropy_with_logits` (`weight`, `pos_weight`) and `kl_div`
//! (`log_target`, `"batchmean"`).

use ndarray::{ArrayD, IxDyn, Zip};

use super::loss_options::{BceWithLogitsOptions, KlDivOptions, KlDivReduction, Reduction, reduce, spread};
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

/// `ln(1 + e^(−x))`, computed without overflow.
fn softplus_of_negative<E: Element>(x: E) -> E {
    (-x.abs()).exp().ln_1p() + (-x).max(E::zero())
}

/// `1 / (1 + e^(−x))`, computed without overflow.
fn sigmoid<E: Element>(x: E) -> E {
    if x >= E::zero() {
        E::one() / (E::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (E::one() + e)
    }
}

/// `option`'s values broadcast to `shape` (all ones when absent), or an
/// error naming the option and both shapes.
fn broadcast_option<E: Element>(
    name: &str,
    option: Option<&TensorBase<E>>,
    shape: &[usize],
) -> Result<ArrayD<E>, ShapeError> {
    let Some(option) = option else { return Ok(ArrayD::from_elem(IxDyn(shape), E::one())) };
    let values = option.data();
    let spread = values.broadcast(IxDyn(shape)).ok_or_else(|| {
        ShapeError::new(format!(
            "binary_cross_entropy_with_logits: {name} {:?} cannot be broadcast to the input's shape {shape:?}",
            values.shape()
        ))
    })?;
    Ok(spread.to_owned())
}

impl<E: Element> TensorBase<E> {
    /// The binary cross-entropy of logits `self` against targets in `[0, 1]`,
    /// like `F.binary_cross_entropy_with_logits(input, target, weight=...,
    /// reduction=..., pos_weight=...)` (BinaryCrossEntropyWithLogitsBackward0):
    /// per element `−w·(p·t·ln σ(x) + (1 − t)·ln(1 − σ(x)))` with `w` the weight
    /// and `p` the positive weight, computed stably for any logits. Input and
    /// target get a gradient; the weights do not.
    ///
    /// # Panics
    /// When the target's shape differs from the input's or a weight does not
    /// broadcast to it; see [`try_binary_cross_entropy_with_logits`](Self::try_binary_cross_entropy_with_logits).
    ///
    /// ```
    /// use blocks_core::{BceWithLogitsOptions, Tensor};
    /// let logits = Tensor::zeros([2]);
    /// let target = Tensor::from_vec(vec![1.0, 0.0], [2]);
    /// let loss = logits.binary_cross_entropy_with_logits(&target, &BceWithLogitsOptions::default());
    /// assert!((loss.item() - 2f32.ln()).abs() < 1e-7);
    /// ```
    #[track_caller]
    pub fn binary_cross_entropy_with_logits(&self, target: &Self, options: &BceWithLogitsOptions<E>) -> Self {
        or_panic(self.try_binary_cross_entropy_with_logits(target, options))
    }

    /// Like [`binary_cross_entropy_with_logits`](Self::binary_cross_entropy_with_logits),
    /// returning an error instead of panicking.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the shapes.
    ///
    /// ```
    /// use blocks_core::{BceWithLogitsOptions, Tensor};
    /// let options = BceWithLogitsOptions::default();
    /// let error = Tensor::zeros([2, 1]).try_binary_cross_entropy_with_logits(&Tensor::zeros([2]), &options).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "binary_cross_entropy_with_logits: Target size [2] must be the same as input size [2, 1]"
    /// );
    /// ```
    pub fn try_binary_cross_entropy_with_logits(
        &self,
        target: &Self,
        options: &BceWithLogitsOptions<E>,
    ) -> Result<Self, ShapeError> {
        let shape = self.shape();
        if target.shape() != shape {
            return Err(ShapeError::new(format!(
                "binary_cross_entropy_with_logits: Target size {:?} must be the same as input size {shape:?}",
                target.shape()
            )));
        }
        let weight = broadcast_option("weight", options.weight.as_ref(), &shape)?;
        let pos_weight = broadcast_option("pos_weight", options.pos_weight.as_ref(), &shape)?;
        let reduction = options.reduction;
        let data = {
            let (x, t) = (self.data(), target.data());
            let losses =
                Zip::from(&*x).and(&*t).and(&weight).and(&pos_weight).map_collect(|&x, &t, &w, &p| {
                    let log_weight = E::one() + (p - E::one()) * t;
                    w * ((E::one() - t) * x + log_weight * softplus_of_negative(x))
                });
            reduce(losses, reduction)
        };
        let name = "BinaryCrossEntropyWithLogitsBackward0";
        Ok(TensorBase::from_op(data, name, &[self, target], move |grad, ctx| {
            let (x, t) = (ctx.input(0), ctx.input(1));
            let g = spread(grad, reduction, x.shape());
            let d_input = ctx.needs(0).then(|| {
                Zip::from(&g).and(&*x).and(&*t).and(&weight).and(&pos_weight).map_collect(
                    |&g, &x, &t, &w, &p| {
                        let log_weight = E::one() + (p - E::one()) * t;
                        g * w * (log_weight * sigmoid(x) - p * t)
                    },
                )
            });
            let d_target = ctx.needs(1).then(|| {
                Zip::from(&g)
                    .and(&*x)
                    .and(&weight)
                    .and(&pos_weight)
                    .map_collect(|&g, &x, &w, &p| g * w * ((p - E::one()) * softplus_of_negative(x) - x))
            });
            vec![d_input, d_target]
        }))
    }

    /// The Kullback–Leibler divergence of the target distribution from the
    /// input's, with the input as log-probabilities, like `F.kl_div(input,
    /// target, reduction=..., log_target=...)`: per element `t·(ln t − x)`
    /// (0 where `t = 0`), or `e^t·(t − x)` with `log_target`. Both get a
    /// gradient. The grad_fn is PyTorch's last step: SubBackward0 (MulBackward0
    /// with `log_target`) for `none`, MeanBackward0, SumBackward0, or
    /// DivBackward0 for `"batchmean"` (the sum over the size of dim 0).
    ///
    /// # Panics
    /// When the shapes differ; see [`try_kl_div`](Self::try_kl_div).
    ///
    /// ```
    /// use blocks_core::{KlDivOptions, Tensor};
    /// let log_q = Tensor::from_vec(vec![0.25f32.ln(), 0.75f32.ln()], [2]);
    /// let p = Tensor::from_vec(vec![0.5, 0.5], [2]);
    /// let options = KlDivOptions { reduction: blocks_core::KlDivReduction::Sum, ..Default::default() };
    /// let expected = 0.5 * (0.5f32 / 0.25).ln() + 0.5 * (0.5f32 / 0.75).ln();
    /// assert!((log_q.kl_div(&p, options).item() - expected).abs() < 1e-6);
    /// ```
    #[track_caller]
    pub fn kl_div(&self, target: &Self, options: KlDivOptions) -> Self {
        or_panic(self.try_kl_div(target, options))
    }

    /// Like [`kl_div`](Self::kl_div), returning an error when the shapes differ.
    ///
    /// # Errors
    /// A [`ShapeError`] naming both shapes.
    ///
    /// ```
    /// use blocks_core::{KlDivOptions, Tensor};
    /// assert!(Tensor::zeros([2]).try_kl_div(&Tensor::zeros([3]), KlDivOptions::default()).is_err());
    /// ```
    pub fn try_kl_div(&self, target: &Self, options: KlDivOptions) -> Result<Self, ShapeError> {
        let shape = self.shape();
        if target.shape() != shape {
            return Err(ShapeError::new(format!(
                "kl_div: input {shape:?} and target {:?} must have the same shape",
                target.shape()
            )));
        }
        let log_target = options.log_target;
        // "batchmean" is a sum divided by the batch size.
        let (reduction, divisor, name) = match options.reduction {
            KlDivReduction::None => {
                (Reduction::None, E::one(), if log_target { "MulBackward0" } else { "SubBackward0" })
            }
            KlDivReduction::Mean => (Reduction::Mean, E::one(), "MeanBackward0"),
            KlDivReduction::Sum => (Reduction::Sum, E::one(), "SumBackward0"),
            KlDivReduction::BatchMean => {
                let batch = shape.first().copied().unwrap_or(1);
                (Reduction::Sum, E::from_usize(batch).expect("count fits"), "DivBackward0")
            }
        };
        let data = {
            let (x, t) = (self.data(), target.data());
            let losses = Zip::from(&*x).and(&*t).map_collect(|&x, &t| {
                if log_target {
                    t.exp() * (t - x)
                } else {
                    let t_log_t = if t == E::zero() { E::zero() } else { t * t.ln() };
                    t_log_t - t * x
                }
            });
            reduce(losses, reduction).mapv(|v| v / divisor)
        };
        Ok(TensorBase::from_op(data, name, &[self, target], move |grad, ctx| {
            let (x, t) = (ctx.input(0), ctx.input(1));
            let g = spread(grad, reduction, x.shape()).mapv(|g| g / divisor);
            let d_input = ctx.needs(0).then(|| {
                Zip::from(&g).and(&*t).map_collect(|&g, &t| -g * if log_target { t.exp() } else { t })
            });
            let d_target = ctx.needs(1).then(|| {
                Zip::from(&g).and(&*x).and(&*t).map_collect(|&g, &x, &t| {
                    if log_target { g * t.exp() * (t - x + E::one()) } else { g * (t.ln() + E::one() - x) }
                })
            });
            vec![d_input, d_target]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{BceWithLogitsOptions, KlDivOptions, KlDivReduction, Reduction, Tensor64, gradcheck};

    fn logits() -> Tensor64 {
        Tensor64::from_vec(vec![0.3, -1.7, 2.2, 0.05, -0.4, 1.0], [2, 3]).requires_grad_(true)
    }

    fn probabilities() -> Tensor64 {
        Tensor64::from_vec(vec![0.1, 0.6, 0.3, 0.25, 0.7, 0.05], [2, 3]).requires_grad_(true)
    }

    #[test]
    fn bce_with_logits_passes_gradcheck_with_weights() {
        let weight = Tensor64::from_vec(vec![0.5, 2.0], [2, 1]);
        let pos_weight = Tensor64::from_vec(vec![1.0, 3.0, 0.2], [3]);
        for reduction in [Reduction::None, Reduction::Mean, Reduction::Sum] {
            for (w, p) in [
                (None, None),
                (Some(weight.clone()), None),
                (None, Some(pos_weight.clone())),
                (Some(weight.clone()), Some(pos_weight.clone())),
            ] {
                let options = BceWithLogitsOptions { weight: w, pos_weight: p, reduction };
                gradcheck(
                    |t| t[0].binary_cross_entropy_with_logits(&t[1], &options),
                    &[logits(), probabilities()],
                )
                .unwrap();
            }
        }
    }

    #[test]
    fn bce_with_logits_is_stable_for_large_logits() {
        let x = Tensor64::from_vec(vec![1000.0, -1000.0], [2]);
        let t = Tensor64::from_vec(vec![0.0, 1.0], [2]);
        let options = BceWithLogitsOptions { reduction: Reduction::None, ..Default::default() };
        assert_eq!(x.binary_cross_entropy_with_logits(&t, &options).to_vec(), vec![1000.0, 1000.0]);
    }

    #[test]
    fn kl_div_passes_gradcheck_for_every_reduction() {
        let log_q =
            || Tensor64::from_vec(vec![-1.2, -0.3, -2.0, -0.9, -1.5, -0.1], [2, 3]).requires_grad_(true);
        for reduction in
            [KlDivReduction::None, KlDivReduction::Mean, KlDivReduction::BatchMean, KlDivReduction::Sum]
        {
            for log_target in [false, true] {
                let options = KlDivOptions { reduction, log_target };
                let target = if log_target {
                    log_q().mul_scalar(0.5).detach().requires_grad_(true)
                } else {
                    probabilities()
                };
                gradcheck(|t| t[0].kl_div(&t[1], options), &[log_q(), target]).unwrap();
            }
        }
        let options = KlDivOptions { reduction: KlDivReduction::BatchMean, log_target: false };
        assert_eq!(log_q().kl_div(&probabilities(), options).grad_fn(), Some("DivBackward0"));
    }
}
