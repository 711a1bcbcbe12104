//! Activations: ReLU and the others without settings, those with settings (GELU, LeakyReLU, ...), Softmax and LogSoftmax.

pub(crate) mod activation;
pub(crate) mod activation_params;
pub(crate) mod softmax;
