//! Step decays: `StepLR` (every `step_size` epochs), `MultiStepLR` (at
//! given milestones) and `ExponentialLR` (every epoch), by repeated
//! multiplication as PyTorch does, so the rates agree bit for bit.

use std::fmt;

use super::{LrScheduler, Progress, SchedulerState};
use crate::optim::{LearningRate, StateError};

/// Multiplies each group's rate by `gamma` every `step_size` epochs, like
/// `torch.optim.lr_scheduler.StepLR`: repeated multiplication, as PyTorch
/// does, so the rates agree with PyTorch's bit for bit.
///
/// ```
/// use blocks_core::optim::{LrScheduler, Sgd, SgdConfig, StepLR};
/// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
/// let mut schedule = StepLR::new(&opt, 1, 0.1);
/// schedule.step(&mut opt);
/// schedule.step(&mut opt);
/// assert_eq!(schedule.last_lr(), 0.1 * 0.1 * 0.1); // not 0.1 * 0.1f64.powi(2)
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StepLR {
    step_size: usize,
    gamma: f64,
    progress: Progress,
}

impl StepLR {
    /// PyTorch's default `gamma` (`StepLR(optimizer, step_size, gamma=0.1)`).
    ///
    /// ```
    /// use blocks_core::optim::{Sgd, SgdConfig, StepLR};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let schedule = StepLR::new(&opt, 30, StepLR::DEFAULT_GAMMA);
    /// ```
    pub const DEFAULT_GAMMA: f64 = 0.1;

    /// A schedule starting from `optimizer`'s current rates.
    ///
    /// # Panics
    ///
    /// If `step_size` is 0.
    ///
    /// ```
    /// use blocks_core::optim::{LrScheduler, Sgd, SgdConfig, StepLR};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// assert_eq!(StepLR::new(&opt, 30, 0.1).last_epoch(), 0);
    /// ```
    pub fn new(optimizer: &dyn LearningRate, step_size: usize, gamma: f64) -> Self {
        assert!(step_size > 0, "StepLR: step_size must be at least 1");
        StepLR { step_size, gamma, progress: Progress::read(optimizer) }
    }
}

impl LrScheduler for StepLR {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.progress.last_epoch += 1;
        let epoch = self.progress.last_epoch;
        let decay = epoch != 0 && epoch % self.step_size as i64 == 0;
        let lrs = Progress::current(optimizer).into_iter().map(|lr| if decay { lr * self.gamma } else { lr });
        self.progress.apply(optimizer, lrs.collect());
    }

    fn step_to_epoch(&mut self, optimizer: &mut dyn LearningRate, epoch: i64) {
        self.progress.last_epoch = epoch;
        let power = epoch.div_euclid(self.step_size as i64) as i32;
        let lrs =
            self.progress.base_lrs.iter().map(|base| base * self.gamma.powf(f64::from(power))).collect();
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

impl fmt::Display for StepLR {
    /// `StepLR(step_size=30, gamma=0.1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StepLR(step_size={}, gamma={})", self.step_size, crate::optim::pyrepr::float(self.gamma))
    }
}

/// Multiplies each group's rate by `gamma` at each milestone epoch, like
/// `torch.optim.lr_scheduler.MultiStepLR` (a milestone listed twice
/// multiplies by `gamma²`).
///
/// ```
/// use blocks_core::optim::{LrScheduler, MultiStepLR, Sgd, SgdConfig};
/// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
/// let mut schedule = MultiStepLR::new(&mut opt, vec![2, 4], 0.5);
/// let rates: Vec<f64> = (0..5).map(|_| { schedule.step(&mut opt); schedule.last_lr() }).collect();
/// assert_eq!(rates, vec![1.0, 0.5, 0.5, 0.25, 0.25]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MultiStepLR {
    milestones: Vec<i64>,
    gamma: f64,
    progress: Progress,
}

impl MultiStepLR {
    /// A schedule over `optimizer`'s groups; creating it is epoch 0 (a
    /// milestone at 0 decays at once, as in PyTorch).
    ///
    /// ```
    /// use blocks_core::optim::{LrScheduler, MultiStepLR, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// assert_eq!(MultiStepLR::new(&mut opt, vec![30, 80], 0.1).last_epoch(), 0);
    /// ```
    pub fn new(optimizer: &mut dyn LearningRate, milestones: Vec<i64>, gamma: f64) -> Self {
        let mut milestones = milestones;
        milestones.sort_unstable();
        let mut schedule = MultiStepLR { milestones, gamma, progress: Progress::attach(optimizer) };
        schedule.progress.last_epoch = -1;
        schedule.step(optimizer);
        schedule
    }
}

impl LrScheduler for MultiStepLR {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.progress.last_epoch += 1;
        let epoch = self.progress.last_epoch;
        let count = self.milestones.iter().filter(|&&m| m == epoch).count() as i32;
        let lrs = Progress::current(optimizer)
            .into_iter()
            .map(|lr| if count == 0 { lr } else { lr * self.gamma.powf(f64::from(count)) });
        self.progress.apply(optimizer, lrs.collect());
    }

    fn step_to_epoch(&mut self, optimizer: &mut dyn LearningRate, epoch: i64) {
        self.progress.last_epoch = epoch;
        let passed = self.milestones.partition_point(|&m| m <= epoch) as i32;
        let lrs =
            self.progress.base_lrs.iter().map(|base| base * self.gamma.powf(f64::from(passed))).collect();
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

/// Multiplies each group's rate by `gamma` every epoch, like
/// `torch.optim.lr_scheduler.ExponentialLR`.
///
/// ```
/// use blocks_core::optim::{ExponentialLR, LrScheduler, Sgd, SgdConfig};
/// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
/// let mut schedule = ExponentialLR::new(&mut opt, 0.5);
/// schedule.step(&mut opt);
/// schedule.step(&mut opt);
/// assert_eq!(schedule.last_lr(), 0.25);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ExponentialLR {
    gamma: f64,
    progress: Progress,
}

impl ExponentialLR {
    /// A schedule over `optimizer`'s groups, starting from their rates.
    ///
    /// ```
    /// use blocks_core::optim::{ExponentialLR, LrScheduler, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
    /// assert_eq!(ExponentialLR::new(&mut opt, 0.9).last_lr(), 0.1);
    /// ```
    pub fn new(optimizer: &mut dyn LearningRate, gamma: f64) -> Self {
        ExponentialLR { gamma, progress: Progress::attach(optimizer) }
    }
}

impl LrScheduler for ExponentialLR {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.progress.last_epoch += 1;
        let lrs = Progress::current(optimizer).into_iter().map(|lr| lr * self.gamma).collect();
        self.progress.apply(optimizer, lrs);
    }

    fn step_to_epoch(&mut self, optimizer: &mut dyn LearningRate, epoch: i64) {
        self.progress.last_epoch = epoch;
        let lrs = self.progress.base_lrs.iter().map(|base| base * self.gamma.powf(epoch as f64)).collect();
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
