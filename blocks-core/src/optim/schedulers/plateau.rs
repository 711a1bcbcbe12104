//! `ReduceLROnPlateau`: each group's rate cut by `factor` when a metric has
//! stopped improving for `patience` epochs.

use serde_json::{Value, json};

use super::{Progress, SchedulerState};
use crate::optim::{ConfigError, LearningRate, StateError};

/// Whether the metric should go down (a loss) or up (an accuracy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlateauMode {
    /// `"min"`: lower is better.
    Min,
    /// `"max"`: higher is better.
    Max,
}

/// How `threshold` measures a significant improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdMode {
    /// `"rel"`: better than `best · (1 ∓ threshold)`.
    Rel,
    /// `"abs"`: better than `best ∓ threshold`.
    Abs,
}

/// ReduceLROnPlateau's settings, with `torch.optim.lr_scheduler.ReduceLROnPlateau`'s
/// defaults (`mode="min", factor=0.1, patience=10, threshold=1e-4,
/// threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8`).
///
/// ```
/// use blocks_core::optim::{PlateauMode, ReduceLROnPlateauConfig};
/// let config = ReduceLROnPlateauConfig { mode: PlateauMode::Max, patience: 2, ..Default::default() };
/// assert_eq!(config.factor, 0.1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReduceLROnPlateauConfig {
    /// Whether the metric should fall or rise.
    pub mode: PlateauMode,
    /// The rate is multiplied by this (below 1).
    pub factor: f64,
    /// Epochs without improvement tolerated before a cut.
    pub patience: usize,
    /// The least change that counts as an improvement.
    pub threshold: f64,
    /// Whether `threshold` is relative or absolute.
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a cut before counting bad epochs again.
    pub cooldown: usize,
    /// The lowest rate: one value for every group, or one per group.
    pub min_lr: Vec<f64>,
    /// A cut smaller than this is skipped.
    pub eps: f64,
}

impl Default for ReduceLROnPlateauConfig {
    fn default() -> Self {
        ReduceLROnPlateauConfig {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: vec![0.0],
            eps: 1e-8,
        }
    }
}

/// Cuts the rates when a metric plateaus, like
/// `torch.optim.lr_scheduler.ReduceLROnPlateau`: call
/// [`step`](Self::step) with the metric once per epoch.
///
/// ```
/// use blocks_core::optim::{Optimizer, ReduceLROnPlateau, ReduceLROnPlateauConfig, Sgd, SgdConfig};
/// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
/// let mut schedule = ReduceLROnPlateau::new(&opt, ReduceLROnPlateauConfig { patience: 1, factor: 0.5, ..Default::default() });
/// for loss in [1.0, 0.9, 0.9, 0.9] {
///     schedule.step(loss, &mut opt);
/// }
/// assert_eq!(opt.lr(), 0.5); // two epochs without improvement
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReduceLROnPlateau {
    config: ReduceLROnPlateauConfig,
    min_lrs: Vec<f64>,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
    last_epoch: i64,
    last_lrs: Vec<f64>,
}

impl ReduceLROnPlateau {
    /// The schedule over `optimizer`'s groups.
    ///
    /// # Panics
    ///
    /// With PyTorch's message on invalid settings; see [`try_new`](Self::try_new).
    ///
    /// ```
    /// use blocks_core::optim::{ReduceLROnPlateau, ReduceLROnPlateauConfig, Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// assert_eq!(ReduceLROnPlateau::new(&opt, ReduceLROnPlateauConfig::default()).last_lrs(), &[1e-3]);
    /// ```
    #[track_caller]
    pub fn new(optimizer: &dyn LearningRate, config: ReduceLROnPlateauConfig) -> Self {
        Self::try_new(optimizer, config).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Like [`new`](Self::new), returning an error on invalid settings.
    ///
    /// # Errors
    ///
    /// PyTorch's messages: `Factor should be < 1.0.`, or a `min_lr` list of the wrong length.
    ///
    /// ```
    /// use blocks_core::optim::{ReduceLROnPlateau, ReduceLROnPlateauConfig, Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let error = ReduceLROnPlateau::try_new(&opt, ReduceLROnPlateauConfig { factor: 1.0, ..Default::default() });
    /// assert_eq!(error.unwrap_err().to_string(), "Factor should be < 1.0.");
    /// ```
    pub fn try_new(
        optimizer: &dyn LearningRate,
        config: ReduceLROnPlateauConfig,
    ) -> Result<Self, ConfigError> {
        if config.factor.is_nan() || config.factor >= 1.0 {
            return Err(ConfigError::new("Factor should be < 1.0."));
        }
        let groups = optimizer.group_count();
        let min_lrs = match config.min_lr.len() {
            1 => vec![config.min_lr[0]; groups],
            n if n == groups => config.min_lr.clone(),
            n => return Err(ConfigError::new(format!("expected {groups} min_lrs, got {n}"))),
        };
        let mut schedule = ReduceLROnPlateau {
            config,
            min_lrs,
            best: 0.0,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
            last_lrs: Progress::current(optimizer),
        };
        schedule.best = schedule.worst();
        Ok(schedule)
    }

    fn worst(&self) -> f64 {
        match self.config.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        }
    }

    fn is_better(&self, a: f64) -> bool {
        let (best, threshold) = (self.best, self.config.threshold);
        match (self.config.mode, self.config.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + threshold,
        }
    }

