//! d2l 6.1: `net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))`,
//! here with the widths in the types, so the compiler checks the chain.
//!
//! Run with `cargo run --example sequential_mlp`.

use blocks::prelude::*;

fn main() {
    manual_seed(0);
    // nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))
    let net = sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()];

    // X = torch.rand(2, 20); net(X)
    let x = Tensor::rand([2, 20]);
    println!("{}", net.forward(&x));
    println!("{net}");
}
