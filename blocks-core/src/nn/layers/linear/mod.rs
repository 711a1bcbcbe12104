//! `nn.Linear` and `nn.LazyLinear`.

pub(crate) mod lazy_linear;
// The file is named as PyTorch names it (`torch/nn/modules/linear.py`).
#[allow(clippy::module_inception)]
pub(crate) mod linear;
