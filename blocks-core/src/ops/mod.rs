//! Tensor operations, each with its backward. One family per file.

mod activation;
mod activation_more;
mod activation_vision;
mod adaptive_max_pool;
mod arithmetic;
pub(crate) mod axes;
pub(crate) mod batch_norm;
mod batch_norm_sums;
pub(crate) mod broadcast;
mod compare;
mod conv;
mod conv_backward;
mod conv_panels;
mod conv_transpose;
pub(crate) mod dropout;
mod embedding;
mod extrema;
pub(crate) mod gemm;
pub(crate) mod gemm_kernel;
mod group_norm;
mod im2col;
mod index;
mod interpolate;
mod interpolate_size;
mod join;
mod layer_norm;
mod layer_norm_grad;
mod linear;
mod loss;
pub(crate) mod matmul;
mod pad;
mod pixel_shuffle;
mod pool;
mod pool1d;
mod reduce;
pub(crate) mod shape;
mod softmax;
mod unary;

pub use activation_more::GeluApproximate;
pub use batch_norm::BatchNormStats;
pub use compare::CompareOperand;
pub use conv::{Conv1dOptions, Conv2dOptions, ConvOptions};
pub use conv_transpose::{ConvTranspose1dOptions, ConvTranspose2dOptions, ConvTransposeOptions};
pub use extrema::Indices;
mod batched_matmul;
mod cumsum;
mod gather;
mod loss_class;
mod loss_options;
mod power;
mod repeat;
mod split;
mod triangle;
mod trig;
pub use loss_options::{
    BceWithLogitsOptions, CrossEntropyOptions, HuberOptions, KlDivOptions, KlDivReduction, NllLossOptions,
    Reduction, SmoothL1Options,
};
mod loss_probability;
mod loss_regression;
pub use interpolate::InterpolateMode;
pub use interpolate_size::{InterpolateSize, PerDim};
pub(crate) mod attention;
mod lstm_cell;
mod lstm_layer;
pub(crate) use lstm_layer::LstmWeights;
pub(crate) mod fused_attention;
mod winograd;

mod conv_few_columns;
mod pool_values;
