//! Optimizers and learning-rate schedules: PyTorch's `torch.optim`, with
//! the same update formulas, defaults, state files and printouts.
//!
//! ```
//! use blocks_core::nn::{DynLinear, Module, ModuleExt};
//! use blocks_core::optim::{Adam, AdamConfig, Optimizer};
//! use blocks_core::Tensor;
//! let net = DynLinear::new(3, 1);
//! let mut opt = Adam::new(net.parameters(), AdamConfig { lr: 1e-2, ..Default::default() });
//! let (x, y) = (Tensor::rand([8, 3]), Tensor::zeros([8, 1]));
//! let mut losses = Vec::new();
//! for _ in 0..20 {
//!     opt.zero_grad();
//!     let error = &net.forward(&x) - &y;
//!     let loss = (&error * &error).mean();
//!     losses.push(loss.item());
//!     loss.backward();
//!     opt.step();
//! }
//! assert!(losses[19] < losses[0]);
//! ```

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod adamw;
mod fields;
mod grouped;
mod nadam;
mod optimizer;
pub(crate) mod pyrepr;
mod radam;
mod rmsprop;
mod rule;
mod schedulers;
mod sgd;
mod state;

pub use adadelta::{Adadelta, AdadeltaConfig};
pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig};
pub use adamax::{Adamax, AdamaxConfig};
pub use adamw::AdamWConfig;
pub use grouped::{Grouped, ParamGroup};
pub use nadam::{NAdam, NAdamConfig};
pub use optimizer::{ConfigError, LearningRate, Optimizer};
pub use radam::{RAdam, RAdamConfig};
pub use rmsprop::{RMSprop, RMSpropConfig};
pub use schedulers::PerGroup;
pub use schedulers::{
    AnnealStrategy, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, LinearLRConfig, LrScheduler,
    MultiStepLR, OneCycleLR, OneCycleLRConfig, PlateauMode, ReduceLROnPlateau, ReduceLROnPlateauConfig,
    SchedulerState, SequentialLR, StepLR, ThresholdMode,
};
pub use sgd::{Sgd, SgdConfig};
pub use state::{LoadStateError, OptimizerState, StateError};
