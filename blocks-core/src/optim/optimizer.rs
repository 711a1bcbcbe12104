//! The `Optimizer` trait, and what every optimizer shares: its parameter
//! list (deduplicated), configuration errors and the `param_groups` record.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use ndarray::ArrayD;
use serde_json::{Map, Value};

use super::{LoadStateError, OptimizerState, StateError};
use crate::io::FileError;
use crate::{AnyTensor, Element, TensorBase};

/// The learning rate of an optimizer of either element type: what a
/// learning-rate schedule reads and sets ([`LrScheduler::step`](super::LrScheduler::step)
/// takes any optimizer through it). Every [`Optimizer`] has one; its
/// methods are [`Optimizer::lr`] and [`Optimizer::set_lr`].
///
/// ```
/// use blocks_core::optim::{LearningRate, Sgd, SgdConfig};
/// let mut opt = Sgd::new([&blocks_core::Tensor64::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
/// let rate: &mut dyn LearningRate = &mut opt;
/// rate.set_learning_rate(0.5);
/// assert_eq!(rate.learning_rate(), 0.5);
/// ```
pub trait LearningRate {
    /// The learning rate, `param_groups[0]["lr"]`.
    fn learning_rate(&self) -> f64;
    /// Sets the learning rate of every group.
    fn set_learning_rate(&mut self, lr: f64);

    /// The number of parameter groups, `len(optimizer.param_groups)`.
    ///
    /// ```
    /// use blocks_core::optim::{LearningRate, Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// assert_eq!(opt.group_count(), 1);
    /// ```
    fn group_count(&self) -> usize {
        1
    }

    /// Group `group`'s learning rate, `param_groups[group]["lr"]`.
    ///
    /// # Panics
    ///
    /// If the optimizer has no group `group`.
    ///
    /// ```
    /// use blocks_core::optim::{LearningRate, ParamGroup, Sgd, SgdConfig};
    /// let (w, b) = (blocks_core::Tensor::ones([1]), blocks_core::Tensor::ones([1]));
    /// let base = SgdConfig { lr: 0.1, ..Default::default() };
    /// let opt = Sgd::with_groups(vec![ParamGroup::new([&w], base), ParamGroup::new([&b], SgdConfig { lr: 0.2, ..base })]);
    /// assert_eq!(opt.group_learning_rate(1), 0.2);
    /// ```
    fn group_learning_rate(&self, group: usize) -> f64 {
        let _ = group;
        self.learning_rate()
    }

    /// Sets group `group`'s learning rate (what a scheduler does, group by group).
    ///
    /// # Panics
    ///
    /// If the optimizer has no group `group`.
    ///
    /// ```
    /// use blocks_core::optim::{LearningRate, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// opt.set_group_learning_rate(0, 0.3);
    /// assert_eq!(opt.learning_rate(), 0.3);
    /// ```
    fn set_group_learning_rate(&mut self, group: usize, lr: f64) {
        let _ = group;
        self.set_learning_rate(lr);
    }

    /// Group `group`'s `momentum`, or `betas[0]` for the Adam family (what
    /// OneCycleLR cycles); `None` for an optimizer that has neither.
    ///
    /// ```
    /// use blocks_core::optim::{AdamConfig, Adam, LearningRate};
    /// let opt = Adam::new([&blocks_core::Tensor::ones([1])], AdamConfig::default());
    /// assert_eq!(opt.group_momentum(0), Some(0.9));
    /// ```
    fn group_momentum(&self, group: usize) -> Option<f64> {
        let _ = group;
        None
    }

    /// Group `group`'s `initial_lr`, the rate a schedule starts from, once a
    /// schedule has set it (PyTorch keeps it in `param_groups`).
    ///
    /// ```
    /// use blocks_core::optim::{LearningRate, LinearLR, LinearLRConfig, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.3, ..Default::default() });
    /// assert_eq!(opt.group_initial_lr(0), None);
    /// LinearLR::new(&mut opt, LinearLRConfig::default());
    /// assert_eq!(opt.group_initial_lr(0), Some(0.3));
    /// ```
    fn group_initial_lr(&self, group: usize) -> Option<f64> {
        let _ = group;
        None
    }

    /// Sets group `group`'s `initial_lr` (what a schedule does when it starts).
    ///
    /// ```
    /// use blocks_core::optim::{LearningRate, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// opt.set_group_initial_lr(0, 0.1);
    /// assert_eq!(opt.group_initial_lr(0), Some(0.1));
    /// ```
    fn set_group_initial_lr(&mut self, group: usize, lr: f64) {
        let _ = (group, lr);
    }

