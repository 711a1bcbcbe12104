//! d2l 6.1.2: `MySequential`, a container written by the user that appends
//! blocks and runs them in order. Its contents are chosen at run time, so it
//! holds `Box<dyn Block>` and widths are checked when it runs.
//!
//! Run with `cargo run --example my_sequential`.

use std::fmt;

use blocks::nn::{Visitor, fmt_module};
use blocks::prelude::*;

/// ```python
/// class MySequential(nn.Module):
///     def __init__(self, *args):
///         super().__init__()
///         for idx, module in enumerate(args):
///             self.add_module(str(idx), module)
///     def forward(self, X):
///         for module in self.children():
///             X = module(X)
///         return X
/// ```
#[derive(Default)]
struct MySequential {
    blocks: Vec<Box<dyn Block>>,
}

impl MySequential {
    fn add(mut self, block: impl Block) -> Self {
        self.blocks.push(Box::new(block));
        self
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        self.blocks.iter().fold(x.clone(), |x, block| block.forward_tensor(&x))
    }
}

/// Registers the blocks as children `0`, `1`, ... (PyTorch's `add_module(str(idx), module)`).
impl Module for MySequential {
    fn type_name(&self) -> String {
        "MySequential".into()
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        for (index, block) in self.blocks.iter().enumerate() {
            visitor.child(&index.to_string(), block.as_dyn());
        }
    }
}

impl fmt::Display for MySequential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_module(self, f)
    }
}

fn main() {
    manual_seed(2);
    let net = MySequential::default().add(Linear::<20, 256>::new()).add(ReLU).add(Linear::<256, 10>::new());
    let x = Tensor::rand([2, 20]);
    println!("{}", net.forward(&x));
    println!("{net}");
    let keys: Vec<String> = net.named_parameters().into_iter().map(|(key, _)| key).collect();
    println!("{keys:?}");
}
