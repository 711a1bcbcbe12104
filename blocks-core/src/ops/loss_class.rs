//! The class-index losses with all of PyTorch's options:
//! `cross_entropy_with` (class weights, `ignore_index`, `label_smoothing`,
//! `reduction`) and `nll_loss_with`, on int64 targets so that -100 works.
//!
//! Per position `i` with target `t ≠ ignore_index`, with `lp` the
//! log-probabilities (`log_softmax` of the input for cross-entropy, the input
//! itself for nll) and `w` the class weights (1 without), the parts are
//! `nll_i = −w[t]·lp[t]` and `smooth_i = −Σ_c w[c]·lp[c]`, and the loss is
//! `(1 − ε)·nll + ε/C·smooth`, reduced as PyTorch does: `"mean"` divides the
//! nll part by `Σ w[t_i]` over the kept positions and the smoothing part by
//! the same (with weights) or by the number of kept positions (without).

use ndarray::{Array3, ArrayD, Axis, IxDyn, Zip};

use super::loss::{ClassLayout, into_input_shape, nll_grad_fn};
use super::loss_options::{CrossEntropyOptions, NllLossOptions, Reduction};
use super::softmax::max_and_log_sum;
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

/// Checks that `targets` holds one class index below `C` (or `ignore_index`)
/// per position, and gives them as class numbers (`None` where ignored).
pub(super) fn class_targets(
    op: &str,
    shape: &[usize],
    layout: ClassLayout,
    targets: &[i64],
    ignore_index: i64,
) -> Result<Vec<Option<usize>>, ShapeError> {
    let expected = layout.positions();
    if targets.len() != expected {
        let target_shape: Vec<usize> = match shape {
            [_] => vec![],
            [n, _, rest @ ..] => std::iter::once(*n).chain(rest.iter().copied()).collect(),
            [] => unreachable!("the layout refused a 0-d input"),
        };
        return Err(ShapeError::new(format!(
            "{op}: input {shape:?} and target [{}] do not match: expected {expected} class indices \
             (a target of shape {target_shape:?}, flattened)",
            targets.len()
        )));
    }
    targets
        .iter()
        .enumerate()
        .map(|(i, &t)| match usize::try_from(t) {
            _ if t == ignore_index => Ok(None),
            Ok(class) if class < layout.classes => Ok(Some(class)),
            _ => Err(ShapeError::new(format!(
                "{op}: target {t} at position {i} is out of bounds for {} classes (input {shape:?})",
                layout.classes
            ))),
        })
        .collect()
}

/// The class weights as values, checked to be one per class.
fn class_weights<E: Element>(
    op: &str,
    weight: Option<&TensorBase<E>>,
    classes: usize,
) -> Result<Option<Vec<E>>, ShapeError> {
    let Some(weight) = weight else { return Ok(None) };
    if weight.shape() != [classes] {
        return Err(ShapeError::new(format!(
            "{op}: weight tensor should be defined either for all {classes} classes or no classes but got \
             weight tensor of shape: {:?}",
            weight.shape()
        )));
    }
    Ok(Some(weight.to_vec()))
}

/// Everything one class-index loss needs, forward and backward.
struct ClassLoss<E> {
    layout: ClassLayout,
    targets: Vec<Option<usize>>,
    weights: Option<Vec<E>>,
    reduction: Reduction,
    smoothing: E,
    /// Whether the input is logits (cross-entropy) rather than log-probabilities (nll).
    logits: bool,
}

impl<E: Element> ClassLoss<E> {
    fn weight(&self, class: usize) -> E {
        self.weights.as_ref().map_or(E::one(), |w| w[class])
    }

    /// The sum of the weights of the kept positions' targets (the mean's divisor).
    fn total_weight(&self) -> E {
        self.targets.iter().flatten().fold(E::zero(), |s, &t| s + self.weight(t))
    }