    /// Records this epoch's `metric` and cuts the rates if it has not
    /// improved for more than `patience` epochs, like `scheduler.step(metric)`.
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, PlateauMode, ReduceLROnPlateau, ReduceLROnPlateauConfig, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
    /// let config = ReduceLROnPlateauConfig { mode: PlateauMode::Max, patience: 0, ..Default::default() };
    /// let mut schedule = ReduceLROnPlateau::new(&opt, config);
    /// schedule.step(0.5, &mut opt); // the first accuracy is an improvement
    /// schedule.step(0.5, &mut opt); // no better: cut at once
    /// assert_eq!(opt.lr(), 0.1);
    /// ```
    pub fn step(&mut self, metric: f64, optimizer: &mut dyn LearningRate) {
        self.last_epoch += 1;
        if self.is_better(metric) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.config.patience {
            if self.min_lrs.len() != optimizer.group_count() && self.config.min_lr.len() == 1 {
                self.min_lrs = vec![self.config.min_lr[0]; optimizer.group_count()];
            }
            for (g, &min_lr) in self.min_lrs.iter().enumerate().take(optimizer.group_count()) {
                let old_lr = optimizer.group_learning_rate(g);
                let new_lr = (old_lr * self.config.factor).max(min_lr);
                if old_lr - new_lr > self.config.eps {
                    optimizer.set_group_learning_rate(g, new_lr);
                }
            }
            self.cooldown_counter = self.config.cooldown;
            self.num_bad_epochs = 0;
        }
        self.last_lrs = Progress::current(optimizer);
    }

    /// Every group's rate after the last step, like `scheduler.get_last_lr()`.
    ///
    /// ```
    /// use blocks_core::optim::{ReduceLROnPlateau, ReduceLROnPlateauConfig, Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
    /// assert_eq!(ReduceLROnPlateau::new(&opt, ReduceLROnPlateauConfig::default()).last_lrs(), &[0.1]);
    /// ```
    pub fn last_lrs(&self) -> &[f64] {
        &self.last_lrs
    }

    /// The number of steps taken, like `scheduler.last_epoch`.
    ///
    /// ```
    /// use blocks_core::optim::{ReduceLROnPlateau, ReduceLROnPlateauConfig, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let mut schedule = ReduceLROnPlateau::new(&opt, ReduceLROnPlateauConfig::default());
    /// schedule.step(1.0, &mut opt);
    /// assert_eq!(schedule.last_epoch(), 1);
    /// ```
    pub fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    /// What is needed to resume: the epoch, the rates, `best`,
    /// `num_bad_epochs` and `cooldown_counter` (PyTorch's names; an infinite
    /// `best`, before any metric, is saved as `null`).
    ///
    /// ```
    /// use blocks_core::optim::{ReduceLROnPlateau, ReduceLROnPlateauConfig, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let mut schedule = ReduceLROnPlateau::new(&opt, ReduceLROnPlateauConfig::default());
    /// schedule.step(0.25, &mut opt);
    /// assert_eq!(schedule.state().extra["best"], 0.25);
    /// ```
    pub fn state(&self) -> SchedulerState {
        let mut state = SchedulerState::new(self.last_epoch, Vec::new(), self.last_lrs.clone());
        let best = if self.best.is_finite() { json!(self.best) } else { Value::Null };
        state.extra.insert("best".into(), best);
        state.extra.insert("num_bad_epochs".into(), json!(self.num_bad_epochs));
        state.extra.insert("cooldown_counter".into(), json!(self.cooldown_counter));
        state
    }

    /// Resumes from a saved [`state`](Self::state).
    ///
    /// # Errors
    ///
    /// A state without the counters, or for another number of groups; nothing changes then.
    ///
    /// ```
    /// use blocks_core::optim::{ReduceLROnPlateau, ReduceLROnPlateauConfig, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let mut first = ReduceLROnPlateau::new(&opt, ReduceLROnPlateauConfig::default());
    /// first.step(0.5, &mut opt);
    /// let mut second = ReduceLROnPlateau::new(&opt, ReduceLROnPlateauConfig::default());
    /// second.load_state(&first.state()).unwrap();
    /// assert_eq!(second, first);
    /// ```
    pub fn load_state(&mut self, state: &SchedulerState) -> Result<(), StateError> {
        let count = |key: &str| {
            state.extra.get(key).and_then(Value::as_u64).map(|v| v as usize).ok_or_else(|| {
                StateError::new(format!("ReduceLROnPlateau: no count {key:?} in the schedule's state"))
            })
        };
        let (num_bad_epochs, cooldown_counter) = (count("num_bad_epochs")?, count("cooldown_counter")?);
        let best = match state.extra.get("best") {
            Some(Value::Null) => self.worst(),
            Some(v) => {
                v.as_f64().ok_or_else(|| StateError::new("ReduceLROnPlateau: \"best\" is not a number"))?
            }
            None => return Err(StateError::new("ReduceLROnPlateau: no \"best\" in the schedule's state")),
        };
        if state.last_lrs.len() != self.last_lrs.len() {
            return Err(StateError::new(format!(
                "the schedule was saved for {} parameter groups, this one has {}",
                state.last_lrs.len(),
                self.last_lrs.len()
            )));
        }
        self.best = best;
        self.num_bad_epochs = num_bad_epochs;
        self.cooldown_counter = cooldown_counter;
        self.last_epoch = state.last_epoch;
        self.last_lrs = state.last_lrs.clone();
        Ok(())
    }
}
