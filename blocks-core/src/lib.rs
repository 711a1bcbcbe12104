//! Tensors on `ndarray` with define-by-run reverse-mode autograd: the engine
//! under the `blocks` crate.
//!
//! ```
//! use blocks_core::Tensor;
//! let w = Tensor::from_vec(vec![1.0, -2.0], [1, 2]).requires_grad_(true);
//! let x = Tensor::from_vec(vec![3.0, 4.0], [1, 2]);
//! let y = x.linear(&w, None).relu().sum();
//! y.backward(); // y = relu(3 - 8) = 0, so no gradient flows
//! assert_eq!(w.grad().unwrap().to_vec(), vec![0.0, 0.0]);
//! ```

#![forbid(unsafe_code)]

mod any_tensor;
mod autograd;
pub mod data;
mod display;
#[cfg(feature = "mpi")]
pub mod distributed;
mod element;
mod error;
pub mod io;
pub mod nn;
mod numel;
mod ops;
pub mod optim;
mod random;
mod tensor;
mod threading;
mod vectorized;

pub use any_tensor::AnyTensor;
pub use autograd::grad_hooks::GradHookHandle;
pub use autograd::grad_mode::{NoGradGuard, is_grad_enabled, no_grad};
pub use autograd::gradcheck::{GradcheckError, GradcheckOptions, Mismatch, gradcheck, gradcheck_with};
pub use autograd::storage::{DataMut, Snapshot};
pub use element::{ByElement, Element};
pub use error::ShapeError;
pub use nn::module::gradcheck_module::{gradcheck_module, gradcheck_module_with};
pub use ops::attention::{BoolMask, Mask};
pub use ops::{
    BatchNormStats, CompareOperand, Conv1dOptions, Conv2dOptions, ConvOptions, GeluApproximate, Indices,
};
pub use ops::{
    BceWithLogitsOptions, CrossEntropyOptions, HuberOptions, KlDivOptions, KlDivReduction, NllLossOptions,
    Reduction, SmoothL1Options,
};
pub use ops::{ConvTranspose1dOptions, ConvTranspose2dOptions, ConvTransposeOptions};
pub use ops::{InterpolateMode, InterpolateSize, PerDim};
pub use random::{manual_seed, with_rng};
pub use tensor::{Tensor, Tensor64, TensorBase};
pub use threading::{MAX_THREADS, get_num_threads, set_num_threads, set_num_threads_oversubscribed};

/// Support for the `blocks` macros (`#[derive(Module)]`, `sequential!`):
/// not a public API, may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::nn::chain::{
        ChainStep, FeedsInChain, FirstInput, GivesTo, HasForward, Known, Step, Then, block, checked, feed,
        nested, of, pass, start,
    };
    pub use crate::nn::chained::within_field;
    pub use crate::nn::containers::repeat::{GivesAgain, Held, OwnInput};
    pub use crate::nn::field::{
        BufferField, Field, FlattenField, PlainTensorField, Probe, ProbeField, ProbeTensor,
    };
    pub use crate::nn::keeps_width::keep_width;
    pub use crate::nn::keeps_width::{KeptIf, KeptInputs, KeptKind};
    pub use crate::nn::run::chain_fit::{ChainChannels, ChainWidth, FitsInChain, ThenForward};
    pub use crate::nn::sequential::run_entry;
}

/// `ndarray`, re-exported so users build arrays with the version blocks uses.
pub use ndarray;
