//! Learning-rate schedules: `torch.optim.lr_scheduler.StepLR` and
//! `CosineAnnealingLR`, with PyTorch's recursive formulas so that the rates
//! agree with `get_last_lr()` to the last bit.

use std::f64::consts::PI;
use std::fmt;

use serde_json::{Value, json};

use super::{LearningRate, Optimizer};
use crate::Element;

/// A learning-rate schedule, like `torch.optim.lr_scheduler.LRScheduler`.
///
/// Creating one takes the optimizer's rate as the base rate (PyTorch's
/// `initial_lr`) and counts as epoch 0. Call [`step`](LrScheduler::step)
/// after `optimizer.step()`, once per epoch (or per iteration, as the
/// schedule is meant).
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
    /// Moves to the next epoch and sets the optimizer's learning rate, like
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

    /// The rate set by the last step, like `scheduler.get_last_lr()[0]`.
    ///
    /// ```
    /// use blocks_core::optim::{CosineAnnealingLR, LrScheduler, Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
    /// assert_eq!(CosineAnnealingLR::new(&opt, 5, 0.0).last_lr(), 0.1);
    /// ```
    fn last_lr(&self) -> f64;

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
    /// assert_eq!((schedule.state().last_epoch, schedule.state().last_lr), (1, 0.5));
    /// ```
    fn state(&self) -> SchedulerState;

    /// Resumes from a saved [`state`](LrScheduler::state); the optimizer's
    /// rate is restored with the optimizer's own state.
    ///
    /// ```
    /// use blocks_core::optim::{LrScheduler, SchedulerState, Sgd, SgdConfig, StepLR};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
    /// let mut schedule = StepLR::new(&opt, 1, 0.5);
    /// schedule.load_state(&SchedulerState { last_epoch: 4, base_lr: 1.0, last_lr: 0.0625 });
    /// assert_eq!(schedule.last_epoch(), 4);
    /// ```
    fn load_state(&mut self, state: &SchedulerState);
}

/// A schedule's progress, like the counters in `scheduler.state_dict()`; its
/// JSON form fits in an [`OptimizerState`](super::OptimizerState)'s metadata.
///
/// ```
/// use blocks_core::optim::SchedulerState;
/// let state = SchedulerState { last_epoch: 3, base_lr: 0.1, last_lr: 0.05 };
/// assert_eq!(SchedulerState::from_json(&state.to_json()), Some(state));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SchedulerState {
    /// The number of steps taken.
    pub last_epoch: i64,
    /// The rate the schedule started from (`initial_lr`).
    pub base_lr: f64,
    /// The rate the last step set.
    pub last_lr: f64,
}

impl SchedulerState {
    /// `{"last_epoch": 3, "base_lrs": [0.1], "_last_lr": [0.05]}`, PyTorch's key names.
    ///
    /// ```
    /// let state = blocks_core::optim::SchedulerState { last_epoch: 1, base_lr: 0.5, last_lr: 0.5 };
    /// assert_eq!(state.to_json(), r#"{"_last_lr":[0.5],"base_lrs":[0.5],"last_epoch":1}"#);
    /// ```
    pub fn to_json(&self) -> String {
        json!({"last_epoch": self.last_epoch, "base_lrs": [self.base_lr], "_last_lr": [self.last_lr]})
            .to_string()
    }

    /// Reads [`to_json`](Self::to_json)'s form; `None` if it is not that.
    ///
    /// ```
    /// assert!(blocks_core::optim::SchedulerState::from_json("{}").is_none());
    /// ```
    pub fn from_json(text: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(text).ok()?;
        let first = |key: &str| value.get(key)?.as_array()?.first()?.as_f64();
        Some(SchedulerState {
            last_epoch: value.get("last_epoch")?.as_i64()?,
            base_lr: first("base_lrs")?,
            last_lr: first("_last_lr")?,
        })
    }
}

