//! `OneCycleLR`: the 1cycle policy, the rate up from `max_lr/div_factor` to
//! `max_lr` and down far below, with the momentum (β₁ for the Adam family)
//! cycled the other way between each group's `max_momentum` and
//! `base_momentum`.

use std::f64::consts::PI;

use serde_json::{Value, json};

use super::{LrScheduler, PerGroup, Progress, SchedulerState};
use crate::optim::{ConfigError, LearningRate, StateError, pyrepr};

/// How OneCycleLR moves between two values (`anneal_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnealStrategy {
    /// `"cos"`: along half a cosine.
    Cos,
    /// `"linear"`: along a straight line.
    Linear,
}

impl AnnealStrategy {
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => {
                let cos_out = (PI * pct).cos() + 1.0;
                end + (start - end) / 2.0 * cos_out
            }
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

/// OneCycleLR's settings, with `torch.optim.lr_scheduler.OneCycleLR`'s
/// defaults from [`new`](Self::new) (`pct_start=0.3`, cosine, momentum cycled
/// between 0.85 and 0.95, `div_factor=25`, `final_div_factor=1e4`, two phases).
/// `max_lr`, `base_momentum` and `max_momentum` are one value for every
/// parameter group or one per group ([`PerGroup`]).
///
/// ```
/// use blocks_core::optim::{AnnealStrategy, OneCycleLRConfig};
/// let config = OneCycleLRConfig {
///     anneal_strategy: AnnealStrategy::Linear,
///     base_momentum: [0.8, 0.7].into(),
///     ..OneCycleLRConfig::new(0.1, 100)
/// };
/// assert_eq!(config.pct_start, 0.3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OneCycleLRConfig {
    /// The peak rate: one value for every group, or one per group.
    pub max_lr: PerGroup,
    /// The number of steps in the cycle (`epochs * steps_per_epoch`).
    pub total_steps: usize,
    /// The share of the cycle spent raising the rate.
    pub pct_start: f64,
    /// Cosine or linear annealing.
    pub anneal_strategy: AnnealStrategy,
    /// Cycle `momentum` (or Adam's β₁) inversely to the rate.
    pub cycle_momentum: bool,
    /// The momentum at the peak rate: one value for every group, or one per group.
    pub base_momentum: PerGroup,
    /// The momentum at the lowest rates: one value for every group, or one per group.
    pub max_momentum: PerGroup,
    /// The starting rate is `max_lr / div_factor`.
    pub div_factor: f64,
    /// The final rate is the starting rate `/ final_div_factor`.
    pub final_div_factor: f64,
    /// Down to the starting rate in a second phase, then to the final rate in a third.
    pub three_phase: bool,
}

impl OneCycleLRConfig {
    /// PyTorch's defaults with `max_lr` for every group over `total_steps` steps.
    ///
    /// ```
    /// use blocks_core::optim::{OneCycleLRConfig, PerGroup};
    /// let config = OneCycleLRConfig::new(0.1, 50);
    /// assert_eq!((config.max_lr, config.div_factor), (PerGroup::All(0.1), 25.0));
    /// assert_eq!(OneCycleLRConfig::new([0.1, 0.2], 50).max_lr, PerGroup::Each(vec![0.1, 0.2]));
    /// ```
    pub fn new(max_lr: impl Into<PerGroup>, total_steps: usize) -> Self {
        OneCycleLRConfig {
            max_lr: max_lr.into(),
            total_steps,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: PerGroup::All(0.85),
            max_momentum: PerGroup::All(0.95),
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }
}

/// Which of a group's values a phase starts or ends at.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Level {
    Initial,
    Max,
    Min,
}

/// One phase: its last step and the levels of rate and momentum it goes between.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Phase {
    end_step: f64,
    lr: (Level, Level),
    momentum: (bool, bool),
}

/// The 1cycle policy, like `torch.optim.lr_scheduler.OneCycleLR`: called
/// after every batch; creating it sets each group's rate to
/// `max_lr / div_factor` and, with `cycle_momentum`, its momentum (β₁ for
/// the Adam family) to the group's `max_momentum`; each step sets them from
/// the group's own rates and momenta.
///
/// ```
/// use blocks_core::optim::{LrScheduler, OneCycleLR, OneCycleLRConfig, Optimizer, Sgd, SgdConfig};
/// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { momentum: 0.9, ..Default::default() });
/// let mut schedule = OneCycleLR::new(&mut opt, OneCycleLRConfig::new(1.0, 10));
/// assert!((opt.lr() - 0.04).abs() < 1e-12);
/// let rates: Vec<f64> = (0..10).map(|_| { schedule.step(&mut opt); opt.lr() }).collect();
/// assert!((rates[1] - 1.0).abs() < 1e-12); // the peak at step pct_start * total_steps - 1 = 2
/// assert!(rates[8] < 1e-5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OneCycleLR {
    config: OneCycleLRConfig,
    phases: Vec<Phase>,
    max_lrs: Vec<f64>,
    min_lrs: Vec<f64>,
    /// Each group's `max_momentum` and `base_momentum` (empty without `cycle_momentum`).
    max_momenta: Vec<f64>,
    base_momenta: Vec<f64>,
    progress: Progress,
}

