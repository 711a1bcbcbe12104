//! What every optimizer shares: PyTorch's `param_groups` (parameters split
//! into groups, each with its own hyper-parameters), the per-parameter state,
//! the step loop, saving and loading, and the printout. Each optimizer adds
//! its hyper-parameters and its formula (its config type, a sealed `Rule`).

use std::collections::HashSet;
use std::fmt;

use ndarray::ArrayD;
use serde_json::Value;

use super::optimizer::{check_initialized, check_keys, read_groups, state_array, state_scalar, state_step};
use super::rule::{Rule, Slot};
use super::{ConfigError, LearningRate, Optimizer, OptimizerState, StateError, pyrepr};
use crate::{Element, Tensor, TensorBase};

/// One parameter group, like an entry of PyTorch's `optimizer.param_groups`:
/// parameters and the hyper-parameters they are trained with (e.g. no weight
/// decay on biases and norms, or a smaller rate for a pretrained backbone).
///
/// ```
/// use blocks_core::nn::{Linear, Module, ModuleExt};
/// use blocks_core::optim::{ParamGroup, Sgd, SgdConfig};
/// let net = Linear::<4, 2>::new();
/// let (biases, weights): (Vec<_>, Vec<_>) =
///     net.named_parameters().into_iter().partition(|(name, _)| name.ends_with("bias"));
/// let base = SgdConfig { lr: 0.1, momentum: 0.9, weight_decay: 5e-4, ..Default::default() };
/// let opt = Sgd::with_groups(vec![
///     ParamGroup::new(weights.into_iter().map(|(_, p)| p), base),
///     ParamGroup::new(biases.into_iter().map(|(_, p)| p), SgdConfig { weight_decay: 0.0, ..base }),
/// ]);
/// assert_eq!(opt.param_groups()[1].config.weight_decay, 0.0);
/// ```
#[derive(Clone)]
pub struct ParamGroup<C, E: Element = f32> {
    /// The group's parameters, each once.
    pub params: Vec<TensorBase<E>>,
    /// The group's hyper-parameters.
    pub config: C,
}

impl<C, E: Element> ParamGroup<C, E> {
    /// A group of `params` (`net.parameters()`, parameters, or tensors `[&w, &b]`).
    ///
    /// ```
    /// use blocks_core::optim::{AdamConfig, ParamGroup};
    /// let w = blocks_core::Tensor::ones([2]);
    /// let group = ParamGroup::new([&w], AdamConfig { lr: 1e-4, ..Default::default() });
    /// assert_eq!(group.params.len(), 1);
    /// ```
    pub fn new<P: AsRef<TensorBase<E>>>(params: impl IntoIterator<Item = P>, config: C) -> Self {
        ParamGroup { params: params.into_iter().map(|p| p.as_ref().clone()).collect(), config }
    }
}

impl<C: fmt::Debug, E: Element> fmt::Debug for ParamGroup<C, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shapes: Vec<Vec<usize>> = self.params.iter().map(TensorBase::shape).collect();
        f.debug_struct("ParamGroup").field("params", &shapes).field("config", &self.config).finish()
    }
}

/// An optimizer of torch.optim over parameter groups: [`Sgd`](super::Sgd),
/// [`Adam`](super::Adam), [`RMSprop`](super::RMSprop), ... are this type with
/// their config (`Sgd<E> = Grouped<SgdConfig, E>`).
///
/// Parameters are numbered across the groups in order, as PyTorch numbers
/// them in `state_dict()`; each group's hyper-parameters apply to its own
/// parameters, and a scheduler sets each group's rate.
///
/// ```
/// use blocks_core::optim::{Adam, AdamConfig, Optimizer, ParamGroup};
/// use blocks_core::Tensor;
/// let (w, b) = (Tensor::ones([2]).requires_grad_(true), Tensor::ones([1]).requires_grad_(true));
/// let mut opt = Adam::new([&w], AdamConfig { lr: 0.1, ..Default::default() });
/// opt.add_param_group(ParamGroup::new([&b], AdamConfig { lr: 0.01, ..Default::default() })).unwrap();
/// (&w.sum() + &b.sum()).backward();
/// opt.step();
/// assert!((w.to_vec()[0] - 0.9).abs() < 1e-6 && (b.item() - 0.99).abs() < 1e-6);
/// ```
pub struct Grouped<C: Rule, E: Element = f32> {
    class: &'static str,
    params: Vec<TensorBase<E>>,
    /// Each group's hyper-parameters and number of parameters.
    groups: Vec<(C, usize)>,
    /// Each group's `initial_lr`, once a schedule has set it.
    initial_lrs: Vec<Option<f64>>,
    slots: Vec<Option<Slot<E>>>,
}

