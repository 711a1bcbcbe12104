//! d2l 7.6: LeNet, with each layer's output shape printed as the book prints
//! it for `X = torch.rand(size=(1, 1, 28, 28))` (`\t` is a tab):
//!
//! ```text
//! Conv2d output shape: \t [1, 6, 28, 28]
//! Sigmoid output shape: \t [1, 6, 28, 28]
//! AvgPool2d output shape: \t [1, 6, 14, 14]
//! ...
//! ```
//!
//! The line is d2l's `print(layer.__class__.__name__, 'output shape: \t', X.shape)`
//! character for character (the same spaces and tab), except that the shape is
//! Rust's `[1, 6, 28, 28]` (a `Vec<usize>`, what `Tensor::shape` gives) where
//! PyTorch prints `torch.Size([1, 6, 28, 28])`.
//!
//! Run with `cargo run --example lenet`.

mod convnets;

use blocks::prelude::*;

fn main() {
    manual_seed(0);
    let net = convnets::lenet();
    let x = Tensor::rand([1, 1, 28, 28]);
    for (name, shape) in convnets::output_shapes(&net, &x) {
        println!("{}", convnets::shape_line(&name, &shape));
    }
    println!("{net}");
}
