//! Learning-rate schedules: `torch.optim.lr_scheduler`, with PyTorch's
//! recursive formulas so that the rates agree with `get_last_lr()` to the
//! last bit, one rate per parameter group.

mod cosine;
mod lambda;
mod linear;
mod one_cycle;
mod per_group;
mod plateau;
mod sequential;
mod step;

use serde_json::{Map, Value, json};

pub use cosine::CosineAnnealingLR;
pub use lambda::LambdaLR;
pub use linear::{LinearLR, LinearLRConfig};
pub use one_cycle::{AnnealStrategy, OneCycleLR, OneCycleLRConfig};
pub use per_group::PerGroup;
pub use plateau::{PlateauMode, ReduceLROnPlateau, ReduceLROnPlateauConfig, ThresholdMode};
pub use sequential::SequentialLR;
pub use step::{ExponentialLR, MultiStepLR, StepLR};

use super::{LearningRate, StateError};

/// A learning-rate schedule, like `torch.optim.lr_scheduler.LRScheduler`.
///
/// Creating one takes each group's rate as its base rate (PyTorch's
/// `initial_lr`) and counts as epoch 0. Call [`step`](LrScheduler::step)
/// after `optimizer.step()`, once per epoch (or per iteration, as the
/// schedule is meant); every group's rate is set.
///
/// ```
/// use blocks_core::optim::{LrScheduler, Optimizer, Sgd, SgdConfig, StepLR};
/// let w = blocks_core::Tensor::ones([1]);
/// let mut opt = Sgd::new([&w], SgdConfig { lr: 1.0, ..Default::default() });
/// let mut schedule = StepLR::new(&opt, 2, 0.5);
/// let mut rates = vec![schedule.last_lr()];
/// for _ in 0..4 {
///     opt.step();
///     schedule.step(&mut opt);
///     rates.push(schedule.last_lr());
/// }
/// assert_eq!(rates, vec![1.0, 1.0, 0.5, 0.5, 0.25]);
/// ```
pub trait LrScheduler {
    /// Moves to the next epoch and sets the optimizer's learning rates, like
    /// `scheduler.step()`: any optimizer, of either element type.
    ///
    /// ```
    /// use blocks_core::optim::{LrScheduler, Optimizer, Sgd, SgdConfig, StepLR};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
    /// let mut schedule = StepLR::new(&opt, 1, 0.5);
    /// schedule.step(&mut opt);
    /// assert_eq!(opt.lr(), 0.05);
    ///
    /// let mut double = Sgd::new([&blocks_core::Tensor64::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
    /// StepLR::new(&double, 1, 0.5).step(&mut double);
    /// assert_eq!(double.lr(), 0.05);
    /// ```
    fn step(&mut self, optimizer: &mut dyn LearningRate);

    /// Jumps to `epoch` and sets the rates from the closed form, like
    /// PyTorch's `_update_lr(epoch)` (what SequentialLR does at a milestone).
    ///
    /// ```
    /// use blocks_core::optim::{ExponentialLR, LrScheduler, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
    /// let mut schedule = ExponentialLR::new(&mut opt, 0.5);
    /// schedule.step_to_epoch(&mut opt, 3);
    /// assert_eq!(schedule.last_lr(), 0.125);
    /// ```
    fn step_to_epoch(&mut self, optimizer: &mut dyn LearningRate, epoch: i64);

    /// The rate of the first group set by the last step, like `scheduler.get_last_lr()[0]`.
    ///
    /// ```
    /// use blocks_core::optim::{CosineAnnealingLR, LrScheduler, Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
    /// assert_eq!(CosineAnnealingLR::new(&opt, 5, 0.0).last_lr(), 0.1);
    /// ```
    fn last_lr(&self) -> f64 {
        self.last_lrs()[0]
    }

