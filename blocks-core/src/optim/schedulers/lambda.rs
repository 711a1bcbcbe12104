//! `LambdaLR`: each group's rate is its base rate times a function of the epoch.

use std::fmt;
use std::sync::Arc;

use super::{LrScheduler, Progress, SchedulerState};
use crate::optim::{ConfigError, LearningRate, StateError};

/// A factor of the epoch, as `LambdaLR` takes it.
type Factor = Arc<dyn Fn(i64) -> f64 + Send + Sync>;

/// The rate of each group is its base rate times `lr_lambda(epoch)`, like
/// `torch.optim.lr_scheduler.LambdaLR`; creating it applies epoch 0.
///
/// ```
/// use blocks_core::optim::{LambdaLR, LrScheduler, Optimizer, Sgd, SgdConfig};
/// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 1.0, ..Default::default() });
/// let mut schedule = LambdaLR::new(&mut opt, |epoch| 0.5f64.powi(epoch as i32));
/// schedule.step(&mut opt);
/// schedule.step(&mut opt);
/// assert_eq!(opt.lr(), 0.25);
/// ```
#[derive(Clone)]
pub struct LambdaLR {
    lambdas: Vec<Factor>,
    progress: Progress,
}

impl LambdaLR {
    /// One function for every group (`LambdaLR(optimizer, lr_lambda)`).
    ///
    /// ```
    /// use blocks_core::optim::{LambdaLR, LrScheduler, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
    /// let warmup = LambdaLR::new(&mut opt, |epoch| ((epoch + 1) as f64 / 10.0).min(1.0));
    /// assert!((warmup.last_lr() - 0.01).abs() < 1e-15);
    /// ```
    pub fn new(
        optimizer: &mut dyn LearningRate,
        lr_lambda: impl Fn(i64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        let lr_lambda: Factor = Arc::new(lr_lambda);
        let lambdas = vec![lr_lambda; optimizer.group_count()];
        Self::start(optimizer, lambdas)
    }

    /// One function per group (`LambdaLR(optimizer, [f0, f1, ...])`).
    ///
    /// # Errors
    ///
    /// PyTorch's message when the count differs from the number of groups.
    ///
    /// ```
    /// use blocks_core::optim::{LambdaLR, Sgd, SgdConfig};
    /// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// let two: Vec<Box<dyn Fn(i64) -> f64 + Send + Sync>> = vec![Box::new(|_| 1.0), Box::new(|_| 0.5)];
    /// let error = LambdaLR::per_group(&mut opt, two).unwrap_err();
    /// assert_eq!(error.to_string(), "Expected 1 lr_lambdas, but got 2");
    /// ```
    pub fn per_group(
        optimizer: &mut dyn LearningRate,
        lr_lambdas: Vec<Box<dyn Fn(i64) -> f64 + Send + Sync>>,
    ) -> Result<Self, ConfigError> {
        if lr_lambdas.len() != optimizer.group_count() {
            return Err(ConfigError::new(format!(
                "Expected {} lr_lambdas, but got {}",
                optimizer.group_count(),
                lr_lambdas.len()
            )));
        }
        Ok(Self::start(optimizer, lr_lambdas.into_iter().map(Factor::from).collect()))
    }

    fn start(optimizer: &mut dyn LearningRate, lambdas: Vec<Factor>) -> Self {
        let mut schedule = LambdaLR { lambdas, progress: Progress::attach(optimizer) };
        schedule.step_to_epoch(optimizer, 0);
        schedule
    }
}

impl LrScheduler for LambdaLR {
    fn step(&mut self, optimizer: &mut dyn LearningRate) {
        self.step_to_epoch(optimizer, self.progress.last_epoch + 1);
    }

    fn step_to_epoch(&mut self, optimizer: &mut dyn LearningRate, epoch: i64) {
        self.progress.last_epoch = epoch;
        let lrs = self.lambdas.iter().zip(&self.progress.base_lrs).map(|(f, base)| base * f(epoch)).collect();
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

impl fmt::Debug for LambdaLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaLR").field("progress", &self.progress).finish_non_exhaustive()
    }
}