    /// Sets what [`group_momentum`](LearningRate::group_momentum) reads; nothing for
    /// an optimizer without momentum.
    ///
    /// ```
    /// use blocks_core::optim::{LearningRate, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { momentum: 0.9, ..Default::default() });
    /// opt.set_group_momentum(0, 0.85);
    /// assert_eq!(opt.group_momentum(0), Some(0.85));
    /// ```
    fn set_group_momentum(&mut self, group: usize, momentum: f64) {
        let _ = (group, momentum);
    }
}

/// An optimizer over parameters in one or more groups, like
/// `torch.optim.Optimizer` (every optimizer of the crate is a
/// [`Grouped`](super::Grouped): its `param_groups`, `add_param_group`, states).
///
/// The training loop is PyTorch's: `zero_grad`, forward, `backward`, `step`.
/// [`step`](Optimizer::step) changes the parameters in place, outside the
/// graph; parameters that do not require grad or have no gradient are left
/// alone.
///
/// ```
/// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
/// use blocks_core::Tensor;
/// let w = Tensor::from_vec(vec![1.0, -2.0], [2]).requires_grad_(true);
/// let mut opt = Sgd::new([&w], SgdConfig { lr: 0.5, ..Default::default() });
/// for _ in 0..3 {
///     opt.zero_grad();
///     (&w * &w).sum().backward(); // gradient 2w
///     opt.step(); // w <- w - 0.5 * 2w = 0
/// }
/// assert_eq!(w.to_vec(), vec![0.0, 0.0]);
/// ```
pub trait Optimizer<E: Element = f32>: LearningRate {
    /// Updates every parameter that has a gradient, like `optimizer.step()`.
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    /// let w = blocks_core::Tensor::from_vec(vec![1.0], [1]).requires_grad_(true);
    /// let mut opt = Sgd::new([&w], SgdConfig { lr: 0.1, ..Default::default() });
    /// (&w * 3.0).sum().backward();
    /// opt.step();
    /// assert!((w.item() - 0.7).abs() < 1e-6);
    /// ```
    fn step(&mut self);

    /// The parameters, each once, in the order given.
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    /// let w = blocks_core::Tensor::ones([1]);
    /// let opt = Sgd::new([&w, &w], SgdConfig::default()); // a tied weight
    /// assert_eq!(opt.params().len(), 1);
    /// ```
    fn params(&self) -> &[TensorBase<E>];

    /// Clears every parameter's gradient (sets it to `None`), like
    /// `optimizer.zero_grad()`.
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    /// let w = blocks_core::Tensor::ones([1]).requires_grad_(true);
    /// w.sum().backward();
    /// Sgd::new([&w], SgdConfig::default()).zero_grad();
    /// assert!(w.grad().is_none());
    /// ```
    fn zero_grad(&self) {
        for p in self.params() {
            p.zero_grad();
        }
    }

    /// The learning rate, `param_groups[0]["lr"]`.
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamConfig, Optimizer};
    /// assert_eq!(Adam::new([&blocks_core::Tensor::ones([1])], AdamConfig::default()).lr(), 1e-3);
    /// ```
    fn lr(&self) -> f64;

    /// Sets every group's learning rate.
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// opt.set_lr(0.05);
    /// assert_eq!(opt.lr(), 0.05);
    /// ```
    fn set_lr(&mut self, lr: f64);

    /// A copy of the state (per-parameter buffers and step counts) and the
    /// hyper-parameters, like `optimizer.state_dict()`.
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamConfig, Optimizer};
    /// let w = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// let mut opt = Adam::new([&w], AdamConfig::default());
    /// w.sum().backward();
    /// opt.step();
    /// assert_eq!(opt.state_dict().keys(), vec!["state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq"]);
    /// ```
    fn state_dict(&self) -> OptimizerState;

    /// Restores a state saved from an optimizer of the same kind over
    /// parameters of the same shapes, hyper-parameters included, like
    /// `optimizer.load_state_dict(state)`; nothing changes on error.
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    /// let w = blocks_core::Tensor::ones([1]);
    /// let a = Sgd::new([&w], SgdConfig { lr: 0.3, ..Default::default() });
    /// let mut b = Sgd::new([&w], SgdConfig::default());
    /// b.load_state_dict(&a.state_dict()).unwrap();
    /// assert_eq!(b.lr(), 0.3);
    /// ```
    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<(), StateError>;

    /// Saves [`state_dict`](Optimizer::state_dict) to a safetensors file (atomically).
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    /// let path = std::env::temp_dir().join("blocks-doc-optimizer-save-trait.safetensors");
    /// Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default()).save(&path).unwrap();
    /// ```
    fn save(&self, path: impl AsRef<Path>) -> Result<(), FileError>
    where
        Self: Sized,
    {
        self.state_dict().save(path)
    }

    /// Loads a file written by [`save`](Optimizer::save).
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    /// let path = std::env::temp_dir().join("blocks-doc-optimizer-load-trait.safetensors");
    /// let w = blocks_core::Tensor::ones([1]);
    /// Sgd::new([&w], SgdConfig { lr: 0.2, ..Default::default() }).save(&path).unwrap();
    /// let mut opt = Sgd::new([&w], SgdConfig::default());
    /// opt.load(&path).unwrap();
    /// assert_eq!(opt.lr(), 0.2);
    /// ```
    fn load(&mut self, path: impl AsRef<Path>) -> Result<(), LoadStateError>
    where
        Self: Sized,
    {
        let state = OptimizerState::read(path)?;
        Ok(self.load_state_dict(&state)?)
    }
}