    /// Every group's rate set by the last step, like `scheduler.get_last_lr()`.
    ///
    /// ```
    /// use blocks_core::optim::{LrScheduler, ParamGroup, Sgd, SgdConfig, StepLR};
    /// let (w, b) = (blocks_core::Tensor::ones([1]), blocks_core::Tensor::ones([1]));
    /// let base = SgdConfig { lr: 0.1, ..Default::default() };
    /// let mut opt = Sgd::with_groups(vec![ParamGroup::new([&w], base), ParamGroup::new([&b], SgdConfig { lr: 1.0, ..base })]);
    /// let mut schedule = StepLR::new(&opt, 1, 0.5);
    /// schedule.step(&mut opt);
    /// assert_eq!(schedule.last_lrs(), &[0.05, 0.5]);
    /// ```
    fn last_lrs(&self) -> &[f64];

    /// The number of steps taken, like `scheduler.last_epoch`.
    ///
    /// ```
    /// use blocks_core::optim::{LrScheduler, Sgd, SgdConfig, StepLR};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let mut schedule = StepLR::new(&opt, 10, 0.1);
    /// schedule.step(&mut opt);
    /// assert_eq!(schedule.last_epoch(), 1);
    /// ```
    fn last_epoch(&self) -> i64;

    /// What is needed to resume the schedule exactly.
    ///
    /// ```
    /// use blocks_core::optim::{LrScheduler, Sgd, SgdConfig, StepLR};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
    /// let mut schedule = StepLR::new(&opt, 1, 0.5);
    /// schedule.step(&mut opt);
    /// assert_eq!((schedule.state().last_epoch, schedule.state().last_lrs), (1, vec![0.5]));
    /// ```
    fn state(&self) -> SchedulerState;

    /// Resumes from a saved [`state`](LrScheduler::state); the optimizer's
    /// rates are restored with the optimizer's own state.
    ///
    /// # Errors
    ///
    /// A state for another number of groups, or without this schedule's counters.
    ///
    /// ```
    /// use blocks_core::optim::{LrScheduler, SchedulerState, Sgd, SgdConfig, StepLR};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
    /// let mut schedule = StepLR::new(&opt, 1, 0.5);
    /// schedule.load_state(&SchedulerState::new(4, vec![1.0], vec![0.0625])).unwrap();
    /// assert_eq!(schedule.last_epoch(), 4);
    /// ```
    fn load_state(&mut self, state: &SchedulerState) -> Result<(), StateError>;
}

/// A schedule's progress, like the counters in `scheduler.state_dict()`; its
/// JSON form fits in an [`OptimizerState`](super::OptimizerState)'s metadata.
///
/// ```
/// use blocks_core::optim::SchedulerState;
/// let state = SchedulerState::new(3, vec![0.1], vec![0.05]);
/// assert_eq!(SchedulerState::from_json(&state.to_json()), Some(state));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerState {
    /// The number of steps taken.
    pub last_epoch: i64,
    /// Each group's rate the schedule started from (`initial_lr`).
    pub base_lrs: Vec<f64>,
    /// Each group's rate the last step set.
    pub last_lrs: Vec<f64>,
    /// What else a schedule keeps (ReduceLROnPlateau's `best`, SequentialLR's `_schedulers`).
    pub extra: Map<String, Value>,
}

impl SchedulerState {
    /// A state with no extra entries.
    ///
    /// ```
    /// let state = blocks_core::optim::SchedulerState::new(0, vec![0.1, 0.2], vec![0.1, 0.2]);
    /// assert!(state.extra.is_empty());
    /// ```
    pub fn new(last_epoch: i64, base_lrs: Vec<f64>, last_lrs: Vec<f64>) -> Self {
        SchedulerState { last_epoch, base_lrs, last_lrs, extra: Map::new() }
    }