impl<C: Rule, E: Element> Grouped<C, E> {
    /// The optimizer over `params`, one group (`net.parameters()`, or tensors `[&w, &b]`).
    ///
    /// # Panics
    ///
    /// With PyTorch's message on an invalid configuration; see [`try_new`](Self::try_new).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, ModuleExt};
    /// use blocks_core::optim::{RMSprop, RMSpropConfig};
    /// let net = Linear::<4, 2>::new();
    /// let opt = RMSprop::new(net.parameters(), RMSpropConfig::default());
    /// ```
    #[track_caller]
    pub fn new<P: AsRef<TensorBase<E>>>(params: impl IntoIterator<Item = P>, config: C) -> Self {
        match Self::try_new(params, config) {
            Ok(optimizer) => optimizer,
            Err(error) => panic!("{error}"),
        }
    }

    /// Like [`new`](Self::new), returning an error on an invalid configuration.
    ///
    /// # Errors
    ///
    /// PyTorch's `ValueError` message: `Invalid learning rate: -1.0`, or
    /// `can't optimize a non-leaf Tensor`.
    ///
    /// ```
    /// use blocks_core::optim::{Adagrad, AdagradConfig};
    /// let w = blocks_core::Tensor::ones([1]);
    /// let error = Adagrad::try_new([&w], AdagradConfig { lr: -1.0, ..Default::default() }).unwrap_err();
    /// assert_eq!(error.to_string(), "Invalid learning rate: -1.0");
    /// ```
    pub fn try_new<P: AsRef<TensorBase<E>>>(
        params: impl IntoIterator<Item = P>,
        config: C,
    ) -> Result<Self, ConfigError> {
        Self::try_with_groups(vec![ParamGroup::new(params, config)])
    }

