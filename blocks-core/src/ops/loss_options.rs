//! The options of the losses, each struct's `Default` being PyTorch's
//! defaults: [`Reduction`] (`"mean"`/`"sum"`/`"none"`), and per family the
//! class weights, `ignore_index`, `label_smoothing`, `beta`, `delta`,
//! `pos_weight` and `log_target` that `torch.nn.functional` takes.

use ndarray::{ArrayD, IxDyn};

use crate::{Element, TensorBase};

/// How a loss combines its per-element values, PyTorch's `reduction`.
///
/// ```
/// use blocks_core::{Reduction, Tensor};
/// let x = Tensor::from_vec(vec![1.0, 3.0], [2]);
/// let t = Tensor::zeros([2]);
/// assert_eq!(x.l1_loss(&t, Reduction::Mean).item(), 2.0);
/// assert_eq!(x.l1_loss(&t, Reduction::Sum).item(), 4.0);
/// assert_eq!(x.l1_loss(&t, Reduction::None).to_vec(), vec![1.0, 3.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// `"none"`: one loss per element (per position for class losses).
    None,
    /// `"mean"`, PyTorch's default: the average (weighted for class losses with weights).
    #[default]
    Mean,
    /// `"sum"`: the total.
    Sum,
}

impl Reduction {
    /// PyTorch's string for this reduction.
    ///
    /// ```
    /// assert_eq!(blocks_core::Reduction::default().as_str(), "mean");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Reduction::None => "none",
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
        }
    }

    /// The reduction PyTorch names `name` (`"mean"`, `"sum"` or `"none"`).
    ///
    /// # Errors
    /// PyTorch's message for any other string.
    ///
    /// ```
    /// use blocks_core::Reduction;
    /// assert_eq!(Reduction::from_name("sum"), Ok(Reduction::Sum));
    /// assert_eq!(Reduction::from_name("avg").unwrap_err(), "avg is not a valid value for reduction");
    /// ```
    pub fn from_name(name: &str) -> Result<Self, String> {
        match name {
            "none" => Ok(Reduction::None),
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            other => Err(format!("{other} is not a valid value for reduction")),
        }
    }
}

/// `kl_div`'s reduction, which adds `"batchmean"` (the sum over the batch
/// size, the mathematically correct KL divergence) to [`Reduction`]'s.
///
/// ```
/// use blocks_core::{KlDivOptions, KlDivReduction, Tensor};
/// let log_q = Tensor::from_vec(vec![0.5f32.ln(), 0.5f32.ln()], [1, 2]);
/// let p = Tensor::from_vec(vec![0.5, 0.5], [1, 2]);
/// let options = KlDivOptions { reduction: KlDivReduction::BatchMean, ..Default::default() };
/// assert!(log_q.kl_div(&p, options).item().abs() < 1e-7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KlDivReduction {
    /// `"none"`.
    None,
    /// `"mean"`, PyTorch's default: the average over all elements.
    #[default]
    Mean,
    /// `"batchmean"`: the sum divided by the size of dim 0.
    BatchMean,
    /// `"sum"`.
    Sum,
}

/// Options of [`cross_entropy_with`](TensorBase::cross_entropy_with), as
/// `F.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)`.
///
/// ```
/// let options = blocks_core::CrossEntropyOptions::<f32>::default();
/// assert_eq!((options.ignore_index, options.label_smoothing), (-100, 0.0));
/// assert!(options.weight.is_none());
/// ```
#[derive(Debug, Clone)]
pub struct CrossEntropyOptions<E: Element> {
    /// A weight per class (`[C]`), or `None` for all 1. No gradient flows to it.
    pub weight: Option<TensorBase<E>>,
    /// Positions whose target is this value contribute nothing (default -100).
    pub ignore_index: i64,
    /// How the per-position losses are combined.
    pub reduction: Reduction,
    /// In `[0, 1]`: the target becomes a mix of the one-hot class (weight
    /// `1 − ε`) and the uniform distribution (weight `ε`).
    pub label_smoothing: f64,
}

impl<E: Element> Default for CrossEntropyOptions<E> {
    fn default() -> Self {
        CrossEntropyOptions {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
        }
    }
}