impl OneCycleLR {
    /// The schedule over `optimizer`'s groups, applied at once (step 0).
    ///
    /// # Panics
    ///
    /// With PyTorch's message on invalid settings; see [`try_new`](Self::try_new).
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamConfig, LearningRate, OneCycleLR, OneCycleLRConfig};
    /// let mut opt = Adam::new([&blocks_core::Tensor::ones([1])], AdamConfig::default());
    /// OneCycleLR::new(&mut opt, OneCycleLRConfig::new(0.01, 100));
    /// assert_eq!(opt.group_momentum(0), Some(0.95)); // β₁
    /// ```
    #[track_caller]
    pub fn new(optimizer: &mut dyn LearningRate, config: OneCycleLRConfig) -> Self {
        Self::try_new(optimizer, config).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Like [`new`](Self::new), returning an error on invalid settings.
    ///
    /// # Errors
    ///
    /// PyTorch's `ValueError` messages (`total_steps` 0, `pct_start` outside
    /// `[0, 1]`, a `max_lr`, `base_momentum` or `max_momentum` list of the
    /// wrong length, momentum cycled on an optimizer without momentum); the
    /// optimizer is unchanged then.
    ///
    /// ```
    /// use blocks_core::optim::{Adagrad, AdagradConfig, OneCycleLR, OneCycleLRConfig};
    /// let mut opt = Adagrad::new([&blocks_core::Tensor::ones([1])], AdagradConfig::default());
    /// let error = OneCycleLR::try_new(&mut opt, OneCycleLRConfig::new(0.1, 10)).unwrap_err();
    /// assert_eq!(error.to_string(), "optimizer must support momentum or beta1 with `cycle_momentum` option enabled");
    /// ```
    pub fn try_new(optimizer: &mut dyn LearningRate, config: OneCycleLRConfig) -> Result<Self, ConfigError> {
        let groups = optimizer.group_count();
        let total = config.total_steps;
        if total == 0 {
            return Err(ConfigError::new("Expected positive integer total_steps, but got 0"));
        }
        if !(0.0..=1.0).contains(&config.pct_start) {
            return Err(ConfigError::new(format!(
                "Expected float between 0 and 1 pct_start, but got {}",
                pyrepr::float(config.pct_start)
            )));
        }
        let max_lrs = config.max_lr.for_groups("max_lr", groups)?;
        let (mut max_momenta, mut base_momenta) = (Vec::new(), Vec::new());
        if config.cycle_momentum {
            if (0..groups).any(|g| optimizer.group_momentum(g).is_none()) {
                return Err(ConfigError::new(
                    "optimizer must support momentum or beta1 with `cycle_momentum` option enabled",
                ));
            }
            max_momenta = config.max_momentum.for_groups("max_momentum", groups)?;
            base_momenta = config.base_momentum.for_groups("base_momentum", groups)?;
        }
        let peak = config.pct_start * total as f64;
        let last = (total - 1) as f64;
        let phases = if config.three_phase {
            vec![
                Phase { end_step: peak - 1.0, lr: (Level::Initial, Level::Max), momentum: (true, false) },
                Phase {
                    end_step: 2.0 * peak - 2.0,
                    lr: (Level::Max, Level::Initial),
                    momentum: (false, true),
                },
                Phase { end_step: last, lr: (Level::Initial, Level::Min), momentum: (true, true) },
            ]
        } else {
            vec![
                Phase { end_step: peak - 1.0, lr: (Level::Initial, Level::Max), momentum: (true, false) },
                Phase { end_step: last, lr: (Level::Max, Level::Min), momentum: (false, true) },
            ]
        };
        let mut min_lrs = Vec::with_capacity(groups);
        for (g, max_lr) in max_lrs.iter().enumerate() {
            let initial_lr = max_lr / config.div_factor;
            optimizer.set_group_initial_lr(g, initial_lr);
            min_lrs.push(initial_lr / config.final_div_factor);
            if let Some(&m) = max_momenta.get(g) {
                optimizer.set_group_momentum(g, m);
            }
        }
        let progress = Progress::read(optimizer);
        let mut schedule =
            OneCycleLR { config, phases, max_lrs, min_lrs, max_momenta, base_momenta, progress };
        schedule.step_to_epoch(optimizer, 0);
        Ok(schedule)
    }
}

