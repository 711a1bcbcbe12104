//! d2l 6.1.1: a custom block, `MLP`, with its own forward.
//!
//! Run with `cargo run --example mlp`.

use blocks::prelude::*;

/// ```python
/// class MLP(nn.Module):
///     def __init__(self):
///         super().__init__()
///         self.hidden = nn.LazyLinear(256)
///         self.out = nn.LazyLinear(10)
///     def forward(self, X):
///         return self.out(F.relu(self.hidden(X)))
/// ```
#[derive(Module)]
#[module(name = "MLP")]
struct Mlp {
    hidden: Linear<20, 256>,
    out: Linear<256, 10>,
}

impl Mlp {
    fn new() -> Self {
        Mlp { hidden: Linear::new(), out: Linear::new() }
    }
}

impl Forward for Mlp {
    type Input = Batch<20>;
    type Output = Batch<10>;

    /// Widths are checked by the compiler: `self.out` takes the 256 features
    /// that `self.hidden` gives.
    fn forward(&self, x: &Batch<20>) -> Batch<10> {
        self.out.forward(&self.hidden.forward(x).relu())
    }
}

fn main() {
    manual_seed(1);
    let net = Mlp::new();
    let x = Batch::<20>::rand(2);
    println!("{}", net.forward(&x));
    println!("{net}");
}