    /// The coefficients of the nll and smoothing parts in the loss (per
    /// unit of the output's gradient): `1 − ε` and `ε/C`, divided for the
    /// mean by the total weight (the smoothing part without weights by the
    /// number of kept positions).
    fn coefficients(&self) -> (E, E) {
        let classes = E::from_usize(self.layout.classes).expect("count fits");
        let (nll, smooth) = (E::one() - self.smoothing, self.smoothing / classes);
        match self.reduction {
            Reduction::None | Reduction::Sum => (nll, smooth),
            Reduction::Mean => {
                let total = self.total_weight();
                let kept = E::from_usize(self.targets.iter().flatten().count()).expect("count fits");
                let smooth_divisor = if self.weights.is_some() { total } else { kept };
                (nll / total, smooth / smooth_divisor)
            }
        }
    }

    /// The `(max, log Σ exp)` of each lane of logits, in `(outer, inner)` order.
    fn norms(&self, x: &ArrayD<E>) -> Vec<(E, E)> {
        if !self.logits {
            return Vec::new();
        }
        let x3 = self.layout.view(x);
        Zip::from(x3.lanes(Axis(1))).map_collect(max_and_log_sum).iter().copied().collect()
    }

    /// The per-position parts `nll_i` and `smooth_i` (0 where ignored, and
    /// `smooth_i` 0 without smoothing), in `(outer, inner)` order.
    fn parts(&self, x: &ArrayD<E>, norms: &[(E, E)]) -> (Vec<E>, Vec<E>) {
        let x3 = self.layout.view(x);
        let inner = self.layout.inner;
        let mut nll = vec![E::zero(); self.layout.positions()];
        let mut smooth = vec![E::zero(); self.layout.positions()];
        for (o, block) in x3.outer_iter().enumerate() {
            for (n, lane) in block.axis_iter(Axis(1)).enumerate() {
                let at = o * inner + n;
                let Some(t) = self.targets[at] else { continue };
                let (m, log_sum) = if self.logits { norms[at] } else { (E::zero(), E::zero()) };
                let lp = |v: E| if self.logits { v - m - log_sum } else { v };
                nll[at] = -self.weight(t) * lp(lane[t]);
                if self.smoothing != E::zero() {
                    smooth[at] =
                        -lane.iter().enumerate().fold(E::zero(), |s, (c, &v)| s + self.weight(c) * lp(v));
                }
            }
        }
        (nll, smooth)
    }

    /// The loss from its parts, reduced (sums first, then the mean's divisions, as PyTorch).
    fn reduce(&self, nll: &[E], smooth: &[E], shape: &[usize]) -> ArrayD<E> {
        let classes = E::from_usize(self.layout.classes).expect("count fits");
        let (a, b) = (E::one() - self.smoothing, self.smoothing / classes);
        let sum = |values: &[E]| values.iter().fold(E::zero(), |s, &v| s + v);
        let value = match self.reduction {
            Reduction::None => {
                let losses = nll.iter().zip(smooth).map(|(&n, &s)| a * n + b * s).collect();
                return ArrayD::from_shape_vec(IxDyn(&positions_shape(shape)), losses)
                    .expect("one per position");
            }
            Reduction::Sum => a * sum(nll) + b * sum(smooth),
            Reduction::Mean => {
                let total = self.total_weight();
                let kept = E::from_usize(self.targets.iter().flatten().count()).expect("count fits");
                let smooth_divisor = if self.weights.is_some() { total } else { kept };
                let nll_mean = sum(nll) / total;
                if self.smoothing == E::zero() {
                    nll_mean
                } else {
                    a * nll_mean + b * (sum(smooth) / smooth_divisor)
                }
            }
        };
        ArrayD::from_elem(IxDyn(&[]), value)
    }