/// A hyper-parameter PyTorch would refuse (its `ValueError`), with PyTorch's message.
///
/// ```
/// use blocks_core::optim::{Sgd, SgdConfig};
/// let w = blocks_core::Tensor::ones([1]);
/// let error = Sgd::try_new([&w], SgdConfig { lr: -1.0, ..Default::default() }).unwrap_err();
/// assert_eq!(error.to_string(), "Invalid learning rate: -1.0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ConfigError { message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The parameter handles, each tensor once (a tied weight listed twice is
/// updated once), in first-seen order. A tensor made by an operation is
/// refused, as PyTorch refuses it: it never gets a gradient to step with.
/// Panics with a clear message if a parameter has no values yet (a lazy
/// layer that has not run its first forward): stepping on it would train nothing.
pub(crate) fn check_initialized<E: Element>(optimizer: &str, params: &[TensorBase<E>]) {
    if let Some(index) = params.iter().position(TensorBase::is_uninitialized) {
        panic!(
            "{optimizer}.step(): parameter {index} is uninitialized (a lazy layer such as LazyLinear \
             that has not run a forward yet); run one forward pass (a dry run) before training"
        );
    }
}

pub(crate) fn unique_params<E: Element, P: AsRef<TensorBase<E>>>(
    params: impl IntoIterator<Item = P>,
) -> Result<Vec<TensorBase<E>>, ConfigError> {
    let mut seen = HashSet::new();
    let mut unique = Vec::new();
    for p in params {
        let tensor = p.as_ref();
        if !tensor.is_leaf() && !tensor.retains_grad() {
            return Err(ConfigError::new("can't optimize a non-leaf Tensor"));
        }
        if seen.insert(tensor.identity()) {
            unique.push(tensor.clone());
        }
    }
    Ok(unique)
}

/// The parameter groups of a saved state, checked against the optimizer's
/// class name and its groups' sizes (`lens`), with PyTorch's messages.
pub(crate) fn read_groups(
    state: &OptimizerState,
    expected_class: &[&str],
    lens: &[usize],
) -> Result<Vec<Map<String, Value>>, StateError> {
    let class =
        state.metadata("optimizer").ok_or_else(|| StateError::new("no \"optimizer\" in the metadata"))?;
    if !expected_class.contains(&class) {
        return Err(StateError::new(format!(
            "it was saved by {class}, not by {}",
            expected_class.join(" or ")
        )));
    }
    let groups = state
        .metadata("param_groups")
        .ok_or_else(|| StateError::new("no \"param_groups\" in the metadata"))?;
    let groups: Value = serde_json::from_str(groups)
        .map_err(|e| StateError::new(format!("\"param_groups\" is not valid JSON: {e}")))?;
    let groups =
        groups.as_array().ok_or_else(|| StateError::new("\"param_groups\" must be a list of groups"))?;
    if groups.len() != lens.len() {
        return Err(StateError::new(format!(
            "loaded state dict has a different number of parameter groups ({}, this optimizer has {})",
            groups.len(),
            lens.len()
        )));
    }
    let mut out = Vec::with_capacity(groups.len());
    for (index, (group, &count)) in groups.iter().zip(lens).enumerate() {
        let Value::Object(group) = group else {
            return Err(StateError::new(format!("param_groups: group {index} is not an object")));
        };
        let params = group.get("params").and_then(Value::as_array).map_or(0, Vec::len);
        if params != count {
            return Err(StateError::new(format!(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's \
                 group (group {index}: the saved group has {params} parameters, this optimizer has {count})"
            )));
        }
        out.push(group.clone());
    }
    Ok(out)
}

/// A float hyper-parameter of a saved group.
pub(crate) fn group_f64(group: &Map<String, Value>, key: &str) -> Result<f64, StateError> {
    group
        .get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| StateError::new(format!("param_groups: no number {key:?}")))
}