/// Multiplies the rate by `gamma` every `step_size` epochs, like
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
    progress: SchedulerState,
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

    /// A schedule starting from `optimizer`'s current rate. Panics if `step_size` is 0.
    ///
    /// ```
    /// use blocks_core::optim::{LrScheduler, Sgd, SgdConfig, StepLR};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// assert_eq!(StepLR::new(&opt, 30, 0.1).last_epoch(), 0);
    /// ```
    pub fn new<E: Element>(optimizer: &dyn Optimizer<E>, step_size: usize, gamma: f64) -> Self {
        assert!(step_size > 0, "StepLR: step_size must be at least 1");
        let lr = optimizer.learning_rate();
        StepLR { step_size, gamma, progress: SchedulerState { last_epoch: 0, base_lr: lr, last_lr: lr } }
    }
}

impl LrScheduler for StepLR {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.progress.last_epoch += 1;
        let epoch = self.progress.last_epoch;
        let lr = optimizer.learning_rate();
        let lr = if epoch == 0 || epoch % self.step_size as i64 != 0 { lr } else { lr * self.gamma };
        optimizer.set_learning_rate(lr);
        self.progress.last_lr = lr;
    }

    fn last_lr(&self) -> f64 {
        self.progress.last_lr
    }

    fn last_epoch(&self) -> i64 {
        self.progress.last_epoch
    }

    fn state(&self) -> SchedulerState {
        self.progress
    }

    fn load_state(&mut self, state: &SchedulerState) {
        self.progress = *state;
    }
}

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
    progress: SchedulerState,
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

    /// A schedule from `optimizer`'s current rate to `eta_min` over `t_max`
    /// epochs. Panics if `t_max` is 0.
    ///
    /// ```
    /// use blocks_core::optim::{CosineAnnealingLR, LrScheduler, Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
    /// assert_eq!(CosineAnnealingLR::new(&opt, 10, 0.0).last_lr(), 0.1);
    /// ```
    pub fn new<E: Element>(optimizer: &dyn Optimizer<E>, t_max: usize, eta_min: f64) -> Self {
        assert!(t_max > 0, "CosineAnnealingLR: T_max must be at least 1");
        let lr = optimizer.learning_rate();
        CosineAnnealingLR {
            t_max,
            eta_min,
            progress: SchedulerState { last_epoch: 0, base_lr: lr, last_lr: lr },
        }
    }
}

impl LrScheduler for CosineAnnealingLR {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.progress.last_epoch += 1;
        let epoch = self.progress.last_epoch;
        let t_max = self.t_max as i64;
        let (lr, base_lr, eta_min) = (optimizer.learning_rate(), self.progress.base_lr, self.eta_min);
        // The same expressions, in the same order, as PyTorch's `get_lr`
        // (Python's `%` is Euclidean for a positive divisor).
        let lr = if (epoch - 1 - t_max).rem_euclid(2 * t_max) == 0 {
            lr + (base_lr - eta_min) * (1.0 - (PI / t_max as f64).cos()) / 2.0
        } else {
            (1.0 + (PI * epoch as f64 / t_max as f64).cos())
                / (1.0 + (PI * (epoch - 1) as f64 / t_max as f64).cos())
                * (lr - eta_min)
                + eta_min
        };
        optimizer.set_learning_rate(lr);
        self.progress.last_lr = lr;
    }

    fn last_lr(&self) -> f64 {
        self.progress.last_lr
    }

    fn last_epoch(&self) -> i64 {
        self.progress.last_epoch
    }

    fn state(&self) -> SchedulerState {
        self.progress
    }

    fn load_state(&mut self, state: &SchedulerState) {
        self.progress = *state;
    }
}

impl fmt::Display for StepLR {
    /// `StepLR(step_size=30, gamma=0.1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StepLR(step_size={}, gamma={})", self.step_size, super::pyrepr::float(self.gamma))
    }
}

impl fmt::Display for CosineAnnealingLR {
    /// `CosineAnnealingLR(T_max=10, eta_min=0.0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosineAnnealingLR(T_max={}, eta_min={})", self.t_max, super::pyrepr::float(self.eta_min))
    }
}