    /// The optimizer over several parameter groups, like
    /// `torch.optim.SGD([{"params": ...}, {"params": ..., "weight_decay": 0}])`.
    ///
    /// # Panics
    ///
    /// With PyTorch's message on an invalid group; see [`try_with_groups`](Self::try_with_groups).
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, ParamGroup, Sgd, SgdConfig};
    /// let (w, b) = (blocks_core::Tensor::ones([2]), blocks_core::Tensor::ones([1]));
    /// let base = SgdConfig { lr: 0.1, ..Default::default() };
    /// let opt = Sgd::with_groups(vec![ParamGroup::new([&w], base), ParamGroup::new([&b], SgdConfig { lr: 0.5, ..base })]);
    /// assert_eq!(opt.params().len(), 2);
    /// ```
    #[track_caller]
    pub fn with_groups(groups: Vec<ParamGroup<C, E>>) -> Self {
        match Self::try_with_groups(groups) {
            Ok(optimizer) => optimizer,
            Err(error) => panic!("{error}"),
        }
    }

    /// Like [`with_groups`](Self::with_groups), returning an error.
    ///
    /// # Errors
    ///
    /// PyTorch's messages: an invalid hyper-parameter, `some parameters appear
    /// in more than one parameter group`, `optimizer got an empty parameter list`.
    ///
    /// ```
    /// use blocks_core::optim::{ParamGroup, Sgd, SgdConfig};
    /// let w = blocks_core::Tensor::ones([2]);
    /// let twice = vec![ParamGroup::new([&w], SgdConfig::default()), ParamGroup::new([&w], SgdConfig::default())];
    /// let error = Sgd::try_with_groups(twice).unwrap_err();
    /// assert_eq!(error.to_string(), "some parameters appear in more than one parameter group");
    /// ```
    pub fn try_with_groups(groups: Vec<ParamGroup<C, E>>) -> Result<Self, ConfigError> {
        if groups.is_empty() {
            return Err(ConfigError::new("optimizer got an empty parameter list"));
        }
        let mut optimizer = Grouped {
            class: C::NAMES[0],
            params: Vec::new(),
            groups: Vec::new(),
            initial_lrs: Vec::new(),
            slots: Vec::new(),
        };
        for group in groups {
            optimizer.add_param_group(group)?;
        }
        Ok(optimizer)
    }

    /// Adds a group, like `optimizer.add_param_group({...})` (e.g. unfreezing a
    /// stage of a pretrained model with its own rate).
    ///
    /// # Errors
    ///
    /// PyTorch's messages: an invalid hyper-parameter, `some parameters appear
    /// in more than one parameter group`, `can't optimize a non-leaf Tensor`;
    /// nothing is added then.
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, ParamGroup, Sgd, SgdConfig};
    /// let (w, b) = (blocks_core::Tensor::ones([2]), blocks_core::Tensor::ones([1]));
    /// let mut opt = Sgd::new([&w], SgdConfig::default());
    /// opt.add_param_group(ParamGroup::new([&b], SgdConfig { lr: 0.5, ..Default::default() })).unwrap();
    /// assert_eq!(opt.param_groups().len(), 2);
    /// assert!(opt.add_param_group(ParamGroup::new([&w], SgdConfig::default())).is_err());
    /// ```
    pub fn add_param_group(&mut self, group: ParamGroup<C, E>) -> Result<(), ConfigError> {
        group.config.check()?;
        let params = super::optimizer::unique_params(group.params)?;
        let seen: HashSet<_> = self.params.iter().map(TensorBase::identity).collect();
        if params.iter().any(|p| seen.contains(&p.identity())) {
            return Err(ConfigError::new("some parameters appear in more than one parameter group"));
        }
        for param in &params {
            let slot = C::EAGER.then(|| Self::new_slot(&group.config, &param.shape()));
            self.slots.push(slot);
        }
        self.groups.push((group.config, params.len()));
        self.initial_lrs.push(None);
        self.params.extend(params);
        Ok(())
    }

    /// The groups, each with its parameters and hyper-parameters, like `optimizer.param_groups`.
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamConfig};
    /// let opt = Adam::new([&blocks_core::Tensor::ones([1])], AdamConfig::default());
    /// assert_eq!(opt.param_groups()[0].config.lr, 1e-3);
    /// ```
    pub fn param_groups(&self) -> Vec<ParamGroup<C, E>> {
        let mut start = 0;
        self.groups
            .iter()
            .map(|&(config, len)| {
                let group = ParamGroup { params: self.params[start..start + len].to_vec(), config };
                start += len;
                group
            })
            .collect()
    }

    /// The hyper-parameters of the first group (of the only one, for an
    /// optimizer made with [`new`](Self::new)).
    ///
    /// ```
    /// use blocks_core::optim::{Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// assert_eq!(opt.config().lr, 1e-3);
    /// ```
    pub fn config(&self) -> &C {
        &self.groups[0].0
    }

    /// Changes group `group`'s hyper-parameters, checked as PyTorch's constructor checks them.
    ///
    /// # Errors
    ///
    /// PyTorch's message for an invalid value; nothing changes then.
    ///
    /// # Panics
    ///
    /// If there is no group `group`.
    ///
    /// ```
    /// use blocks_core::optim::{Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// opt.set_group_config(0, SgdConfig { momentum: 0.9, ..*opt.config() }).unwrap();
    /// assert_eq!(opt.config().momentum, 0.9);
    /// ```
    #[track_caller]
    pub fn set_group_config(&mut self, group: usize, config: C) -> Result<(), ConfigError> {
        let count = self.groups.len();
        let slot = self.groups.get_mut(group).unwrap_or_else(|| panic!("no group {group} of {count}"));
        config.check()?;
        slot.0 = config;
        Ok(())
    }

    /// How many steps parameter `index` has taken (`state[p]["step"]`; 0 for
    /// SGD, which keeps no count).
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamConfig, Optimizer};
    /// let w = blocks_core::Tensor::ones([1]).requires_grad_(true);
    /// let mut opt = Adam::new([&w], AdamConfig::default());
    /// w.sum().backward();
    /// opt.step();
    /// assert_eq!(opt.step_count(0), 1);
    /// ```
    pub fn step_count(&self, index: usize) -> u64 {
        self.slots.get(index).and_then(Option::as_ref).map_or(0, |s| s.step as u64)
    }

    /// The state buffer `name` of parameter `index` (`state[p][name]`), once
    /// a step has made it.
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, RMSprop, RMSpropConfig};
    /// let w = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// let mut opt = RMSprop::new([&w], RMSpropConfig::default());
    /// assert!(opt.state_buffer(0, "square_avg").is_none());
    /// w.sum().backward();
    /// opt.step();
    /// assert!((opt.state_buffer(0, "square_avg").unwrap().to_vec()[0] - 0.01).abs() < 1e-7);
    /// ```
    pub fn state_buffer(&self, index: usize, name: &str) -> Option<TensorBase<E>> {
        let k = C::BUFFERS.iter().position(|(n, _)| *n == name)?;
        let buffer = self.slots.get(index)?.as_ref()?.buffers[k].as_ref()?;
        Some(TensorBase::from_array(buffer.clone()))
    }

    /// Prints and saves as `class` (AdamW is Adam printed as `AdamW`).
    pub(crate) fn set_class(&mut self, class: &'static str) {
        self.class = class;
    }

    fn new_slot(config: &C, shape: &[usize]) -> Slot<E> {
        let buffers = (0..C::BUFFERS.len())
            .map(|k| config.initial(k).map(|v| ArrayD::from_elem(shape, E::of(v))))
            .collect();
        Slot { step: 0.0, scalars: C::SCALARS.iter().map(|&(_, v)| v).collect(), buffers }
    }

    /// Each parameter's group's hyper-parameters, in parameter order.
    fn configs(&self) -> impl Iterator<Item = C> + '_ {
        self.groups.iter().flat_map(|&(config, len)| std::iter::repeat_n(config, len))
    }
}