/// A boolean hyper-parameter of a saved group.
pub(crate) fn group_bool(group: &Map<String, Value>, key: &str) -> Result<bool, StateError> {
    group
        .get(key)
        .and_then(Value::as_bool)
        .ok_or_else(|| StateError::new(format!("param_groups: no boolean {key:?}")))
}

/// Every tensor key of `state` must be `state.{i}.{name}` with `i` below
/// `count` and `name` one of `names`.
pub(crate) fn check_keys(state: &OptimizerState, count: usize, names: &[&str]) -> Result<(), StateError> {
    for key in state.keys() {
        let known =
            key.strip_prefix("state.").and_then(|rest| rest.split_once('.')).is_some_and(|(index, name)| {
                index.parse::<usize>().is_ok_and(|i| i < count) && names.contains(&name)
            });
        if !known {
            return Err(StateError::new(format!("unexpected tensor {key:?}")));
        }
    }
    Ok(())
}

/// What the values of a loaded state tensor must be for the step's math to
/// stay finite (a negative second moment would put a NaN into every weight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// Finite numbers (`exp_avg`, `momentum_buffer`).
    Finite,
    /// Finite numbers >= 0 (`exp_avg_sq`, `max_exp_avg_sq`).
    FiniteNonNegative,
}

/// The tensor `state.{index}.{name}` as an array shaped like the parameter,
/// if present, its values checked; the error names the parameter and the field.
pub(crate) fn state_array<E: Element>(
    state: &OptimizerState,
    index: usize,
    name: &str,
    shape: &[usize],
    allowed: Allowed,
) -> Result<Option<ArrayD<E>>, StateError> {
    let key = format!("state.{index}.{name}");
    // Cast to the parameter's dtype, as PyTorch's `Optimizer.load_state_dict` does.
    let Some(tensor) = state.entry(&key).map(AnyTensor::cast::<E>) else { return Ok(None) };
    if tensor.shape() != shape {
        return Err(StateError::new(format!(
            "parameter {index}: {key} has shape {:?}, but parameter {index} has shape {shape:?}",
            tensor.shape()
        )));
    }
    let array = tensor.to_array();
    let fits = |v: E| v.is_finite() && (allowed == Allowed::Finite || v >= E::zero());
    if let Some((position, value)) = array.indexed_iter().find(|(_, v)| !fits(**v)) {
        let rule = match allowed {
            Allowed::Finite => "finite",
            Allowed::FiniteNonNegative => "finite and >= 0",
        };
        return Err(StateError::new(format!(
            "parameter {index}: {key} holds {value} at index {:?}, but it must be {rule}",
            ndarray::Dimension::slice(&position)
        )));
    }
    Ok(Some(array))
}

/// The step count `state.{index}.{name}`, if present: one number, whole,
/// finite and >= 0; the error names the parameter and the field.
pub(crate) fn state_step(state: &OptimizerState, index: usize) -> Result<Option<f32>, StateError> {
    let key = format!("state.{index}.step");
    let Some(tensor) = state.entry(&key).map(AnyTensor::cast::<f32>) else { return Ok(None) };
    if tensor.numel() != 1 {
        return Err(StateError::new(format!(
            "parameter {index}: {key} must hold one number, but has shape {:?}",
            tensor.shape()
        )));
    }
    let step = tensor.item();
    if !(step.is_finite() && step >= 0.0 && step.fract() == 0.0) {
        return Err(StateError::new(format!(
            "parameter {index}: {key} is {step}, but a step count must be a whole number >= 0"
        )));
    }
    Ok(Some(step))
}

/// The float32 scalar `state.{index}.{name}` (NAdam's `mu_product`), if
/// present: one finite number.
pub(crate) fn state_scalar(
    state: &OptimizerState,
    index: usize,
    name: &str,
) -> Result<Option<f32>, StateError> {
    let key = format!("state.{index}.{name}");
    let Some(tensor) = state.entry(&key).map(AnyTensor::cast::<f32>) else { return Ok(None) };
    if tensor.numel() != 1 || !tensor.item().is_finite() {
        return Err(StateError::new(format!(
            "parameter {index}: {key} must hold one finite number, but has shape {:?}",
            tensor.shape()
        )));
    }
    Ok(Some(tensor.item()))
}

/// Lets optimizers take `&Tensor`s as well as `Parameter`s (`[&w, &b]`).
impl<E: crate::Element> AsRef<crate::TensorBase<E>> for crate::TensorBase<E> {
    fn as_ref(&self) -> &crate::TensorBase<E> {
        self
    }
}

/// `x >= 0`, false for NaN (PyTorch's `x < 0.0` check lets a NaN rate through; a NaN is never wanted).
pub(crate) fn nonnegative(x: f64) -> bool {
    x >= 0.0
}
