//! `SequentialLR`: schedules one after another, switching at milestones
//! (a warmup, then a decay).

use std::fmt;

use serde_json::Value;

use super::{LrScheduler, SchedulerState};
use crate::optim::{ConfigError, LearningRate, StateError};

/// Runs `schedulers` one after the other, the next starting at each
/// milestone epoch, like `torch.optim.lr_scheduler.SequentialLR`.
///
/// ```
/// use blocks_core::optim::{
///     CosineAnnealingLR, LinearLR, LinearLRConfig, LrScheduler, Optimizer, SequentialLR, Sgd, SgdConfig,
/// };
/// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
/// let warmup = LinearLR::new(&mut opt, LinearLRConfig { start_factor: 0.25, total_iters: 3, ..Default::default() });
/// let cosine = CosineAnnealingLR::new(&opt, 10, 0.0);
/// let mut schedule = SequentialLR::new(&mut opt, vec![Box::new(warmup), Box::new(cosine)], vec![3]);
/// assert_eq!(opt.lr(), 0.25);
/// let rates: Vec<f64> = (0..4).map(|_| { schedule.step(&mut opt); opt.lr() }).collect();
/// assert_eq!(rates[..3], [0.5, 0.75, 1.0]); // warmup done: the cosine starts from the base rate
/// assert!(rates[3] < 1.0);
/// ```
pub struct SequentialLR {
    schedulers: Vec<Box<dyn LrScheduler>>,
    milestones: Vec<i64>,
    last_epoch: i64,
    last_lrs: Vec<f64>,
}

impl SequentialLR {
    /// The schedules in order and the epochs at which each after the first starts.
    ///
    /// # Panics
    ///
    /// With PyTorch's message on invalid arguments; see [`try_new`](Self::try_new).
    ///
    /// ```
    /// use blocks_core::optim::{ExponentialLR, LrScheduler, SequentialLR, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let only = ExponentialLR::new(&mut opt, 0.9);
    /// assert_eq!(SequentialLR::new(&mut opt, vec![Box::new(only)], vec![]).last_epoch(), 0);
    /// ```
    #[track_caller]
    pub fn new(
        optimizer: &mut dyn LearningRate,
        schedulers: Vec<Box<dyn LrScheduler>>,
        milestones: Vec<i64>,
    ) -> Self {
        Self::try_new(optimizer, schedulers, milestones).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Like [`new`](Self::new), returning an error.
    ///
    /// # Errors
    ///
    /// PyTorch's messages: no schedulers, or not one milestone fewer than schedulers.
    ///
    /// ```
    /// use blocks_core::optim::{SequentialLR, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let error = SequentialLR::try_new(&mut opt, vec![], vec![]).err().unwrap();
    /// assert_eq!(error.to_string(), "SequentialLR expects at least one scheduler, but got no scheduler.");
    /// ```
    pub fn try_new(
        optimizer: &mut dyn LearningRate,
        mut schedulers: Vec<Box<dyn LrScheduler>>,
        milestones: Vec<i64>,
    ) -> Result<Self, ConfigError> {
        if schedulers.is_empty() {
            return Err(ConfigError::new(
                "SequentialLR expects at least one scheduler, but got no scheduler.",
            ));
        }
        if milestones.len() + 1 != schedulers.len() {
            return Err(ConfigError::new(format!(
                "Sequential Schedulers expects number of schedulers provided to be one more than the number of \
                 milestone points, but got number of schedulers {} and the number of milestones to be equal to {}",
                schedulers.len(),
                milestones.len()
            )));
        }
        // Back to the rates the schedules started from (each group's `initial_lr`, or the first
        // schedule's base rate where a schedule made from `&optimizer` set none), then the first
        // schedule's epoch 0.
        let first = milestones.partition_point(|&m| m <= 0);
        let bases = schedulers[first].state().base_lrs;
        for g in 0..optimizer.group_count() {
            if let Some(initial_lr) = optimizer.group_initial_lr(g).or_else(|| bases.get(g).copied()) {
                optimizer.set_group_learning_rate(g, initial_lr);
            }
        }
        schedulers[first].step_to_epoch(optimizer, 0);
        let last_lrs = schedulers[first].last_lrs().to_vec();
        Ok(SequentialLR { schedulers, milestones, last_epoch: 0, last_lrs })
    }
}

impl LrScheduler for SequentialLR {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.last_epoch += 1;
        let index = self.milestones.partition_point(|&m| m <= self.last_epoch);
        let scheduler = &mut self.schedulers[index];
        if index > 0 && self.milestones[index - 1] == self.last_epoch {
            scheduler.step_to_epoch(optimizer, 0);
        } else {
            scheduler.step(optimizer);
        }
        self.last_lrs = scheduler.last_lrs().to_vec();
    }

    fn step_to_epoch(&mut self, optimizer: &mut dyn LearningRate, epoch: i64) {
        self.last_epoch = epoch;
        let index = self.milestones.partition_point(|&m| m <= epoch);
        let start = if index > 0 { self.milestones[index - 1] } else { 0 };
        self.schedulers[index].step_to_epoch(optimizer, epoch - start);
        self.last_lrs = self.schedulers[index].last_lrs().to_vec();
    }

    fn last_lrs(&self) -> &[f64] {
        &self.last_lrs
    }

    fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    /// The epoch, the rates and each schedule's own state under `_schedulers`.
    fn state(&self) -> SchedulerState {
        let mut state = SchedulerState::new(self.last_epoch, Vec::new(), self.last_lrs.clone());
        let children = self.schedulers.iter().map(|s| s.state().to_value()).collect();
        state.extra.insert("_schedulers".into(), Value::Array(children));
        state.extra.insert("_milestones".into(), self.milestones.clone().into());
        state
    }

    fn load_state(&mut self, state: &SchedulerState) -> Result<(), StateError> {
        let children = state.extra.get("_schedulers").and_then(Value::as_array).ok_or_else(|| {
            StateError::new("SequentialLR: no \"_schedulers\" list in the schedule's state")
        })?;
        if children.len() != self.schedulers.len() {
            return Err(StateError::new(format!(
                "SequentialLR: the state has {} schedules, this one has {}",
                children.len(),
                self.schedulers.len()
            )));
        }
        let children = children
            .iter()
            .map(|c| {
                SchedulerState::from_value(c)
                    .ok_or_else(|| StateError::new("SequentialLR: a malformed schedule state"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Checked first, so that nothing changes on error.
        for (index, (scheduler, child)) in self.schedulers.iter().zip(&children).enumerate() {
            let groups = scheduler.last_lrs().len();
            if child.last_lrs.len() != groups {
                return Err(StateError::new(format!(
                    "SequentialLR: schedule {index} was saved for {} parameter groups, this one has {groups}",
                    child.last_lrs.len()
                )));
            }
        }
        for (scheduler, child) in self.schedulers.iter_mut().zip(&children) {
            scheduler.load_state(child)?;
        }
        self.last_epoch = state.last_epoch;
        self.last_lrs = state.last_lrs.clone();
        Ok(())
    }
}

impl fmt::Debug for SequentialLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SequentialLR")
            .field("milestones", &self.milestones)
            .field("last_epoch", &self.last_epoch)
            .field("last_lrs", &self.last_lrs)
            .finish_non_exhaustive()
    }
}
