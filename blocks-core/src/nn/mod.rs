//! Blocks: PyTorch's `torch.nn` — the `Module` trait, layers, `Sequential`,
//! and the typed tensors that let the compiler check widths between blocks.

#[macro_use]
mod impl_block;
mod activation;
mod apply;
mod block;
mod boxed;
pub(crate) mod chain;
mod dyn_sequential;
pub(crate) mod field;
mod forward;
mod images;
mod index;
pub mod init;
mod keeps_width;
mod lazy_linear;
mod linear;
mod module;
mod module_list;
mod parameter;
pub(crate) mod path;
mod repr;
mod sequential;
mod state_dict;
mod training;
mod typed;
mod uninitialized;

pub use activation::ReLU;
pub use apply::{apply, apply_to};
pub use block::Block;
pub use images::Images;
pub use dyn_sequential::DynSequential;
pub use forward::{AnyKind, ByInput, Call, FeedsInto, Forward, Rule, SameChannels, SameWidth, Takes, run};
pub use keeps_width::{KeepsWidth, KeptForward, TensorKind, forward_kept, keep_width};
pub use lazy_linear::LazyLinear;
pub use linear::{DynLinear, Linear};
pub use module::{AsModule, Member, Module, Visitor};
pub use parameter::Parameter;
pub use repr::{fmt_module, module_repr};
pub use sequential::Sequential;
pub use state_dict::{LoadError, LoadReport, ShapeMismatch, StateDict, StateDictError};
pub use training::TrainingFlag;
pub use typed::{Batch, Scalar};
pub use uninitialized::uninitialized_parameters;
