//! The layers, one folder or file per family, as PyTorch's `torch/nn/modules/`.

pub(crate) mod activation;
pub(crate) mod attention;
pub(crate) mod conv;
pub(crate) mod dropout;
pub(crate) mod embedding;
pub(crate) mod flatten;
pub(crate) mod linear;
pub(crate) mod norm;
pub(crate) mod pool;
<<<<<<< HEAD
pub(crate) mod transformer;
=======
pub(crate) mod recurrent;
>>>>>>> 71602701c4352516e07486a23e3cd5e031d9980a
