//! Tensor operations, each with its backward. One family per file.

mod activation;
mod activation_more;
mod arithmetic;
pub(crate) mod axes;
pub(crate) mod batch_norm;
pub(crate) mod broadcast;
mod compare;
mod conv;
mod conv_backward;
mod conv_panels;
pub(crate) mod dropout;
mod embedding;
mod extrema;
pub(crate) mod gemm;
pub(crate) mod gemm_kernel;
mod group_norm;
mod im2col;
mod index;
mod join;
mod layer_norm;
mod linear;
mod loss;
pub(crate) mod matmul;
mod pool;
mod reduce;
pub(crate) mod shape;
mod softmax;
mod unary;

pub use activation_more::GeluApproximate;
pub use batch_norm::BatchNormStats;
pub use compare::CompareOperand;
pub use conv::{Conv1dOptions, Conv2dOptions, ConvOptions};
pub use extrema::Indices;
pub(crate) mod attention;
