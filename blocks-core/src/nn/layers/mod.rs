//! The layers, one folder or file per family, as PyTorch's `torch/nn/modules/`.

pub(crate) mod activation;
pub(crate) mod adaptive_max_pool;
pub(crate) mod attention;
pub(crate) mod conv;
pub(crate) mod dropout;
pub(crate) mod embedding;
pub(crate) mod flatten;
pub(crate) mod linear;
pub(crate) mod norm;
pub(crate) mod padding;
pub(crate) mod pixel_shuffle;
pub(crate) mod pool;
pub(crate) mod pool1d;
pub(crate) mod recurrent;
pub(crate) mod transformer;
pub(crate) mod unflatten;
pub(crate) mod upsample;
