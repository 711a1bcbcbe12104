//! `LinearLR`: each group's rate scaled by a factor going linearly from
//! `start_factor` to `end_factor` over `total_iters` epochs (a warmup).

use super::{LrScheduler, Progress, SchedulerState};
use crate::optim::{ConfigError, LearningRate, StateError};

/// LinearLR's settings, with `torch.optim.lr_scheduler.LinearLR`'s defaults
/// (`start_factor=1/3, end_factor=1.0, total_iters=5`).
///
/// ```
/// use blocks_core::optim::LinearLRConfig;
/// let warmup = LinearLRConfig { start_factor: 0.1, total_iters: 3, ..Default::default() };
/// assert_eq!(warmup.end_factor, 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearLRConfig {
    /// The factor at epoch 0, in `(0, 1]`.
    pub start_factor: f64,
    /// The factor from `total_iters` on, in `[0, 1]`.
    pub end_factor: f64,
    /// The number of epochs the factor takes to reach `end_factor`.
    pub total_iters: usize,
}

impl Default for LinearLRConfig {
    fn default() -> Self {
        LinearLRConfig { start_factor: 1.0 / 3.0, end_factor: 1.0, total_iters: 5 }
    }
}

/// A linear warmup (or decay), like `torch.optim.lr_scheduler.LinearLR`:
/// creating it multiplies each group's rate by `start_factor`, and each step
/// moves the factor linearly to `end_factor`, with PyTorch's recursive formula.
///
/// ```
/// use blocks_core::optim::{LinearLR, LinearLRConfig, LrScheduler, Optimizer, Sgd, SgdConfig};
/// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
/// let mut warmup = LinearLR::new(&mut opt, LinearLRConfig { start_factor: 0.5, end_factor: 1.0, total_iters: 2 });
/// assert_eq!(opt.lr(), 0.5);
/// warmup.step(&mut opt);
/// assert_eq!(opt.lr(), 0.75);
/// warmup.step(&mut opt);
/// warmup.step(&mut opt);
/// assert_eq!(opt.lr(), 1.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LinearLR {
    config: LinearLRConfig,
    progress: Progress,
}

impl LinearLR {
    /// The schedule, applied at once (epoch 0).
    ///
    /// # Panics
    ///
    /// With PyTorch's message on invalid factors; see [`try_new`](Self::try_new).
    ///
    /// ```
    /// use blocks_core::optim::{LinearLR, LinearLRConfig, LrScheduler, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.3, ..Default::default() });
    /// assert!((LinearLR::new(&mut opt, LinearLRConfig::default()).last_lr() - 0.1).abs() < 1e-12);
    /// ```
    #[track_caller]
    pub fn new(optimizer: &mut dyn LearningRate, config: LinearLRConfig) -> Self {
        Self::try_new(optimizer, config).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Like [`new`](Self::new), returning an error for invalid factors.
    ///
    /// # Errors
    ///
    /// PyTorch's `ValueError` messages for a factor out of range; the optimizer is unchanged then.
    ///
    /// ```
    /// use blocks_core::optim::{LinearLR, LinearLRConfig, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let error = LinearLR::try_new(&mut opt, LinearLRConfig { start_factor: 0.0, ..Default::default() }).unwrap_err();
    /// assert_eq!(error.to_string(), "Starting multiplicative factor expected to be greater than 0 and less or equal to 1.");
    /// ```
    pub fn try_new(optimizer: &mut dyn LearningRate, config: LinearLRConfig) -> Result<Self, ConfigError> {
        if !(config.start_factor > 0.0 && config.start_factor <= 1.0) {
            return Err(ConfigError::new(
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1.",
            ));
        }
        if !(0.0..=1.0).contains(&config.end_factor) {
            return Err(ConfigError::new("Ending multiplicative factor expected to be between 0 and 1."));
        }
        let mut schedule = LinearLR { config, progress: Progress::attach(optimizer) };
        schedule.progress.last_epoch = -1;
        schedule.step(optimizer);
        Ok(schedule)
    }
}

impl LrScheduler for LinearLR {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.progress.last_epoch += 1;
        let epoch = self.progress.last_epoch;
        let LinearLRConfig { start_factor: start, end_factor: end, total_iters } = self.config;
        let lrs = Progress::current(optimizer)
            .into_iter()
            .map(|lr| {
                if epoch == 0 {
                    lr * start
                } else if epoch > total_iters as i64 {
                    lr
                } else {
                    lr * (1.0
                        + (end - start) / (total_iters as f64 * start + (epoch - 1) as f64 * (end - start)))
                }
            })
            .collect();
        self.progress.apply(optimizer, lrs);
    }

    fn step_to_epoch(&mut self, optimizer: &mut dyn LearningRate, epoch: i64) {
        self.progress.last_epoch = epoch;
        let LinearLRConfig { start_factor: start, end_factor: end, total_iters } = self.config;
        let done = epoch.min(total_iters as i64) as f64;
        let lrs = self
            .progress
            .base_lrs
            .iter()
            .map(|base| base * (start + (end - start) * done / total_iters as f64))
            .collect();
        self.progress.apply(optimizer, lrs);
    }

    fn last_lrs(&self) -> &[f64] {
        &self.progress.last_lrs
    }

    fn last_epoch(&self) -> i64 {
        self.progress.last_epoch
    }

    fn state(&self) -> SchedulerState {
        self.progress.state()
    }

    fn load_state(&mut self, state: &SchedulerState) -> Result<(), StateError> {
        self.progress.load(state)
    }
}