    /// The gradient of the input given the output's gradient (one value per
    /// position for `None`, else one).
    fn backward(&self, grad: &ArrayD<E>, x: &ArrayD<E>, norms: &[(E, E)]) -> Array3<E> {
        let (a, b) = self.coefficients();
        let per_position: Vec<E> = grad.iter().copied().collect();
        let x3 = self.layout.view(x);
        let inner = self.layout.inner;
        let smooth_on = self.smoothing != E::zero();
        let mut d = Array3::zeros((self.layout.outer, self.layout.classes, inner));
        for (o, (mut d_block, block)) in d.outer_iter_mut().zip(x3.outer_iter()).enumerate() {
            let lanes = d_block.axis_iter_mut(Axis(1)).zip(block.axis_iter(Axis(1)));
            for (n, (mut d_lane, lane)) in lanes.enumerate() {
                let at = o * inner + n;
                let Some(t) = self.targets[at] else { continue };
                let g = if self.reduction == Reduction::None { per_position[at] } else { per_position[0] };
                let (nll, smooth) = (g * a, g * b);
                // The loss's derivative by lp[c].
                let u = |c: usize| {
                    let mut u = if smooth_on { -smooth * self.weight(c) } else { E::zero() };
                    if c == t {
                        u -= nll * self.weight(t);
                    }
                    u
                };
                if self.logits {
                    let (m, log_sum) = norms[at];
                    let total = (0..self.layout.classes).fold(E::zero(), |s, c| s + u(c));
                    for (c, (dv, &v)) in d_lane.iter_mut().zip(lane.iter()).enumerate() {
                        *dv = u(c) - (v - m - log_sum).exp() * total;
                    }
                } else {
                    d_lane.iter_mut().enumerate().for_each(|(c, dv)| *dv = u(c));
                }
            }
        }
        d
    }
}

/// The shape of the per-position losses: `[]` for a `[C]` input, else the input's without dim 1.
fn positions_shape(shape: &[usize]) -> Vec<usize> {
    match shape {
        [_] | [] => vec![],
        [n, _, rest @ ..] => std::iter::once(*n).chain(rest.iter().copied()).collect(),
    }
}

impl<E: Element> TensorBase<E> {
    /// The cross-entropy of logits `self` against int64 class indices with
    /// PyTorch's options, like `F.cross_entropy(input, target, weight=...,
    /// ignore_index=..., reduction=..., label_smoothing=...)` (NllLossBackward0,
    /// NllLoss2DBackward0 for inputs of more than 2 dims, AddBackward0 with
    /// label smoothing, as PyTorch records them).
    ///
    /// `self` is `[C]`, `[N, C]` or `[N, C, d1, ..., dk]`; `targets` holds one
    /// index per position in row-major order (`[N, d1, ..., dk]` flattened).
    /// With [`Reduction::None`] the result has that shape. A `"mean"` over
    /// positions that are all ignored is NaN, as in PyTorch.
    ///
    /// # Panics
    /// On a wrong number of targets, a target out of range, a weight not of
    /// shape `[C]` or a smoothing outside `[0, 1]`; see
    /// [`try_cross_entropy_with`](Self::try_cross_entropy_with).
    ///
    /// ```
    /// use blocks_core::{CrossEntropyOptions, Reduction, Tensor};
    /// let logits = Tensor::zeros([3, 4]);
    /// let options = CrossEntropyOptions { reduction: Reduction::None, ..Default::default() };
    /// let losses = logits.cross_entropy_with(&[0, -100, 3], &options);
    /// assert_eq!(losses.to_vec(), vec![4f32.ln(), 0.0, 4f32.ln()]);
    /// ```
    #[track_caller]
    pub fn cross_entropy_with(&self, targets: &[i64], options: &CrossEntropyOptions<E>) -> Self {
        or_panic(self.try_cross_entropy_with(targets, options))
    }

    /// Like [`cross_entropy_with`](Self::cross_entropy_with), returning an error instead of panicking.
    ///
    /// # Errors
    /// A [`ShapeError`] naming `cross_entropy` and the problem.
    ///
    /// ```
    /// use blocks_core::{CrossEntropyOptions, Tensor};
    /// let options = CrossEntropyOptions { weight: Some(Tensor::ones([3])), ..Default::default() };
    /// assert!(Tensor::zeros([2, 4]).try_cross_entropy_with(&[0, 1], &options).is_err());
    /// ```
    pub fn try_cross_entropy_with(
        &self,
        targets: &[i64],
        options: &CrossEntropyOptions<E>,
    ) -> Result<Self, ShapeError> {
        let smoothing = options.label_smoothing;
        if !(0.0..=1.0).contains(&smoothing) {
            return Err(ShapeError::new(format!(
                "cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {smoothing}"
            )));
        }
        let smoothing = E::from_f64(smoothing).expect("a float converts");
        let weight = options.weight.as_ref();
        self.class_loss(
            "cross_entropy",
            targets,
            weight,
            options.ignore_index,
            options.reduction,
            Some(smoothing),
        )
    }