/// Options of [`nll_loss_with`](TensorBase::nll_loss_with), as
/// `F.nll_loss(input, target, weight, ignore_index, reduction)`.
///
/// ```
/// let options = blocks_core::NllLossOptions::<f32>::default();
/// assert_eq!(options.ignore_index, -100);
/// ```
#[derive(Debug, Clone)]
pub struct NllLossOptions<E: Element> {
    /// A weight per class (`[C]`), or `None` for all 1. No gradient flows to it.
    pub weight: Option<TensorBase<E>>,
    /// Positions whose target is this value contribute nothing (default -100).
    pub ignore_index: i64,
    /// How the per-position losses are combined.
    pub reduction: Reduction,
}

impl<E: Element> Default for NllLossOptions<E> {
    fn default() -> Self {
        NllLossOptions { weight: None, ignore_index: -100, reduction: Reduction::Mean }
    }
}

/// Options of [`binary_cross_entropy_with_logits`](TensorBase::binary_cross_entropy_with_logits),
/// as `F.binary_cross_entropy_with_logits(input, target, weight, reduction=..., pos_weight=...)`.
///
/// ```
/// let options = blocks_core::BceWithLogitsOptions::<f32>::default();
/// assert!(options.weight.is_none() && options.pos_weight.is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct BceWithLogitsOptions<E: Element> {
    /// A weight per element, broadcast to the input's shape. No gradient flows to it.
    pub weight: Option<TensorBase<E>>,
    /// The weight of the positive term, broadcast to the input's shape
    /// (usually one per class, `[C]`). No gradient flows to it.
    pub pos_weight: Option<TensorBase<E>>,
    /// How the per-element losses are combined.
    pub reduction: Reduction,
}

/// Options of [`smooth_l1_loss`](TensorBase::smooth_l1_loss): `beta`, where
/// the loss turns from quadratic to linear (PyTorch's default 1.0).
///
/// ```
/// assert_eq!(blocks_core::SmoothL1Options::default().beta, 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothL1Options {
    /// How the per-element losses are combined.
    pub reduction: Reduction,
    /// `>= 0`; 0 makes it the L1 loss.
    pub beta: f64,
}

impl Default for SmoothL1Options {
    fn default() -> Self {
        SmoothL1Options { reduction: Reduction::Mean, beta: 1.0 }
    }
}

/// Options of [`huber_loss`](TensorBase::huber_loss): `delta`, where the
/// loss turns from quadratic to linear (PyTorch's default 1.0).
///
/// ```
/// assert_eq!(blocks_core::HuberOptions::default().delta, 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HuberOptions {
    /// How the per-element losses are combined.
    pub reduction: Reduction,
    /// `> 0`.
    pub delta: f64,
}

impl Default for HuberOptions {
    fn default() -> Self {
        HuberOptions { reduction: Reduction::Mean, delta: 1.0 }
    }
}

/// Options of [`kl_div`](TensorBase::kl_div), as `F.kl_div(input, target, reduction, log_target)`.
///
/// ```
/// assert!(!blocks_core::KlDivOptions::default().log_target);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KlDivOptions {
    /// How the per-element losses are combined.
    pub reduction: KlDivReduction,
    /// Whether the target holds log-probabilities rather than probabilities.
    pub log_target: bool,
}

/// Per-element values combined by `reduction` (a 0-d array unless `None`);
/// the mean of nothing is NaN, as in PyTorch.
pub(super) fn reduce<E: Element>(values: ArrayD<E>, reduction: Reduction) -> ArrayD<E> {
    match reduction {
        Reduction::None => values,
        Reduction::Sum => ArrayD::from_elem(IxDyn(&[]), values.sum()),
        Reduction::Mean => {
            let count = E::from_usize(values.len()).expect("count fits");
            ArrayD::from_elem(IxDyn(&[]), values.sum() / count)
        }
    }
}

/// The gradient reaching each of `count` elements from the gradient of a
/// loss reduced by `reduction`: `grad` itself for `None`, else its one
/// value (divided by the count for the mean) spread to `shape`.
pub(super) fn spread<E: Element>(grad: ArrayD<E>, reduction: Reduction, shape: &[usize]) -> ArrayD<E> {
    match reduction {
        Reduction::None => grad,
        Reduction::Sum => ArrayD::from_elem(IxDyn(shape), grad[[]]),
        Reduction::Mean => {
            let count = E::from_usize(shape.iter().product()).expect("count fits");
            ArrayD::from_elem(IxDyn(shape), grad[[]] / count)
        }
    }
}

/// `value` as the element type.
pub(super) fn element<E: Element>(value: f64) -> E {
    E::from_f64(value).expect("an f64 converts to a float")
}
