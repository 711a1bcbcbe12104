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
//! The lines come from a forward hook registered for every block
//! (`register_module_forward_hook`, PyTorch's global module hook), so one
//! forward of the whole net prints them.
//!
//! Run with `cargo run --example lenet`.

mod convnets;

use blocks::nn::register_module_forward_hook;
use blocks::prelude::*;

fn main() {
    manual_seed(0);
    let net = convnets::lenet();
    let x = Tensor::rand([1, 1, 28, 28]);
    // The walk the PyTorch way: a forward hook on every block prints its
    // output (the top-level ones: paths `0`..`11`), then one forward.
    // `convnets::output_shapes` is the book's loop over the layers.
    let this_thread = std::thread::current().id();
    let hook = register_module_forward_hook(move |block, _, y| {
        let top_level = !block.path().is_empty() && !block.path().contains('.');
        if top_level && std::thread::current().id() == this_thread {
            println!("{}", convnets::shape_line(block.name(), &y.shape()));
        }
        None
    });
    net.forward(&x);
    hook.remove();
    println!("{net}");
}
