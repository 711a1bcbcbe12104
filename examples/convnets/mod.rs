//! The convolutional networks of d2l's chapters after "Layers and Blocks",
//! written as a user writes them: d2l's LeNet, ResNet's `Residual` block, and
//! the small CNN of `train_digits --model cnn`. Used by the examples and by
//! the tests (`tests/it/support/convnets.rs` includes this file).
#![allow(dead_code, unused_imports)]

mod digits_cnn;
mod lenet;
mod residual;

pub use digits_cnn::{DigitsCnn, digits_cnn};
pub use lenet::{LeNet, lenet, output_shapes, shape_line};
pub use residual::Residual;