impl<C: Rule, E: Element> LearningRate for Grouped<C, E> {
    fn learning_rate(&self) -> f64 {
        self.groups[0].0.lr()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        for (config, _) in &mut self.groups {
            config.set_lr(lr);
        }
    }

    fn group_count(&self) -> usize {
        self.groups.len()
    }

    fn group_learning_rate(&self, group: usize) -> f64 {
        self.groups[group].0.lr()
    }

    fn set_group_learning_rate(&mut self, group: usize, lr: f64) {
        self.groups[group].0.set_lr(lr);
    }

    fn group_momentum(&self, group: usize) -> Option<f64> {
        self.groups[group].0.momentum()
    }

    fn set_group_momentum(&mut self, group: usize, momentum: f64) {
        self.groups[group].0.set_momentum(momentum);
    }

    fn group_initial_lr(&self, group: usize) -> Option<f64> {
        self.initial_lrs[group]
    }

    fn set_group_initial_lr(&mut self, group: usize, lr: f64) {
        self.initial_lrs[group] = Some(lr);
    }
}

impl<C: Rule, E: Element> Optimizer<E> for Grouped<C, E> {
    fn step(&mut self) {
        check_initialized(self.class, &self.params);
        let configs: Vec<C> = self.configs().collect();
        for ((param, config), slot) in self.params.iter().zip(&configs).zip(&mut self.slots) {
            if !param.requires_grad() {
                continue;
            }
            let Some(shape) = param.with_grad(|grad| grad.map(|g| g.shape().to_vec())) else { continue };
            let slot = slot.get_or_insert_with(|| Self::new_slot(config, &shape));
            // Buffers the configuration uses but a loaded state lacked start as PyTorch starts them.
            for (k, buffer) in slot.buffers.iter_mut().enumerate() {
                if buffer.is_none()
                    && let Some(value) = config.initial(k)
                {
                    *buffer = Some(ArrayD::from_elem(shape.as_slice(), E::of(value)));
                }
            }
            if C::STEP {
                slot.step += 1.0;
            }
            param.with_grad(|grad| {
                let Some(grad) = grad else { return };
                param.update_data(|data| config.update(slot, data, grad));
            });
        }
    }

    fn params(&self) -> &[TensorBase<E>] {
        &self.params
    }

    fn lr(&self) -> f64 {
        self.learning_rate()
    }

    fn set_lr(&mut self, lr: f64) {
        self.set_learning_rate(lr);
    }

