//! `CosineAnnealingLR`: each group's rate along a half cosine from its base
//! rate down to `eta_min`, with PyTorch's recursive update.

use std::f64::consts::PI;
use std::fmt;

use super::{LrScheduler, Progress, SchedulerState};
use crate::optim::{LearningRate, StateError};

/// Cosine annealing from the base rate down to `eta_min` over `t_max`
/// epochs and back up, like `torch.optim.lr_scheduler.CosineAnnealingLR`,
/// with PyTorch's recursive update (each rate computed from the last), so
/// the rates agree with PyTorch's `get_last_lr()` bit for bit.
///
/// ```
/// use blocks_core::optim::{CosineAnnealingLR, LrScheduler, Sgd, SgdConfig};
/// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
/// let mut schedule = CosineAnnealingLR::new(&opt, 2, 0.0);
/// schedule.step(&mut opt);
/// assert!((schedule.last_lr() - 0.5).abs() < 1e-15);
/// schedule.step(&mut opt);
/// assert!(schedule.last_lr().abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CosineAnnealingLR {
    t_max: usize,
    eta_min: f64,
    progress: Progress,
}

impl CosineAnnealingLR {
    /// PyTorch's default `eta_min` (`CosineAnnealingLR(optimizer, T_max, eta_min=0.0)`).
    ///
    /// ```
    /// use blocks_core::optim::{CosineAnnealingLR, Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let schedule = CosineAnnealingLR::new(&opt, 10, CosineAnnealingLR::DEFAULT_ETA_MIN);
    /// ```
    pub const DEFAULT_ETA_MIN: f64 = 0.0;

    /// A schedule from each group's base rate (its `initial_lr` if a schedule
    /// set one, else its rate) to `eta_min` over `t_max` epochs.
    ///
    /// # Panics
    ///
    /// If `t_max` is 0.
    ///
    /// ```
    /// use blocks_core::optim::{CosineAnnealingLR, LrScheduler, Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
    /// assert_eq!(CosineAnnealingLR::new(&opt, 10, 0.0).last_lr(), 0.1);
    /// ```
    pub fn new(optimizer: &dyn LearningRate, t_max: usize, eta_min: f64) -> Self {
        assert!(t_max > 0, "CosineAnnealingLR: T_max must be at least 1");
        CosineAnnealingLR { t_max, eta_min, progress: Progress::read(optimizer) }
    }
}

impl LrScheduler for CosineAnnealingLR {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.progress.last_epoch += 1;
        let epoch = self.progress.last_epoch;
        let t_max = self.t_max as i64;
        let eta_min = self.eta_min;
        // The same expressions, in the same order, as PyTorch's `get_lr`
        // (Python's `%` is Euclidean for a positive divisor).
        let restart = (epoch - 1 - t_max).rem_euclid(2 * t_max) == 0;
        let lrs = Progress::current(optimizer)
            .into_iter()
            .zip(&self.progress.base_lrs)
            .map(|(lr, &base_lr)| {
                if restart {
                    lr + (base_lr - eta_min) * (1.0 - (PI / t_max as f64).cos()) / 2.0
                } else {
                    (1.0 + (PI * epoch as f64 / t_max as f64).cos())
                        / (1.0 + (PI * (epoch - 1) as f64 / t_max as f64).cos())
                        * (lr - eta_min)
                        + eta_min
                }
            })
            .collect();
        self.progress.apply(optimizer, lrs);
    }

    fn step_to_epoch(&mut self, optimizer: &mut dyn LearningRate, epoch: i64) {
        self.progress.last_epoch = epoch;
        let (t_max, eta_min) = (self.t_max as f64, self.eta_min);
        let lrs = self
            .progress
            .base_lrs
            .iter()
            .map(|base_lr| eta_min + (base_lr - eta_min) * (1.0 + (PI * epoch as f64 / t_max).cos()) / 2.0)
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

impl fmt::Display for CosineAnnealingLR {
    /// `CosineAnnealingLR(T_max=10, eta_min=0.0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CosineAnnealingLR(T_max={}, eta_min={})",
            self.t_max,
            crate::optim::pyrepr::float(self.eta_min)
        )
    }
}