    /// The negative log-likelihood of log-probabilities `self` at int64 class
    /// indices with PyTorch's options, like `F.nll_loss(input, target,
    /// weight=..., ignore_index=..., reduction=...)` (NllLossBackward0, or
    /// NllLoss2DBackward0 for inputs of more than 2 dims).
    ///
    /// Shapes and targets as in [`cross_entropy_with`](Self::cross_entropy_with).
    ///
    /// # Panics
    /// On a wrong number of targets, a target out of range or a weight not of
    /// shape `[C]`; see [`try_nll_loss_with`](Self::try_nll_loss_with).
    ///
    /// ```
    /// use blocks_core::{NllLossOptions, Tensor};
    /// let log_probs = Tensor::from_vec(vec![-0.5, -1.0, -2.0, -0.25], [2, 2]);
    /// let options = NllLossOptions { weight: Some(Tensor::from_vec(vec![1.0, 3.0], [2])), ..Default::default() };
    /// // (3·1.0 + 1·2.0) / (3 + 1)
    /// assert_eq!(log_probs.nll_loss_with(&[1, 0], &options).item(), 1.25);
    /// ```
    #[track_caller]
    pub fn nll_loss_with(&self, targets: &[i64], options: &NllLossOptions<E>) -> Self {
        or_panic(self.try_nll_loss_with(targets, options))
    }

    /// Like [`nll_loss_with`](Self::nll_loss_with), returning an error instead of panicking.
    ///
    /// # Errors
    /// A [`ShapeError`] naming `nll_loss` and the problem.
    ///
    /// ```
    /// use blocks_core::{NllLossOptions, Tensor};
    /// let error = Tensor::zeros([2, 3]).try_nll_loss_with(&[0, -1], &NllLossOptions::default()).unwrap_err();
    /// assert_eq!(error.to_string(), "nll_loss: target -1 at position 1 is out of bounds for 3 classes (input [2, 3])");
    /// ```
    pub fn try_nll_loss_with(
        &self,
        targets: &[i64],
        options: &NllLossOptions<E>,
    ) -> Result<Self, ShapeError> {
        let weight = options.weight.as_ref();
        self.class_loss("nll_loss", targets, weight, options.ignore_index, options.reduction, None)
    }