    /// `{"last_epoch": 3, "base_lrs": [0.1], "_last_lr": [0.05], ...}`, PyTorch's key names.
    ///
    /// ```
    /// let state = blocks_core::optim::SchedulerState::new(1, vec![0.5], vec![0.5]);
    /// assert_eq!(state.to_json(), r#"{"_last_lr":[0.5],"base_lrs":[0.5],"last_epoch":1}"#);
    /// ```
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// Reads [`to_json`](Self::to_json)'s form; `None` if it is not that.
    ///
    /// ```
    /// assert!(blocks_core::optim::SchedulerState::from_json("{}").is_none());
    /// ```
    pub fn from_json(text: &str) -> Option<Self> {
        Self::from_value(&serde_json::from_str(text).ok()?)
    }

    pub(crate) fn to_value(&self) -> Value {
        let mut object = self.extra.clone();
        object.insert("last_epoch".into(), json!(self.last_epoch));
        object.insert("base_lrs".into(), json!(self.base_lrs));
        object.insert("_last_lr".into(), json!(self.last_lrs));
        Value::Object(object)
    }

    pub(crate) fn from_value(value: &Value) -> Option<Self> {
        let mut extra = value.as_object()?.clone();
        let list =
            |v: Option<Value>| -> Option<Vec<f64>> { v?.as_array()?.iter().map(Value::as_f64).collect() };
        let last_epoch = extra.remove("last_epoch")?.as_i64()?;
        let base_lrs = list(extra.remove("base_lrs"))?;
        let last_lrs = list(extra.remove("_last_lr"))?;
        Some(SchedulerState { last_epoch, base_lrs, last_lrs, extra })
    }
}

/// What every schedule keeps: the epoch, each group's base rate and last rate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Progress {
    pub(crate) last_epoch: i64,
    pub(crate) base_lrs: Vec<f64>,
    pub(crate) last_lrs: Vec<f64>,
}

impl Progress {
    /// Epoch 0 from the optimizer's groups: each base rate is the group's
    /// `initial_lr` if a schedule set one, else its rate.
    pub(crate) fn read(optimizer: &dyn LearningRate) -> Self {
        let groups = 0..optimizer.group_count();
        Progress {
            last_epoch: 0,
            base_lrs: groups
                .clone()
                .map(|g| optimizer.group_initial_lr(g).unwrap_or_else(|| optimizer.group_learning_rate(g)))
                .collect(),
            last_lrs: groups.map(|g| optimizer.group_learning_rate(g)).collect(),
        }
    }

    /// As [`read`](Self::read), setting each group's `initial_lr` where none
    /// is set (PyTorch's `group.setdefault("initial_lr", group["lr"])`).
    pub(crate) fn attach(optimizer: &mut dyn LearningRate) -> Self {
        for g in 0..optimizer.group_count() {
            if optimizer.group_initial_lr(g).is_none() {
                let lr = optimizer.group_learning_rate(g);
                optimizer.set_group_initial_lr(g, lr);
            }
        }
        Self::read(optimizer)
    }

    /// The optimizer's current rates.
    pub(crate) fn current(optimizer: &dyn LearningRate) -> Vec<f64> {
        (0..optimizer.group_count()).map(|g| optimizer.group_learning_rate(g)).collect()
    }

    /// Sets each group's rate to `lrs` and records them.
    pub(crate) fn apply(&mut self, optimizer: &mut dyn LearningRate, lrs: Vec<f64>) {
        for (g, &lr) in lrs.iter().enumerate() {
            optimizer.set_group_learning_rate(g, lr);
        }
        self.last_lrs = lrs;
    }

    pub(crate) fn state(&self) -> SchedulerState {
        SchedulerState::new(self.last_epoch, self.base_lrs.clone(), self.last_lrs.clone())
    }

    pub(crate) fn load(&mut self, state: &SchedulerState) -> Result<(), StateError> {
        let groups = self.base_lrs.len();
        if state.base_lrs.len() != groups || state.last_lrs.len() != groups {
            return Err(StateError::new(format!(
                "the schedule was saved for {} parameter groups, this one has {groups}",
                state.base_lrs.len()
            )));
        }
        self.last_epoch = state.last_epoch;
        self.base_lrs = state.base_lrs.clone();
        self.last_lrs = state.last_lrs.clone();
        Ok(())
    }
}
