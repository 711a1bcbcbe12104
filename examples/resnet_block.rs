//! d2l 8.6: ResNet's `Residual` block, without and with the 1x1 convolution,
//! and the shapes the book shows:
//!
//! ```text
//! blk = Residual(3, 3); X = torch.rand(4, 3, 6, 6); blk(X).shape                    # [4, 3, 6, 6]
//! blk = Residual(3, 6, use_1x1conv=True, strides=2); blk(X).shape                   # [4, 6, 3, 3]
//! ```
//!
//! Run with `cargo run --example resnet_block`.

mod convnets;

use blocks::nn::Images;
use blocks::prelude::*;
use convnets::Residual;

/// The output shapes of `Residual(3, 3)` and `Residual(3, 6, use_1x1conv=True, strides=2)` on `x`.
pub fn book_shapes(x: &Images<3>) -> (Vec<usize>, Vec<usize>) {
    let blk = Residual::<3, 3>::new();
    let same = blk.forward(x).shape();
    let blk = Residual::<3, 6>::with_1x1conv(2);
    let halved = blk.forward(x).shape();
    (same, halved)
}

fn main() {
    manual_seed(0);
    let x = Images::<3>::new(Tensor::rand([4, 3, 6, 6]));
    let (same, halved) = book_shapes(&x);
    println!("Residual(3, 3): {same:?}");
    println!("Residual(3, 6, use_1x1conv=True, strides=2): {halved:?}");
    println!("{}", Residual::<3, 6>::with_1x1conv(2));
}