    /// The loss of logits with label smoothing `Some(ε)` (cross-entropy), or
    /// of log-probabilities with `None` (nll).
    fn class_loss(
        &self,
        op: &str,
        targets: &[i64],
        weight: Option<&TensorBase<E>>,
        ignore_index: i64,
        reduction: Reduction,
        smoothing: Option<E>,
    ) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let layout = ClassLayout::of(op, &shape)?;
        let loss = ClassLoss {
            layout,
            targets: class_targets(op, &shape, layout, targets, ignore_index)?,
            weights: class_weights(op, weight, layout.classes)?,
            reduction,
            smoothing: smoothing.unwrap_or(E::zero()),
            logits: smoothing.is_some(),
        };
        let (data, norms) = {
            let x = self.data();
            let norms = loss.norms(&x);
            let (nll, smooth) = loss.parts(&x, &norms);
            (loss.reduce(&nll, &smooth, &shape), norms)
        };
        // PyTorch ends with an addition when it mixes in the smoothing part.
        let name = if loss.smoothing > E::zero() { "AddBackward0" } else { nll_grad_fn(shape.len()) };
        Ok(TensorBase::from_op(data, name, &[self], move |grad, ctx| {
            let x = ctx.input(0);
            vec![Some(into_input_shape(loss.backward(&grad, &x, &norms), x.shape()))]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{CrossEntropyOptions, NllLossOptions, Reduction, Tensor64, gradcheck};

    fn logits(shape: &[usize]) -> Tensor64 {
        let n: usize = shape.iter().product();
        Tensor64::from_vec((0..n).map(|i| (i as f64 * 1.37).sin() * 2.0).collect(), shape)
            .requires_grad_(true)
    }

    const REDUCTIONS: [Reduction; 3] = [Reduction::None, Reduction::Mean, Reduction::Sum];

    #[test]
    fn cross_entropy_with_options_passes_gradcheck() {
        let weight = Tensor64::from_vec(vec![0.5, 2.0, 1.0, 0.25], [4]);
        let cases: [(&[usize], &[i64]); 3] =
            [(&[3, 4], &[1, -100, 3]), (&[2, 4, 3], &[0, 3, -100, 2, 2, 1]), (&[4], &[2])];
        for (shape, targets) in cases {
            for reduction in REDUCTIONS {
                for smoothing in [0.0, 0.2] {
                    for weight in [None, Some(weight.clone())] {
                        let options = CrossEntropyOptions {
                            weight,
                            reduction,
                            label_smoothing: smoothing,
                            ..Default::default()
                        };
                        gradcheck(|t| t[0].cross_entropy_with(targets, &options), &[logits(shape)]).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn nll_loss_with_options_passes_gradcheck() {
        let weight = Tensor64::from_vec(vec![0.5, 2.0, 1.0], [3]);
        for reduction in REDUCTIONS {
            for weight in [None, Some(weight.clone())] {
                let options = NllLossOptions { weight, reduction, ignore_index: 1 };
                gradcheck(|t| t[0].nll_loss_with(&[0, 1, 2, 2], &options), &[logits(&[4, 3])]).unwrap();
            }
        }
    }

    #[test]
    fn ignored_positions_and_smoothing_follow_pytorchs_formula() {
        let x = logits(&[3, 4]);
        let log_p = x.log_softmax(1).to_vec();
        let mean = x.cross_entropy_with(&[1, -100, 3], &CrossEntropyOptions::default()).item();
        assert!((mean + (log_p[1] + log_p[11]) / 2.0).abs() < 1e-12);
        let all_ignored = x.cross_entropy_with(&[-100; 3], &CrossEntropyOptions::default());
        assert!(all_ignored.item().is_nan());
        // Without weights the smoothing part is averaged over the kept positions too.
        let options = CrossEntropyOptions { label_smoothing: 0.2, ..Default::default() };
        let smoothed = x.cross_entropy_with(&[1, -100, 3], &options);
        let row = |r: usize| -log_p[r * 4..r * 4 + 4].iter().sum::<f64>();
        let expected = 0.8 * -(log_p[1] + log_p[11]) / 2.0 + 0.2 / 4.0 * (row(0) + row(2)) / 2.0;
        assert!((smoothed.item() - expected).abs() < 1e-12);
        assert_eq!(smoothed.grad_fn(), Some("AddBackward0"));
        assert_eq!(
            x.cross_entropy_with(&[0, 0, 0], &CrossEntropyOptions::default()).grad_fn(),
            Some("NllLossBackward0")
        );
    }

    #[test]
    fn bad_options_are_refused() {
        let x = logits(&[2, 3]);
        let options = CrossEntropyOptions { label_smoothing: 1.5, ..Default::default() };
        assert_eq!(
            x.try_cross_entropy_with(&[0, 1], &options).unwrap_err().to_string(),
            "cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: 1.5"
        );
        let options = CrossEntropyOptions { weight: Some(Tensor64::ones([2])), ..Default::default() };
        assert_eq!(
            x.try_cross_entropy_with(&[0, 1], &options).unwrap_err().to_string(),
            "cross_entropy: weight tensor should be defined either for all 3 classes or no classes but got \
             weight tensor of shape: [2]"
        );
        assert!(x.try_cross_entropy_with(&[0, 3], &CrossEntropyOptions::default()).is_err());
        assert!(x.try_cross_entropy_with(&[0], &CrossEntropyOptions::default()).is_err());
    }
}