    fn state_dict(&self) -> OptimizerState {
        let mut state = OptimizerState::new();
        for (index, slot) in self.slots.iter().enumerate() {
            let Some(slot) = slot else { continue };
            if C::STEP {
                state.insert(format!("state.{index}.step"), Tensor::scalar(slot.step));
            }
            for (&(name, _), &value) in C::SCALARS.iter().zip(&slot.scalars) {
                state.insert(format!("state.{index}.{name}"), Tensor::scalar(value));
            }
            for (&(name, _), buffer) in C::BUFFERS.iter().zip(&slot.buffers) {
                if let Some(buffer) = buffer {
                    state.insert(format!("state.{index}.{name}"), TensorBase::from_array(buffer.clone()));
                }
            }
        }
        let mut start = 0;
        let groups: Vec<Value> = self
            .groups
            .iter()
            .zip(&self.initial_lrs)
            .map(|((config, len), initial_lr)| {
                let mut group = config.to_json();
                if let Some(initial_lr) = initial_lr {
                    group.insert("initial_lr".into(), (*initial_lr).into());
                }
                group.insert("params".into(), Value::from((start..start + len).collect::<Vec<_>>()));
                start += len;
                Value::Object(group)
            })
            .collect();
        state.set_metadata("optimizer", self.class);
        state.set_metadata("param_groups", Value::Array(groups).to_string());
        state
    }

    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<(), StateError> {
        let lens: Vec<usize> = self.groups.iter().map(|g| g.1).collect();
        let saved = read_groups(state, C::NAMES, &lens)?;
        let mut groups = Vec::with_capacity(saved.len());
        let initial_lrs = saved.iter().map(|group| group.get("initial_lr").and_then(Value::as_f64)).collect();
        for (group, &len) in saved.iter().zip(&lens) {
            let config = C::from_json(group, self.class)?;
            config.check().map_err(|e| StateError::new(e.to_string()))?;
            groups.push((config, len));
        }
        let mut names: Vec<&str> =
            C::SCALARS.iter().map(|s| s.0).chain(C::BUFFERS.iter().map(|b| b.0)).collect();
        if C::STEP {
            names.push("step");
        }
        check_keys(state, self.params.len(), &names)?;
        let mut slots = Vec::with_capacity(self.params.len());
        for (index, param) in self.params.iter().enumerate() {
            let shape = param.shape();
            let step = if C::STEP { state_step(state, index)? } else { None };
            let scalars = C::SCALARS
                .iter()
                .map(|&(name, _)| state_scalar(state, index, name))
                .collect::<Result<Vec<_>, _>>()?;
            let buffers = C::BUFFERS
                .iter()
                .map(|&(name, allowed)| state_array(state, index, name, &shape, allowed))
                .collect::<Result<Vec<_>, _>>()?;
            let required: Vec<bool> = C::BUFFERS
                .iter()
                .zip(&buffers)
                .filter(|((name, _), _)| C::REQUIRED.contains(name))
                .map(|(_, b)| b.is_some())
                .chain(scalars.iter().map(Option::is_some))
                .chain(C::STEP.then_some(step.is_some()))
                .collect();
            let any =
                step.is_some() || scalars.iter().any(Option::is_some) || buffers.iter().any(Option::is_some);
            if any && !required.iter().all(|&present| present) {
                let mut parts: Vec<&str> = Vec::new();
                if C::STEP {
                    parts.push("a one-element step");
                }
                parts.extend(C::SCALARS.iter().map(|s| s.0));
                parts.extend(C::REQUIRED);
                let list = match parts.split_last() {
                    Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                    _ => parts.join(""),
                };
                return Err(StateError::new(format!("parameter {index} needs {list} together")));
            }
            slots.push(any.then(|| Slot {
                step: step.unwrap_or(0.0),
                scalars: scalars.iter().zip(C::SCALARS).map(|(s, &(_, v))| s.unwrap_or(v)).collect(),
                buffers,
            }));
        }
        self.groups = groups;
        self.initial_lrs = initial_lrs;
        self.slots = slots;
        Ok(())
    }
}

/// PyTorch's printout: the class, then each group's hyper-parameters sorted by name.
///
/// ```
/// use blocks_core::optim::{Adadelta, AdadeltaConfig};
/// let opt = Adadelta::new([&blocks_core::Tensor::ones([1])], AdadeltaConfig::default());
/// assert_eq!(
///     opt.to_string(),
///     "Adadelta (\nParameter Group 0\n    capturable: False\n    differentiable: False\n    eps: 1e-06\n    \
///      foreach: None\n    lr: 1.0\n    maximize: False\n    rho: 0.9\n    weight_decay: 0\n)"
/// );
/// ```
impl<C: Rule, E: Element> fmt::Display for Grouped<C, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups = self.groups.iter().map(|(config, _)| config.repr(self.class)).collect();
        f.write_str(&pyrepr::optimizer_groups(self.class, groups))
    }
}

impl<C: Rule, E: Element> fmt::Debug for Grouped<C, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
