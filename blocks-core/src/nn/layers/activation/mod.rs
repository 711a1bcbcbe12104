//! Activations: ReLU and the others without settings, those with settings (GELU, LeakyReLU, ...), Softmax and LogSoftmax.

// The file is named as PyTorch names it (`torch/nn/modules/activation.py`).
#[allow(clippy::module_inception)]
pub(crate) mod activation;
pub(crate) mod activation_params;
pub(crate) mod activation_vision;
pub(crate) mod softmax;
