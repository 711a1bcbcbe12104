//! d2l 6.1.2: `MySequential`, a container written by the user that appends
//! blocks and runs them in order. Its contents are chosen at run time, so it
//! holds `Box<dyn Block>` and widths are checked when it runs.
//! `#[module(flatten)]` registers the blocks at `MySequential`'s own level,
//! as PyTorch's `add_module(str(idx), module)` does: keys `0.weight`,
//! `2.bias`, printed as `(0): Linear(...)`.
//!
//! Run with `cargo run --example my_sequential`.

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
#[derive(Module, Default)]
pub struct MySequential {
    #[module(flatten)]
    blocks: Vec<Box<dyn Block>>,
}

impl MySequential {
    /// Appends `block` (PyTorch's `add_module(str(idx), module)`).
    fn add(mut self, block: impl Block) -> Self {
        self.blocks.push(Box::new(block));
        self
    }
}

impl Forward<Tensor> for MySequential {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        self.blocks.iter().fold(x.clone(), |x, block| block.forward_tensor(&x))
    }
}

/// d2l's `net = MySequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))`.
pub fn my_sequential() -> MySequential {
    MySequential::default().add(Linear::<20, 256>::new()).add(ReLU).add(Linear::<256, 10>::new())
}

fn main() {
    manual_seed(2);
    let net = my_sequential();
    let x = Tensor::rand([2, 20]);
    println!("{}", net.forward(&x));
    println!("{net}");
    let keys: Vec<String> = net.named_parameters().into_iter().map(|(key, _)| key).collect();
    println!("{keys:?}");
}
