//! Training utilities that act on a model's parameters, like `torch.nn.utils`.

mod clip_grad;

pub use clip_grad::{NonFiniteNormError, clip_grad_norm_, clip_grad_value_, try_clip_grad_norm_};
