//! Blocks: PyTorch's `torch.nn` — the `Module` trait, layers, `Sequential`,
//! and the typed tensors that let the compiler check widths between blocks.

mod activation;
mod block;
mod boxed;
pub(crate) mod chain;
pub(crate) mod field;
mod forward;
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

pub use activation::ReLU;
pub use block::Block;
pub use forward::{Call, FeedsInto, Forward, SameWidth};
pub use linear::{DynLinear, Linear};
pub use module::{Member, Module, Visitor};
pub use parameter::Parameter;
pub use repr::{fmt_module, module_repr};
pub use sequential::Sequential;
pub use state_dict::{LoadError, LoadReport, ShapeMismatch, StateDict, StateDictError};
pub use training::TrainingFlag;
pub use typed::{Batch, Scalar};