impl LrScheduler for OneCycleLR {
    /// # Panics
    ///
    /// Past `total_steps`, with PyTorch's message.
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.step_to_epoch(optimizer, self.progress.last_epoch + 1);
    }

    fn step_to_epoch(&mut self, optimizer: &mut dyn LearningRate, epoch: i64) {
        let total = self.config.total_steps;
        assert!(
            epoch <= total as i64,
            "Tried to step {epoch} times. The specified number of total steps is {total}"
        );
        self.progress.last_epoch = epoch;
        let c = &self.config;
        let step = epoch as f64;
        let mut lrs = Vec::with_capacity(self.max_lrs.len());
        for g in 0..self.max_lrs.len() {
            let level = |level: Level| match level {
                Level::Initial => self.progress.base_lrs[g],
                Level::Max => self.max_lrs[g],
                Level::Min => self.min_lrs[g],
            };
            let momentum = |high: bool| if high { self.max_momenta[g] } else { self.base_momenta[g] };
            let mut start_step = 0.0;
            for (i, phase) in self.phases.iter().enumerate() {
                if step <= phase.end_step || i == self.phases.len() - 1 {
                    let pct = (step - start_step) / (phase.end_step - start_step);
                    lrs.push(c.anneal_strategy.anneal(level(phase.lr.0), level(phase.lr.1), pct));
                    if c.cycle_momentum {
                        let m = c.anneal_strategy.anneal(
                            momentum(phase.momentum.0),
                            momentum(phase.momentum.1),
                            pct,
                        );
                        optimizer.set_group_momentum(g, m);
                    }
                    break;
                }
                start_step = phase.end_step;
            }
        }
        self.progress.apply(optimizer, lrs);
    }

    fn last_lrs(&self) -> &[f64] {
        &self.progress.last_lrs
    }

    fn last_epoch(&self) -> i64 {
        self.progress.last_epoch
    }

    /// The epoch and rates, with PyTorch's `total_steps`, `cycle_momentum`
    /// and `_anneal_func_type`, and each group's `max_lr`, `min_lr`,
    /// `max_momentum` and `base_momentum` (which PyTorch keeps in the
    /// optimizer's `param_groups`).
    fn state(&self) -> SchedulerState {
        let mut state = self.progress.state();
        let anneal = match self.config.anneal_strategy {
            AnnealStrategy::Cos => "cos",
            AnnealStrategy::Linear => "linear",
        };
        for (key, value) in [
            ("total_steps", json!(self.config.total_steps)),
            ("cycle_momentum", json!(self.config.cycle_momentum)),
            ("_anneal_func_type", json!(anneal)),
            ("max_lr", json!(self.max_lrs)),
            ("min_lr", json!(self.min_lrs)),
            ("max_momentum", json!(self.max_momenta)),
            ("base_momentum", json!(self.base_momenta)),
        ] {
            state.extra.insert(key.into(), value);
        }
        state
    }

    /// Resumes the epoch and rates, and each group's rates and momenta
    /// where the state has them.
    ///
    /// # Errors
    ///
    /// A state for another number of groups, or of a schedule with other
    /// `total_steps` or `cycle_momentum`; nothing changes then.
    fn load_state(&mut self, state: &SchedulerState) -> Result<(), StateError> {
        let groups = self.max_lrs.len();
        let list = |key: &str, len: usize| -> Result<Option<Vec<f64>>, StateError> {
            let Some(value) = state.extra.get(key) else { return Ok(None) };
            let values: Option<Vec<f64>> =
                value.as_array().and_then(|a| a.iter().map(Value::as_f64).collect());
            match values {
                Some(v) if v.len() == len && v.iter().all(|x| x.is_finite()) => Ok(Some(v)),
                _ => Err(StateError::new(format!("OneCycleLR state: {key} is not {len} finite numbers"))),
            }
        };
        if let Some(total) = state.extra.get("total_steps")
            && total.as_u64() != Some(self.config.total_steps as u64)
        {
            return Err(StateError::new(format!(
                "OneCycleLR state: total_steps {total}, this schedule has {}",
                self.config.total_steps
            )));
        }
        if let Some(cycle) = state.extra.get("cycle_momentum")
            && cycle.as_bool() != Some(self.config.cycle_momentum)
        {
            return Err(StateError::new(format!(
                "OneCycleLR state: cycle_momentum {cycle}, this schedule has {}",
                self.config.cycle_momentum
            )));
        }
        let momenta = self.max_momenta.len();
        let (max_lrs, min_lrs) = (list("max_lr", groups)?, list("min_lr", groups)?);
        let (max_momenta, base_momenta) = (list("max_momentum", momenta)?, list("base_momentum", momenta)?);
        self.progress.load(state)?;
        self.max_lrs = max_lrs.unwrap_or(std::mem::take(&mut self.max_lrs));
        self.min_lrs = min_lrs.unwrap_or(std::mem::take(&mut self.min_lrs));
        self.max_momenta = max_momenta.unwrap_or(std::mem::take(&mut self.max_momenta));
        self.base_momenta = base_momenta.unwrap_or(std::mem::take(&mut self.base_momenta));
        Ok(())
    }
}
