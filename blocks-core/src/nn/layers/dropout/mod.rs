//! `nn.Dropout` and `nn.Dropout2d`.

// The file is named as PyTorch names it (`torch/nn/modules/dropout.py`).
#[allow(clippy::module_inception)]
pub(crate) mod dropout;
pub(crate) mod dropout2d;
